#!/bin/bash
# studyhost-fetch: mirror a bucket into a folder of the app's state (settings from the environment).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
: "${FETCH_NAME:?}" "${FETCH_SOURCE:?}" "${FETCH_DEST:?}"
# No rclone.conf: the remote is defined by RCLONE_CONFIG_SOURCE_* alone.
rclone=(rclone --config "")
# A sync from an empty listing deletes the whole local copy. An empty bucket or prefix is far more
# likely a mistake (a wrong prefix, an upload in progress) than intended: keep the copy and fail.
listing=$("${rclone[@]}" lsf --max-depth 1 "$FETCH_SOURCE")
if [ -z "$listing" ]; then
  echo "fetch $FETCH_NAME: $FETCH_SOURCE holds nothing; keeping $FETCH_DEST as it is" >&2
  exit 1
fi
mkdir -p "$FETCH_DEST"
"${rclone[@]}" sync --fast-list --stats-one-line --stats-log-level NOTICE --stats 10m "$FETCH_SOURCE" "$FETCH_DEST"
echo "fetch $FETCH_NAME: $FETCH_DEST mirrors $FETCH_SOURCE ($(find "$FETCH_DEST" -type f | wc -l) files)"
