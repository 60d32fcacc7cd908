#!/usr/bin/env bash
# Installs promtool (Prometheus's rule checker), which test/integration/alert-rules.test.ts
# uses to check and unit-test the alert rules the README shows. Debian ships it only
# inside the prometheus package, so, like nginx, the package is downloaded and unpacked
# into .stack/prometheus rather than installed: an installed package would start a
# Prometheus server nobody uses, and would need root. Idempotent. Prints promtool's path
# as its last line.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS_DIR="$STACK_DIR/prometheus"
PROMTOOL_BIN="$PROMETHEUS_DIR/usr/bin/promtool"
# The pinned version when the archive still has it, else the release's current one.
PROMETHEUS_PIN="${DATASHARE_PROMETHEUS_DEB_VERSION:-2.42.0+ds-5+deb12u1}"

if [[ ! -x "$PROMTOOL_BIN" ]]; then
  tmp="$(mktemp -d)"
  chmod 755 "$tmp" # apt's _apt user writes the download there
  fetch() { (cd "$tmp" && apt-get download -qq "$@" >&2 2>/dev/null); }
  if ! fetch "prometheus=$PROMETHEUS_PIN" && ! fetch prometheus; then
    [[ $EUID -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    fetch "prometheus=$PROMETHEUS_PIN" || fetch prometheus || die "apt-get download prometheus failed"
  fi
  rm -rf "$PROMETHEUS_DIR.new" && mkdir -p "$PROMETHEUS_DIR.new"
  dpkg -x "$tmp"/prometheus_*.deb "$PROMETHEUS_DIR.new"
  rm -rf "$tmp" "$PROMETHEUS_DIR" && mv "$PROMETHEUS_DIR.new" "$PROMETHEUS_DIR"
fi
echo "promtool: $("$PROMTOOL_BIN" --version 2>&1 | head -n1) ($PROMTOOL_BIN)" >&2
echo "$PROMTOOL_BIN"
