#!/bin/bash
# studyhost-backup: dump the study's database, check the dump, keep it, prune old ones, copy it offsite.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_ENV:-@@BACKUP_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
backup_start "$partial"
case "$ENGINE" in
  postgres)
    final="$BACKUP_DIR/$NAME-$stamp.dump"
    runuser -u postgres -- pg_dump --format=custom --dbname="$NAME" > "$partial"
    pg_restore --list "$partial" > /dev/null
    ;;
  sqlite)
    final="$BACKUP_DIR/$NAME-$stamp.sqlite3"
    # sqlite3 would create an empty database (and "back it up") if the file were missing. A missing
    # file fails loudly: it cannot be told from a lost one. (An app that keeps its data elsewhere, such
    # as CamCOPS in MariaDB, sets studyhost:database.engine none and has no SQLite backup at all.)
    [ -f "$SQLITE_PATH" ] || { echo "no SQLite database at $SQLITE_PATH" >&2; exit 1; }
    # As the app's user, next to the database: run as root, sqlite3 could leave root-owned -wal and
    # -shm files that the app could then not open.
    staged="$(dirname "$SQLITE_PATH")/.studyhost-backup-$stamp"
    runuser -u "$SQLITE_OWNER" -- sqlite3 "$SQLITE_PATH" ".backup '$staged'"
    mv "$staged" "$partial"
    [ "$(sqlite3 "$partial" 'PRAGMA integrity_check;')" = ok ]
    ;;
  *) echo "unknown engine $ENGINE" >&2; exit 1 ;;
esac
backup_keep "$partial" "$final"
