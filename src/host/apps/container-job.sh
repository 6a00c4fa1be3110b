#!/bin/bash
# studyhost job @@JOB@@ (studyhost:jobs.@@INDEX@@.command), run in a container of @@APP@@'s image by @@UNIT@@.service.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# APP_UID and APP_GID come from @@DOCKER_USER_ENV@@, through the unit.
# The image's entrypoint is replaced by sh, so that the command runs as written.
exec /usr/bin/docker run --rm --name @@UNIT@@ --user "${APP_UID:?}:${APP_GID:?}" @@RUN_OPTIONS@@ --entrypoint /bin/sh @@IMAGE@@ -c @@COMMAND@@
