#!/bin/bash
# studyhost-backup-mariadb: dump the MariaDB database (consistent for InnoDB), check it, keep it, prune old ones, copy it offsite.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MARIADB_ENV:-@@MARIADB_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
backup_start "$partial"
final="$BACKUP_DIR/$DATABASE-$stamp.dump"
mariadb-dump --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4 -- "$DATABASE" | gzip > "$partial"
gzip -t "$partial"
# mariadb-dump's last line says it finished: a dump cut short has none.
[[ "$(gunzip -c "$partial" | tail -n 1)" == "-- Dump completed"* ]] || { echo "the dump of $DATABASE is incomplete" >&2; exit 1; }
backup_keep "$partial" "$final"
