#!/bin/bash
# studyhost-restore [--yes] [BACKUP]: put a backup back (the newest if none is named).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_ENV:-@@BACKUP_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
yes=no
if [ "${1:-}" = --yes ]; then yes=yes; shift; fi
file=$(restore_choose "$NAME-*" "${1:-}")
restore_confirm "$yes" "the data of $NAME" "$file"
restore_stop_app
case "$ENGINE" in
  postgres)
    pg_restore --list "$file" > /dev/null
    # A database that is gone (dropped, or a cluster made anew) is first created as provisioning made
    # it, by the same set-up: UTF8 from template0, owned by the app's role, the analyst's grants.
    # Its own statement, so that a server that does not answer stops the restore here (set -e).
    exists=$(runuser -u postgres -- psql --no-psqlrc -XAt -v ON_ERROR_STOP=1 -v name="$NAME" <<< "SELECT 1 FROM pg_database WHERE datname = :'name'")
    if [ -z "$exists" ]; then
      echo "no database $NAME: creating it as provisioning does"
      "${STUDYHOST_POSTGRES_SETUP:-@@POSTGRES_SETUP@@}" "$ROLES_ENV"
    fi
    if [ -z "${APP_UNIT:-}" ]; then
      # The app runs on another machine (two-server's database host), so it cannot be stopped from here:
      # its role may not log in while the restore runs and its sessions end, so nothing it writes mixes
      # with the backup's rows; it logs in again after (as MariaDB's restore locks the app's account).
      app_role_login() { runuser -u postgres -- psql --no-psqlrc -XAtq -v ON_ERROR_STOP=1 -v role="$APP_ROLE" -v login="$1" <<< 'ALTER ROLE :"role" WITH :login;'; }
      app_role_login NOLOGIN
      trap 'app_role_login LOGIN' EXIT
      runuser -u postgres -- psql --no-psqlrc -XAtq -v ON_ERROR_STOP=1 -v role="$APP_ROLE" <<< "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = :'role'" > /dev/null
    fi
    runuser -u postgres -- pg_restore --clean --if-exists --no-owner --role="$APP_ROLE" --single-transaction --exit-on-error --dbname="$NAME" < "$file"
    ;;
  sqlite)
    [ "$(sqlite3 "$file" 'PRAGMA integrity_check;')" = ok ]
    if [ -f "$SQLITE_PATH" ]; then cp -a "$SQLITE_PATH" "$SQLITE_PATH.before-restore"; fi
    install -o "$SQLITE_OWNER" -g "$(id -gn "$SQLITE_OWNER")" -m 0640 "$file" "$SQLITE_PATH"
    rm -f "$SQLITE_PATH-wal" "$SQLITE_PATH-shm"
    ;;
esac
echo "restored $NAME from $file"
