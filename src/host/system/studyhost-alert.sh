#!/bin/bash
# studyhost-alert UNIT: a studyhost job failed. Logs it as an error and runs every hook in /etc/studyhost/alert.d.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
unit="${1:-unknown}"
logger --priority daemon.err --tag studyhost "FAILED: $unit (journalctl -u $unit)"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $unit failed" >> /var/log/studyhost-alerts.log
if [ -d @@ETC@@/alert.d ]; then
  run-parts --arg="$unit" @@ETC@@/alert.d
fi
