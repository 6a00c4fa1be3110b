#!/bin/bash
# runs each backup command given, all of them, and fails at the end if any failed
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
failed=()
for command in "$@"; do
  echo "== $command"
  # shellcheck disable=SC2086 # one command line of studyhost's own words: split on purpose
  if ! $command; then failed+=("$command"); fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'backup failed: %s
' "${failed[@]}" >&2
  exit 1
fi
