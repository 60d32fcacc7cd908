#!/usr/bin/env bash
# Stops the local test stack cleanly. State stays on disk (Postgres data, Temporal's
# sqlite file, ports); moto's state is in memory and is rebuilt by the next start.sh.
# If Postgres ran from its own folder in /var/tmp (see lib.sh), its data dir moves back
# to .stack/pg once it has stopped, and that folder is removed.
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
  pg_locate
  if [[ -z "$pg_bin" || ! -f "$PG_DATA/PG_VERSION" ]] ||
    ! as_pg_user "$pg_bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    echo "postgres: not running"
  else
    # "fast" = roll back open transactions and disconnect clients, no crash recovery next time.
    as_pg_user "$pg_bin/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null
    echo "postgres: stopped"
  fi
  [[ "$PG_DATA" != "$PG_HOME_DATA" ]] && pg_come_home
  return 0
}

# Postgres has stopped (set -e ended this script otherwise): bring its data dir back
# into .stack and remove $PG_AWAY_DIR, entry by entry, so that anything we did not put
# there makes this fail loudly instead of being deleted.
pg_come_home() {
  pg_check_one_data_dir
  # A rename on one filesystem; across two, mv copies, then deletes the source.
  if [[ -e "$PG_DATA" ]]; then mv -T "$PG_DATA" "$PG_HOME_DATA"; fi
  if [[ -d "$PG_SOCKET_DIR" ]]; then
    rm -f "$PG_SOCKET_DIR"/.s.PGSQL.*   # left behind only by a server that crashed
    rmdir "$PG_SOCKET_DIR"
  fi
  rm -f "$PG_AWAY_MARKER"
  rmdir "$PG_AWAY_DIR"
  echo "postgres: data dir moved back to $PG_HOME_DATA; removed $PG_AWAY_DIR"
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
