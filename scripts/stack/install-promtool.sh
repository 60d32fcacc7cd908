#!/usr/bin/env bash
# Installs promtool (Prometheus's rule checker), which test/integration/alert-rules.test.ts
# uses to check and unit-test the alert rules the README shows. Debian ships it only
# inside the prometheus package; that package's server is not started (policy-rc.d
# refuses service starts while it installs) and never used. Idempotent: a no-op when
# promtool is on PATH.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS_DEB_VERSION="${DATASHARE_PROMETHEUS_DEB_VERSION:-2.42.0+ds-5+deb12u1}"

if command -v promtool >/dev/null; then
  echo "promtool: $(promtool --version 2>&1 | head -n1) ($(command -v promtool))"
  exit 0
fi
[[ $EUID -eq 0 ]] || die "need root to apt-get install prometheus (for promtool)"
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# datashare: no service starts while install-promtool.sh runs\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=1
fi
trap '[[ $own_policy == 1 ]] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# The pinned version when the archive still has it, else the release's current one.
apt-get install -y -qq --no-install-recommends "prometheus=$PROMETHEUS_DEB_VERSION" >&2 ||
  apt-get install -y -qq --no-install-recommends prometheus >&2
command -v promtool >/dev/null || die "apt-get installed prometheus but promtool is not on PATH"
echo "promtool: $(promtool --version 2>&1 | head -n1) ($(command -v promtool))"
