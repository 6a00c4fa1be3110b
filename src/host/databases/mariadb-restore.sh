#!/bin/bash
# studyhost-restore-mariadb [--yes] [BACKUP]: put a MariaDB backup back (the newest if none is named).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MARIADB_ENV:-@@MARIADB_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
yes=no
if [ "${1:-}" = --yes ]; then yes=yes; shift; fi
file=$(restore_choose "$DATABASE-*.dump" "${1:-}")
gzip -t "$file"
[[ "$(gunzip -c "$file" | tail -n 1)" == "-- Dump completed"* ]] || { echo "$file is not a complete dump" >&2; exit 1; }
restore_confirm "$yes" "the MariaDB database $DATABASE" "$file"
restore_stop_app
# On a database host the app runs on another machine: its account there is locked and its sessions
# ended for the restore, so no write lands between the dump of what is there and the load, or in it.
if [ -n "${CLIENT_HOST:-}" ]; then
  app_account() { printf "ALTER USER '%s'@'%s' ACCOUNT %s;\n" "$APP_USER" "$CLIENT_HOST" "$1" | mariadb --batch; }
  app_account LOCK
  trap 'app_account UNLOCK' EXIT
  for id in $(mariadb --batch --skip-column-names -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '$APP_USER' AND HOST NOT LIKE 'localhost%'"); do
    mariadb --batch -e "KILL $id;" || true
  done
fi
umask 077
# What is there now is kept (not pruned: not a .dump) until an operator removes it.
before="$BACKUP_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
mariadb-dump --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4 -- "$DATABASE" | gzip > "$before"
# shellcheck disable=SC2016 # backquotes: an SQL identifier, not a command
db=$(printf '`%s`' "$DATABASE")
# The database is recreated empty, so tables made after the backup do not survive it; the users'
# grants are on the database's name and stay.
{
  echo "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE $db;"
  gunzip -c "$file"
} | mariadb --batch --default-character-set=utf8mb4
echo "restored $DATABASE from $file (what was there before: $before)"
