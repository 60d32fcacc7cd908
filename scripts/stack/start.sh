#!/usr/bin/env bash
# Starts the local test stack (PostgreSQL, Temporal dev server, moto with IAM on),
# all on 127.0.0.1, and writes $STACK_DIR/env (sourceable `export K=V` lines).
#
# Idempotent: a service that is already running and healthy is left alone and keeps
# its port; one that is down is (re)started on its previous port if that port is still
# free. So a test can `stop.sh temporal` and then `start.sh` to bounce one service.
# A restarted moto gets the same credentials back (seeded RNG, see moto-bootstrap.py).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t0=$(date +%s.%N)
mkdir -p "$LOG_DIR" "$RUN_DIR"

# Two test runners may call this at once; one at a time. fd 9 is closed for every
# daemon we launch (9>&-), or the daemon would hold the lock forever.
take_lock

bash "$STACK_SCRIPTS_DIR/install.sh" 9>&-   # apt may start daemons; keep the lock fd from them
PG_BIN="$(find_pg_bin)"
PY="$VENV_PY"

# ---------------------------------------------------------------- ports ----------
PG_PORT="" TEMPORAL_PORT="" TEMPORAL_UI_PORT="" MOTO_PORT=""
# shellcheck disable=SC1090
[[ -f "$PORTS_FILE" ]] && source "$PORTS_FILE"

# Another stack on this machine (a second clone, CI) may be starting at the same time,
# and a port the kernel reports free to both would go to whichever binds it first. So
# ports are picked and bound under one machine-wide lock: fd 8, held until we exit and
# closed for every daemon like fd 9 (read-only will do if another user created it).
{ exec 8>>"$PORTS_LOCK_FILE"; } 2>/dev/null || exec 8<"$PORTS_LOCK_FILE"
flock -w "${DATASHARE_STACK_LOCK_TIMEOUT:-300}" 8 ||
  die "another stack's start.sh holds $PORTS_LOCK_FILE for too long (see: fuser -v $PORTS_LOCK_FILE)"

port_free() {  # true if nothing can be listening on 127.0.0.1:$1
  # SO_REUSEADDR as the servers themselves use it: connections of a just-stopped
  # server linger in TIME_WAIT, and they must not push a restart onto another port.
  "$PY" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}
pick_port() {  # a free port the kernel hands out, not one already assigned to us
  local p
  while :; do
    p="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    [[ "$p" != "$PG_PORT" && "$p" != "$TEMPORAL_PORT" && "$p" != "$TEMPORAL_UI_PORT" && "$p" != "$MOTO_PORT" ]] &&
      { echo "$p"; return; }
  done
}
# For a service about to start: keep its stored port if still free, else pick another.
ensure_port() {  # $1 = variable name
  local cur="${!1}"
  if [[ -z "$cur" ]] || ! port_free "$cur"; then
    printf -v "$1" '%s' "$(pick_port)"
  fi
}
save_ports() {
  local tmp="$PORTS_FILE.tmp"
  printf 'PG_PORT=%s\nTEMPORAL_PORT=%s\nTEMPORAL_UI_PORT=%s\nMOTO_PORT=%s\n' \
    "$PG_PORT" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$MOTO_PORT" >"$tmp"
  if cmp -s "$tmp" "$PORTS_FILE"; then rm -f "$tmp"; else mv "$tmp" "$PORTS_FILE"; fi
}

# Waits until "$@" succeeds, up to $WAIT_SECS; fails early if the process in
# pid file $PIDF died (its log then says why).
wait_until() {
  local name="$1" pidf="$2" logf="$3"; shift 3
  local deadline=$(( $(date +%s) + ${WAIT_SECS:-90} ))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$pidf" ]] && ! pid_alive "$pidf"; then
      tail -n 30 "$logf" >&2 || true
      die "$name exited during start-up (log: $logf)"
    fi
    (( $(date +%s) < deadline )) || { tail -n 30 "$logf" >&2 || true; die "$name not ready after ${WAIT_SECS:-90}s (log: $logf)"; }
    sleep 0.3
  done
}

# Launch a daemon: own session (so the caller's Ctrl-C or process-group kill does not
# take it down), no stdin, output to its log, lock fds closed. Records its pid.
launch() {  # $1 = pid file, $2 = log file, rest = command
  local pidf="$1" logf="$2"; shift 2
  setsid "$@" </dev/null >>"$logf" 2>&1 8>&- 9>&- &
  echo $! >"$pidf"
}

# ------------------------------------------------------------- postgres ---------
pg_ctl_() { as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }
psql_() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

ensure_pg_user() {
  [[ $EUID -eq 0 ]] || return 0
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
}

# Where Postgres's data dir and socket dir go: $PG_AWAY_DIR if it is there already (this
# stack's Postgres ran from it and did not stop cleanly), or if $PG_OS_USER cannot reach
# $STACK_DIR (see lib.sh); else .stack. The data dir moves along if there is one yet.
pg_place() {
  pg_locate
  if [[ "$PG_DATA" == "$PG_HOME_DATA" ]]; then
    [[ $EUID -eq 0 ]] || return 0
    as_pg_user test -x "$STACK_DIR" && return 0
    mkdir -m 700 "$PG_AWAY_DIR"   # fails if anything appeared there meanwhile: never adopt it
    printf '%s\n' "$STACK_DIR_PHYS" >"$PG_AWAY_MARKER"
    mkdir -m 700 "$PG_AWAY_DIR/socket"
    chown "$PG_OS_USER:" "$PG_AWAY_DIR" "$PG_AWAY_DIR/socket"
    pg_locate
    log "stack: postgres: user $PG_OS_USER cannot reach $STACK_DIR (a parent dir is not world-executable), so its data dir and socket are in $PG_AWAY_DIR while it runs; stack:stop moves the data back and removes that dir"
  fi
  pg_check_one_data_dir
  # A rename on one filesystem; across two, mv copies, then deletes the source.
  if [[ -e "$PG_HOME_DATA" ]]; then mv -T "$PG_HOME_DATA" "$PG_DATA"; fi
}

start_postgres() {
  local pg_log="$LOG_DIR/postgres.log"
  pg_locate
  if [[ -n "$PG_PORT" && -f "$PG_DATA/PG_VERSION" ]] && pg_ctl_ status >/dev/null 2>&1 && pg_ready; then
    echo "postgres: already running on 127.0.0.1:$PG_PORT"
    return
  fi
  ensure_pg_user
  if pg_ctl_ status >/dev/null 2>&1; then
    pg_ctl_ stop -m fast -w >/dev/null 2>&1 || true   # running but unreachable: restart it
  fi
  pg_place
  ensure_port PG_PORT
  mkdir -p "$PG_DATA" "$PG_SOCKET_DIR"
  touch "$pg_log"
  if [[ $EUID -eq 0 ]]; then chown "$PG_OS_USER" "$PG_DATA" "$PG_SOCKET_DIR"; fi
  chmod 700 "$PG_DATA"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    # Trust auth, superuser named postgres: this is a throwaway local test database.
    as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --no-locale >>"$pg_log" 2>&1 ||
      { tail -n 20 "$pg_log" >&2; die "initdb failed"; }
    echo "include_if_exists = 'datashare.conf'" >>"$PG_DATA/postgresql.conf"
  fi
  # Settings that depend on this start (port, socket dir) are rewritten every start;
  # durability is off because the data is disposable and speed matters on 2 cores.
  cat >"$PG_DATA/datashare.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
EOF
  if [[ $EUID -eq 0 ]]; then chown "$PG_OS_USER" "$PG_DATA/datashare.conf"; fi
  # No -l: the server writes to the output pg_ctl passes on, the log file opened here,
  # so the log stays in $LOG_DIR even where $PG_OS_USER could not open it by name.
  # 8>&- 9>&-: pg_ctl's postmaster would otherwise inherit (and forever hold) the locks.
  pg_ctl_ start -w -t 60 >>"$pg_log" 2>&1 8>&- 9>&- ||
    { tail -n 20 "$pg_log" >&2; die "postgres failed to start (log: $pg_log)"; }
  wait_until postgres "" "$pg_log" pg_ready
  echo "postgres: started on 127.0.0.1:$PG_PORT"
}

ensure_database() {
  if [[ "$(psql_ -d postgres -tAc "select 1 from pg_database where datname = 'datashare'")" != 1 ]]; then
    psql_ -d postgres -c "create database datashare"
  fi
}

# ------------------------------------------------------------- temporal ---------
temporal_() { "$TEMPORAL_BIN" "$@" --address "127.0.0.1:$TEMPORAL_PORT" --command-timeout 5s; }
temporal_ready() {
  temporal_ operator cluster health | grep -q SERVING &&
    temporal_ operator namespace describe --namespace default >/dev/null
}

ui_ready() {
  "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$TEMPORAL_UI_PORT/"
}

start_temporal() {
  local logf="$LOG_DIR/temporal.log"
  if [[ -n "$TEMPORAL_PORT" ]] && pid_alive "$TEMPORAL_PIDFILE" && temporal_ready >/dev/null 2>&1; then
    echo "temporal: already running on 127.0.0.1:$TEMPORAL_PORT"
    # One started by an older start.sh runs --headless and recorded no UI port.
    [[ -n "$TEMPORAL_UI_PORT" ]] ||
      log "stack: temporal: this server was started without its web UI; restart it for one: bash scripts/stack/stop.sh temporal && npm run stack:start"
    return
  fi
  stop_pidfile temporal "$TEMPORAL_PIDFILE" >/dev/null   # a hung leftover, if any
  ensure_port TEMPORAL_PORT
  ensure_port TEMPORAL_UI_PORT
  # The web UI gets a loopback port of its own (idle, it costs next to nothing). HTTP
  # API and metrics ports are picked at random by the CLI itself. The sqlite file keeps
  # history across restarts.
  launch "$TEMPORAL_PIDFILE" "$logf" "$TEMPORAL_BIN" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" --db-filename "$TEMPORAL_DB" \
    --log-level error
  wait_until temporal "$TEMPORAL_PIDFILE" "$logf" temporal_ready
  wait_until "temporal web UI" "$TEMPORAL_PIDFILE" "$logf" ui_ready
  echo "temporal: started on 127.0.0.1:$TEMPORAL_PORT, web UI on 127.0.0.1:$TEMPORAL_UI_PORT"
}

# ----------------------------------------------------------------- moto ---------
moto_ping() {
  "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$MOTO_PORT/moto-api/"
}
# Bootstrapped = the marker names the pid of the moto that is running now.
moto_bootstrapped() {
  [[ -f "$MOTO_BOOTSTRAPPED_FILE" && -f "$MOTO_CREDS_FILE" ]] &&
    [[ "$(cat "$MOTO_BOOTSTRAPPED_FILE")" == "$(cat "$MOTO_PIDFILE" 2>/dev/null)" ]]
}

start_moto() {
  local logf="$LOG_DIR/moto.log"
  if [[ -n "$MOTO_PORT" ]] && pid_alive "$MOTO_PIDFILE" && moto_bootstrapped && moto_ping >/dev/null 2>&1; then
    echo "moto:     already running on 127.0.0.1:$MOTO_PORT"
    return
  fi
  stop_pidfile moto "$MOTO_PIDFILE" >/dev/null   # also drops a moto whose bootstrap never finished
  rm -f "$MOTO_BOOTSTRAPPED_FILE"
  ensure_port MOTO_PORT
  # Auth starts off (INITIAL_NO_AUTH_ACTION_COUNT unset = infinite) so the bootstrap can
  # create identities; the bootstrap switches enforcement on at its end.
  launch "$MOTO_PIDFILE" "$logf" env -u INITIAL_NO_AUTH_ACTION_COUNT -u MOTO_ACCOUNT_ID \
    PYTHONUNBUFFERED=1 "$MOTO_BIN" -H 127.0.0.1 -p "$MOTO_PORT"
  wait_until moto "$MOTO_PIDFILE" "$logf" moto_ping
  "$PY" "$STACK_SCRIPTS_DIR/moto-bootstrap.py" --endpoint "http://127.0.0.1:$MOTO_PORT" --out "$MOTO_CREDS_FILE" ||
    die "moto bootstrap failed (log: $logf)"
  cat "$MOTO_PIDFILE" >"$MOTO_BOOTSTRAPPED_FILE"
  echo "moto:     started on 127.0.0.1:$MOTO_PORT (IAM enforcement on)"
}

start_postgres
ensure_database
start_temporal
start_moto
save_ports

# -------------------------------------------------------------- env file --------
# shellcheck disable=SC1090
source "$MOTO_CREDS_FILE"
moto_url="http://127.0.0.1:$MOTO_PORT"
# The key webhook signing secrets are encrypted under (README, Operations): made once per
# stack and kept, so secrets stored earlier still open after a restart.
secret_key_file="$STACK_DIR/secret-key"
if [[ ! -s "$secret_key_file" ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$secret_key_file")
fi
env_vars=(
  DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/datashare"
  TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
  TEMPORAL_NAMESPACE=default
  AWS_ENDPOINT_URL="$moto_url"
  MOTO_URL="$moto_url"
  AWS_REGION=us-east-1
  AWS_DEFAULT_REGION=us-east-1
  AWS_EC2_METADATA_DISABLED=true      # keep SDKs from probing the instance metadata service
  AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
  AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
  DATASHARE_ADMIN_ACCESS_KEY_ID="$DATASHARE_ADMIN_ACCESS_KEY_ID"
  DATASHARE_ADMIN_SECRET_ACCESS_KEY="$DATASHARE_ADMIN_SECRET_ACCESS_KEY"
  DATASHARE_ACCOUNT_ID="$DATASHARE_ACCOUNT_ID"
  DATASHARE_ADMIN_ARN="$DATASHARE_ADMIN_ARN"
  DATASHARE_SHARER_ARN="$DATASHARE_SHARER_ARN"
  DATASHARE_OTHER_ACCOUNT_ID="$DATASHARE_OTHER_ACCOUNT_ID"
  DATASHARE_OTHER_ADMIN_ROLE_ARN="$DATASHARE_OTHER_ADMIN_ROLE_ARN"
  DATASHARE_STACK_DIR="$STACK_DIR"
  DATASHARE_STACK_START="$STACK_SCRIPTS_DIR/start.sh"
  DATASHARE_STACK_STOP="$STACK_SCRIPTS_DIR/stop.sh"
  TEMPORAL_CLI="$TEMPORAL_BIN"
  TEMPORAL_PORT="$TEMPORAL_PORT"
  DATASHARE_TEMPORAL_UI_URL="${TEMPORAL_UI_PORT:+http://127.0.0.1:$TEMPORAL_UI_PORT}"
  TEMPORAL_PIDFILE="$TEMPORAL_PIDFILE"
  TEMPORAL_DB="$TEMPORAL_DB"
  MOTO_PORT="$MOTO_PORT"
  MOTO_PIDFILE="$MOTO_PIDFILE"
  PG_BIN="$PG_BIN"
  PG_DATA="$PG_DATA"
  PG_PORT="$PG_PORT"
  PG_PIDFILE="$PG_PIDFILE"
  PG_SOCKET_DIR="$PG_SOCKET_DIR"
  PG_OS_USER="$PG_OS_USER"
  STACK_LOG_DIR="$LOG_DIR"
  DATASHARE_SECRET_KEY="$(cat "$secret_key_file")"
)
tmp_env="$ENV_FILE.tmp"
for kv in "${env_vars[@]}"; do
  printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
done >"$tmp_env"
# Rewrite only on change, so a warm run leaves the file (and its mtime) alone.
if cmp -s "$tmp_env" "$ENV_FILE"; then
  rm -f "$tmp_env"
  echo "env:      $ENV_FILE (unchanged)"
else
  mv "$tmp_env" "$ENV_FILE"
  echo "env:      $ENV_FILE (written)"
fi
[[ -z "$TEMPORAL_UI_PORT" ]] || echo "web UI:   http://127.0.0.1:$TEMPORAL_UI_PORT (Temporal)"
awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "stack:    ready in %.1fs\n", t1 - t0 }'
