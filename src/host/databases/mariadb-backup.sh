#!/bin/bash
# studyhost-backup-mariadb: dump the MariaDB database (consistent for InnoDB), check it, keep it, prune old ones, copy it offsite.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MARIADB_ENV:-@@MARIADB_ENV@@}"
prune="${STUDYHOST_PRUNE:-@@PRUNE_SCRIPT@@}"
umask 077
install -d -m 0700 "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
trap 'rm -f "$partial"' EXIT
final="$BACKUP_DIR/$DATABASE-$stamp.dump"
mariadb-dump --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4 -- "$DATABASE" | gzip > "$partial"
gzip -t "$partial"
# mariadb-dump's last line says it finished: a dump cut short has none.
[[ "$(gunzip -c "$partial" | tail -n 1)" == "-- Dump completed"* ]] || { echo "the dump of $DATABASE is incomplete" >&2; exit 1; }
mv "$partial" "$final"
echo "backup written: $final ($(stat -c %s "$final") bytes)"
"$prune" "$BACKUP_DIR" --daily "$KEEP_DAILY" --weekly "$KEEP_WEEKLY" --monthly "$KEEP_MONTHLY"
if [ -f @@OFFSITE_ENV@@ ]; then
  # rclone reads its remote from RCLONE_CONFIG_OFFSITE_* in this root-only file.
  set -a
  # shellcheck source=/dev/null
  . @@OFFSITE_ENV@@
  set +a
  rclone copyto "$final" "offsite:$OFFSITE_BUCKET/$(hostname)/$(basename "$final")"
  echo "copied offsite to $OFFSITE_BUCKET"
fi
