#!/usr/bin/env bash
# Stops the local test stack cleanly. State stays on disk (Postgres data, Temporal's
# sqlite file, ports); moto's state is in memory and is rebuilt by the next start.sh.
#
#   stop.sh                    stop all three
#   stop.sh temporal moto      stop only those (e.g. to test reconnects; start.sh
#                              brings them back on the same ports)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

services=("$@")
(( ${#services[@]} )) || services=(moto temporal postgres)

# Same lock as start.sh, so a stop never interleaves with a start.
take_lock

stop_postgres() {
  local pg_bin
  pg_bin="$(find_pg_bin)"
  if [[ -z "$pg_bin" || ! -f "$PG_DATA/PG_VERSION" ]] ||
    ! as_pg_user "$pg_bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    echo "postgres: not running"
    return
  fi
  # "fast" = roll back open transactions and disconnect clients, no crash recovery next time.
  as_pg_user "$pg_bin/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null
  echo "postgres: stopped"
}

for s in "${services[@]}"; do
  case "$s" in
    moto)
      stop_pidfile moto "$MOTO_PIDFILE"
      rm -f "$MOTO_BOOTSTRAPPED_FILE"
      ;;
    temporal) stop_pidfile temporal "$TEMPORAL_PIDFILE" ;;
    postgres | pg) stop_postgres ;;
    *) die "unknown service '$s' (expected: postgres, temporal, moto)" ;;
  esac
done
