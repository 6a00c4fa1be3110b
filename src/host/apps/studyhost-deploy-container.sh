#!/bin/bash
# studyhost-deploy-@@APP@@: pull @@APP@@'s image and (re)start it.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
@@VOLUMES@@
printf 'APP_UID=%s\nAPP_GID=%s\n' "$(id -u @@APP@@)" "$(id -g @@APP@@)" > @@DOCKER_USER_ENV@@
@@CONFIG_FILES@@
@@PULL_IMAGE@@
systemctl daemon-reload
systemctl enable @@UNIT@@
systemctl restart @@UNIT@@
