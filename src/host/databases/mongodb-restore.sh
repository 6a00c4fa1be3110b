#!/bin/bash
# studyhost-restore-mongodb [--yes] [BACKUP]: put a MongoDB backup back (the newest if none is named).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MONGODB_ENV:-@@BACKUP_ENV@@}"
# shellcheck source=/dev/null
. "${STUDYHOST_BACKUP_LIB:-@@BACKUP_LIB@@}"
yes=no
if [ "${1:-}" = --yes ]; then yes=yes; shift; fi
file=$(restore_choose "$DATABASE-*.dump" "${1:-}")
docker exec -i @@CONTAINER@@ mongorestore @@TOOLS_OPTIONS@@ --archive --gzip --dryRun --quiet < "$file"
restore_confirm "$yes" "the MongoDB database $DATABASE" "$file"
restore_stop_app
umask 077
# What is there now is kept (not pruned: not a .dump) until an operator removes it.
before="$BACKUP_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
docker exec @@CONTAINER@@ mongodump @@TOOLS_OPTIONS@@ --db="$DATABASE" --archive --gzip > "$before"
docker exec @@CONTAINER@@ mongosh --quiet --norc --file @@ETC_IN_CONTAINER@@/drop.js
docker exec -i @@CONTAINER@@ mongorestore @@TOOLS_OPTIONS@@ --archive --gzip --nsInclude="$DATABASE.*" < "$file"
docker exec @@CONTAINER@@ mongosh --quiet --norc --file @@ETC_IN_CONTAINER@@/setup.js
echo "restored $DATABASE from $file (what was there before: $before)"
