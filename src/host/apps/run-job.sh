#!/bin/bash
# run-job LOG SCRIPT: run a scheduled job's SCRIPT; its output goes to the journal and is appended to LOG; its exit status is the job's.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
log="$1"
job="$2"
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
echo "== $(stamp) $job started" | tee -a "$log"
set +e
bash "$job" 2>&1 | tee -a "$log"
status="${PIPESTATUS[0]}"
set -e
echo "== $(stamp) $job finished with exit status $status" | tee -a "$log"
exit "$status"
