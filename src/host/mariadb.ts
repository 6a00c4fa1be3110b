// MariaDB from the distribution, an accessory database on the app host (seed 001, CamCOPS: MySQL with
// an app user limited to its database and a read-only user, backups pruned daily / weekly / monthly).
// Its data lives on the data volume (/var/lib/studyhost/mariadb), not where Debian's package puts it:
// the package's postinst initialises /var/lib/mysql on the boot disk at install time (its path is
// fixed there) and starts the server; the provisioning step then points the server at the volume,
// initialising it once or adopting the data a replaced machine left there, so every later boot and
// re-run finds it as it was. It listens on 127.0.0.1 only, with utf8mb4.
import { configFile, HostPart, PATHS, script, secretFile } from "./part";
import { bashScript } from "./shell";
import { envFile } from "./env";
import { BACKUP_FINISH, BACKUP_START, pickBackup } from "./backup";

export interface MariadbUsers {
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
  readonly analystUser: string;
  readonly analystPassword: string;
}

export interface MariadbInput {
  readonly users: MariadbUsers;
  /** The retention the host's other backups keep. */
  readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
  /** The app's unit, stopped during a restore. */
  readonly appUnit?: string;
}

export const MARIADB = {
  datadir: `${PATHS.data}/mariadb`,
  etc: `${PATHS.etc}/mariadb`,
  /** Root-only: the users' names and passwords, and the backup settings. */
  env: `${PATHS.etc}/mariadb.env`,
  backups: `${PATHS.backups}/mariadb`,
  port: 3306,
  setup: `${PATHS.sbin}/studyhost-mariadb-datadir`,
  users: `${PATHS.sbin}/studyhost-mariadb-users`,
  backup: `${PATHS.sbin}/studyhost-backup-mariadb`,
  restore: `${PATHS.sbin}/studyhost-restore-mariadb`,
} as const;

/** The server's settings, installed into /etc/mysql/mariadb.conf.d after Debian's own (50-server.cnf). */
export const MARIADB_CNF = `# studyhost: the data volume, loopback only, utf8mb4.
[mysqld]
datadir = ${MARIADB.datadir}
bind-address = 127.0.0.1
port = ${MARIADB.port}
# Accounts are matched by address ('127.0.0.1' over TCP, 'localhost' on the socket), never by DNS.
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
local-infile = 0
symbolic-links = 0

[client]
default-character-set = utf8mb4
`;

/**
 * Users and database, idempotent (run at every provisioning). The SQL goes to the client on stdin, so
 * no password is ever on a command line; values are quoted as MariaDB string literals (backslash and
 * quote escaped), names as identifiers. Each user exists at 'localhost' (the socket) and '127.0.0.1'
 * (TCP, the app's URL), with exactly its privileges: everything on its database for the app (no GRANT
 * OPTION, nothing elsewhere), SELECT on it for the analyst.
 */
export const MARIADB_USERS_SH = bashScript(
  "studyhost-mariadb-users: the study's MariaDB database, its app user and its read-only analyst user.",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_MARIADB_ENV:-${MARIADB.env}}"
lit() { local s=\${1//\\\\/\\\\\\\\}; s=\${s//\\'/\\\\\\'}; printf "'%s'" "$s"; }
# The database's name is a slug (letters, digits, _: studyhost's config allows nothing else).
# shellcheck disable=SC2016 # backquotes: an SQL identifier, not a command
db=$(printf '\`%s\`' "$DATABASE")
{
  echo "CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  # mariadb-install-db's anonymous accounts and test database: nobody logs in without a name.
  echo "DELETE FROM mysql.global_priv WHERE User = '';"
  echo "DROP DATABASE IF EXISTS test;"
  echo "DELETE FROM mysql.db WHERE Db = 'test' OR Db = 'test\\\\_%';"
  echo "FLUSH PRIVILEGES;"
  for host in localhost 127.0.0.1; do
    app="$(lit "$APP_USER")@'$host'"
    analyst="$(lit "$ANALYST_USER")@'$host'"
    echo "CREATE USER IF NOT EXISTS $app IDENTIFIED BY $(lit "$APP_PASSWORD");"
    echo "ALTER USER $app IDENTIFIED BY $(lit "$APP_PASSWORD");"
    echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM $app;"
    echo "GRANT ALL PRIVILEGES ON $db.* TO $app;"
    echo "CREATE USER IF NOT EXISTS $analyst IDENTIFIED BY $(lit "$ANALYST_PASSWORD");"
    echo "ALTER USER $analyst IDENTIFIED BY $(lit "$ANALYST_PASSWORD");"
    echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM $analyst;"
    echo "GRANT SELECT ON $db.* TO $analyst;"
  done
} | mariadb --batch
`,
);

/** The data directory on the volume: created once (atomically), or adopted; then the server started on it. */
export const MARIADB_DATADIR_SH = bashScript(
  "studyhost-mariadb-datadir: MariaDB's data on the data volume, created or adopted; the server started on it.",
  `
datadir=${MARIADB.datadir}
mountpoint -q ${PATHS.data} || { echo "the data volume is not mounted on ${PATHS.data}: refusing to create MariaDB's data on the boot disk" >&2; exit 1; }
install -o root -g root -m 0644 ${MARIADB.etc}/studyhost.cnf /etc/mysql/mariadb.conf.d/60-studyhost.cnf
if [ -d "$datadir/mysql" ]; then
  echo "MariaDB's data is on the data volume: using it"
else
  if [ -e "$datadir" ] && [ -n "$(find "$datadir" -mindepth 1 -print -quit)" ]; then
    echo "$datadir holds files but no MariaDB system database: not initialising over them" >&2
    exit 1
  fi
  # Debian's package started a server on /var/lib/mysql (left there, unused): stop it first.
  systemctl stop mariadb.service
  # Into a new folder, moved into place only when complete: a failed run leaves nothing half-made.
  rm -rf "$datadir.new"
  install -d -o mysql -g mysql -m 0750 "$datadir.new"
  mariadb-install-db --user=mysql --datadir="$datadir.new" --auth-root-authentication-method=socket --skip-test-db > /dev/null
  rm -rf "$datadir"
  mv "$datadir.new" "$datadir"
  echo "created MariaDB's data in $datadir"
fi
# A volume from a replaced machine: its files carry the old machine's uid for mysql.
if [ -n "$(find "$datadir" ! -user mysql -print -quit)" ]; then chown -R mysql:mysql "$datadir"; fi
chmod 0750 "$datadir"
systemctl daemon-reload
systemctl enable mariadb.service
systemctl restart mariadb.service
${MARIADB.users}
`,
);

/** A gzip'd SQL dump named <database>-<stamp>.dump (the name the shared pruning recognises), checked before it counts. */
export const MARIADB_BACKUP_SH = bashScript(
  "studyhost-backup-mariadb: dump the MariaDB database (consistent for InnoDB), check it, keep it, prune old ones, copy it offsite.",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_MARIADB_ENV:-${MARIADB.env}}"
${BACKUP_START}final="$BACKUP_DIR/$DATABASE-$stamp.dump"
mariadb-dump --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4 -- "$DATABASE" | gzip > "$partial"
gzip -t "$partial"
# mariadb-dump's last line says it finished: a dump cut short has none.
[[ "$(gunzip -c "$partial" | tail -n 1)" == "-- Dump completed"* ]] || { echo "the dump of $DATABASE is incomplete" >&2; exit 1; }
${BACKUP_FINISH}
`,
);

export const MARIADB_RESTORE_SH = bashScript(
  "studyhost-restore-mariadb [--yes] [BACKUP]: put a MariaDB backup back (the newest if none is named).",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_MARIADB_ENV:-${MARIADB.env}}"
yes=no
if [ "\${1:-}" = --yes ]; then yes=yes; shift; fi
${pickBackup("$DATABASE-*.dump")}
gzip -t "$file"
[[ "$(gunzip -c "$file" | tail -n 1)" == "-- Dump completed"* ]] || { echo "$file is not a complete dump" >&2; exit 1; }
if [ "$yes" != yes ]; then
  read -r -p "Replace the MariaDB database $DATABASE with $file? Type yes: " answer
  [ "$answer" = yes ] || { echo "nothing restored"; exit 1; }
fi
if [ -n "\${APP_UNIT:-}" ]; then systemctl stop "$APP_UNIT"; trap 'systemctl start "$APP_UNIT"' EXIT; fi
umask 077
# What is there now is kept (not pruned: not a .dump) until an operator removes it.
before="$BACKUP_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
mariadb-dump --single-transaction --routines --triggers --events --hex-blob --default-character-set=utf8mb4 -- "$DATABASE" | gzip > "$before"
# shellcheck disable=SC2016 # backquotes: an SQL identifier, not a command
db=$(printf '\`%s\`' "$DATABASE")
# The database is recreated empty, so tables made after the backup do not survive it; the users'
# grants are on the database's name and stay.
{
  echo "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE $db;"
  gunzip -c "$file"
} | mariadb --batch --default-character-set=utf8mb4
echo "restored $DATABASE from $file (what was there before: $before)"
`,
);

export function mariadbPart(input: MariadbInput): HostPart {
  const u = input.users;
  return {
    packages: ["mariadb-server", "mariadb-client"],
    files: [
      configFile(`${MARIADB.etc}/studyhost.cnf`, MARIADB_CNF),
      // The distribution's unit knows nothing of the data volume.
      configFile(`${PATHS.units}/mariadb.service.d/studyhost.conf`, `[Unit]\nRequiresMountsFor=${PATHS.data}\n`),
      secretFile(
        MARIADB.env,
        envFile({
          DATABASE: u.database,
          APP_USER: u.appUser,
          APP_PASSWORD: u.appPassword,
          ANALYST_USER: u.analystUser,
          ANALYST_PASSWORD: u.analystPassword,
          BACKUP_DIR: MARIADB.backups,
          KEEP_DAILY: String(input.keep.daily),
          KEEP_WEEKLY: String(input.keep.weekly),
          KEEP_MONTHLY: String(input.keep.monthly),
          APP_UNIT: input.appUnit ?? "",
        }),
      ),
      script(MARIADB.setup, MARIADB_DATADIR_SH),
      script(MARIADB.users, MARIADB_USERS_SH),
      script(MARIADB.backup, MARIADB_BACKUP_SH),
      script(MARIADB.restore, MARIADB_RESTORE_SH),
    ],
    steps: [{ name: "mariadb", script: MARIADB.setup }],
  };
}

/** The app's URL (SQLAlchemy's form with PyMySQL; other drivers take the same parts). */
export function mariadbUrl(u: Pick<MariadbUsers, "appUser" | "appPassword" | "database">): string {
  return `mysql+pymysql://${encodeURIComponent(u.appUser)}:${encodeURIComponent(u.appPassword)}@127.0.0.1:${MARIADB.port}/${u.database}?charset=utf8mb4`;
}
