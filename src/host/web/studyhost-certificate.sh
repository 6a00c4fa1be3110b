#!/bin/bash
# studyhost-certificate: get each site's certificate from the ACME server, then serve the site over https.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
@@CA_BUNDLE@@
changed=no
failed=()
@@SITES@@
# Once every site serves https this is a no-op: renewals are certbot's own timer's job.
if [ "$changed" = yes ]; then
  nginx -t -q
  systemctl reload nginx.service
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "studyhost-certificate: FAILED for ${failed[*]}; the timer retries" >&2
  exit 1
fi
