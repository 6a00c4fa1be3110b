#!/bin/bash
# studyhost-restore-mongodb [--yes] [BACKUP]: put a MongoDB backup back (the newest if none is named).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MONGODB_ENV:-@@BACKUP_ENV@@}"
yes=no
if [ "${1:-}" = --yes ]; then yes=yes; shift; fi
file="${1:-$(find "$BACKUP_DIR" -maxdepth 1 -name "$DATABASE-*.dump" -printf '%f\n' | sort | tail -n 1)}"
[ -n "$file" ] || { echo "no backup in $BACKUP_DIR" >&2; exit 1; }
case "$file" in /*) ;; *) file="$BACKUP_DIR/$file" ;; esac
[ -f "$file" ] || { echo "no such backup: $file" >&2; exit 1; }
docker exec -i @@CONTAINER@@ mongorestore @@TOOLS_OPTIONS@@ --archive --gzip --dryRun --quiet < "$file"
if [ "$yes" != yes ]; then
  read -r -p "Replace the MongoDB database $DATABASE with $file? Type yes: " answer
  [ "$answer" = yes ] || { echo "nothing restored"; exit 1; }
fi
if [ -n "${APP_UNIT:-}" ]; then systemctl stop "$APP_UNIT"; trap 'systemctl start "$APP_UNIT"' EXIT; fi
umask 077
# What is there now is kept (not pruned: not a .dump) until an operator removes it.
before="$BACKUP_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
docker exec @@CONTAINER@@ mongodump @@TOOLS_OPTIONS@@ --db="$DATABASE" --archive --gzip > "$before"
docker exec @@CONTAINER@@ mongosh --quiet --norc --file @@ETC_IN_CONTAINER@@/drop.js
docker exec -i @@CONTAINER@@ mongorestore @@TOOLS_OPTIONS@@ --archive --gzip --nsInclude="$DATABASE.*" < "$file"
docker exec @@CONTAINER@@ mongosh --quiet --norc --file @@ETC_IN_CONTAINER@@/setup.js
echo "restored $DATABASE from $file (what was there before: $before)"
