#!/bin/bash
# studyhost-deploy-@@APP@@: install @@APP@@ at its configured version, run its setup and migrations, (re)start it.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
[ -x @@VENV@@/bin/python ] || @@AS_APP@@ python3 -m venv@@SYSTEM_SITE_PACKAGES@@ @@VENV@@
@@INSTALL@@
@@PACKAGES@@
@@CONFIG_FILES@@
@@FRONTEND@@
set -a
# shellcheck source=/dev/null
. @@ENV_FILE@@
set +a
if [ ! -f @@STATE_DIR@@/.studyhost-setup-done ]; then
@@SETUP@@
  touch @@STATE_DIR@@/.studyhost-setup-done
fi
@@MIGRATE@@
systemctl daemon-reload
systemctl enable @@UNIT@@
systemctl restart @@UNIT@@
