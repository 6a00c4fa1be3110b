#!/bin/bash
# studyhost-postgres-setup ROLES_FILE: create or update one database and its two roles (setup.sql, idempotent).
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
set -a
# shellcheck source=/dev/null
. "$1"
set +a
# The values travel in the environment (read by setup.sql's \getenv), never on a command line that
# any local user could read in /proc while psql runs.
runuser -u postgres -- psql --no-psqlrc --quiet -f @@POSTGRES_ETC@@/setup.sql
