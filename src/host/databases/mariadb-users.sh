#!/bin/bash
# studyhost-mariadb-users: the study's MariaDB database, its app user and its read-only analyst user.
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
# shellcheck source=/dev/null
. "${STUDYHOST_MARIADB_ENV:-@@MARIADB_ENV@@}"
lit() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }
# The database's name is a slug (letters, digits, _: studyhost's config allows nothing else).
# shellcheck disable=SC2016 # backquotes: an SQL identifier, not a command
db=$(printf '`%s`' "$DATABASE")
{
  echo "CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  # mariadb-install-db's anonymous accounts and test database: nobody logs in without a name.
  echo "DELETE FROM mysql.global_priv WHERE User = '';"
  echo "DROP DATABASE IF EXISTS test;"
  echo "DELETE FROM mysql.db WHERE Db = 'test' OR Db = 'test\\_%';"
  echo "FLUSH PRIVILEGES;"
  # Accounts left from an earlier set-up (another network): dropped.
  while IFS=$'\t' read -r user host; do
    [ -n "$user" ] || continue
    case "$host" in localhost | 127.0.0.1) continue ;; esac
    [ "$user" = "$APP_USER" ] && [ "$host" = "${CLIENT_HOST:-}" ] && continue
    echo "DROP USER $(lit "$user")@$(lit "$host");"
  done < <(mariadb --batch --skip-column-names -e "SELECT User, Host FROM mysql.global_priv WHERE User IN ($(lit "$APP_USER"), $(lit "$ANALYST_USER"))")
  account() { # name password privileges host [REQUIRE ...]
    local who
    who="$(lit "$1")@$(lit "$4")"
    echo "CREATE USER IF NOT EXISTS $who IDENTIFIED BY $(lit "$2");"
    echo "ALTER USER $who IDENTIFIED BY $(lit "$2")${5:+ $5};"
    echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM $who;"
    echo "GRANT $3 ON $db.* TO $who;"
  }
  for host in localhost 127.0.0.1; do
    account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$host"
    account "$ANALYST_USER" "$ANALYST_PASSWORD" SELECT "$host"
  done
  if [ -n "${CLIENT_HOST:-}" ]; then account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$CLIENT_HOST" "REQUIRE SSL"; fi
} | mariadb --batch
