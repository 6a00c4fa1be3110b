#!/bin/bash
# studyhost-backup-mongodb: dump the MongoDB database in its container, check it, keep it, prune old ones, copy it offsite.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MONGODB_ENV:-@@BACKUP_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
backup_start "$partial"
final="$BACKUP_DIR/$DATABASE-$stamp.dump"
docker exec @@CONTAINER@@ mongodump @@TOOLS_OPTIONS@@ --db="$DATABASE" --archive --gzip > "$partial"
[ -s "$partial" ] || { echo "the dump of $DATABASE is empty" >&2; exit 1; }
# Read back by mongorestore without writing anything.
docker exec -i @@CONTAINER@@ mongorestore @@TOOLS_OPTIONS@@ --archive --gzip --dryRun --quiet < "$partial"
backup_keep "$partial" "$final"
