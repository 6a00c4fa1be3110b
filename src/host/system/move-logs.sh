#!/bin/bash
# studyhost-move-logs FOLDER TARGET: move what the boot disk holds in FOLDER (under any mount on it) into TARGET.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
folder="$1"
target="$2"
parent=$(findmnt -n -o TARGET --target "$(dirname "$folder")")
if [ "$parent" = / ]; then relative="$folder"; else relative="${folder#"$parent"}"; fi
under=$(mktemp -d)
trap 'rmdir "$under"' EXIT
# shellcheck disable=SC2016 # expanded by the inner bash
unshare --mount --propagation private bash -c '
  set -euo pipefail
  mount --bind "$1" "$2"
  cd "$2$3" 2>/dev/null || exit 0
  find . -type f -name "*.log" -printf "%P\0" | while IFS= read -r -d "" f; do
    if [ -f "$4/$f" ]; then cat -- "$f" >> "$4/$f" && rm -f -- "$f"; fi
  done
  cp -a --backup=numbered . "$4/"
  find . -mindepth 1 -delete
' studyhost-move-logs "$parent" "$under" "$relative" "$target"
