// MariaDB from the distribution, an accessory database on the app host (seed 001, CamCOPS: MySQL with
// an app user limited to its database and a read-only user, backups pruned daily / weekly / monthly).
// Its data lives on the data volume (/var/lib/studyhost/mariadb), not where Debian's package puts it:
// the package's postinst initialises /var/lib/mysql on the boot disk at install time (its path is
// fixed there) and starts the server; the provisioning step then points the server at the volume,
// initialising it once or adopting the data a replaced machine left there, so every later boot and
// re-run finds it as it was. It listens on 127.0.0.1 only, with utf8mb4.
// On a database host (two-server, `clientCidr`) it also listens on the host's private address, found at
// boot as PostgreSQL's is, with a self-signed certificate made on the host (as PostgreSQL uses the
// distribution's): the app user exists for the private network too, REQUIRE SSL there, as pg_hba's
// hostssl line; the analyst stays local. The network and not the app host's own address, because each
// host's user data needs the other's address (a cycle); the cloud firewall admits the app host only.
import { requireDataVolume } from "../system/volume";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { bashScript, PRIVATE_ADDRESS_SH } from "../document/shell";
import { parseCidr } from "../../config/validators";
import { envFile } from "../document/env";
import { BACKUP_FINISH, BACKUP_START, pickBackup } from "../backups/backup";

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
  /** The app's unit, stopped during a restore (on the app host). */
  readonly appUnit?: string;
  /**
   * The private network the app host connects from (database hosts): MariaDB then listens there too,
   * with TLS, and admits the app user from there over TLS only.
   * @default undefined (loopback only, on the app host)
   */
  readonly clientCidr?: string;
}

/** The app host's step that waits for MariaDB on the database host: the app's install needs it. */
export const MARIADB_WAIT_STEP = "mariadb-wait";

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
  /** A database host's: the private network it listens on (read at boot) and its certificate. */
  listenCidr: `${PATHS.etc}/mariadb/listen-cidr`,
  tls: "/etc/mysql/studyhost-tls",
} as const;

/** The server's settings, installed into /etc/mysql/mariadb.conf.d after Debian's own (50-server.cnf). */
export const MARIADB_CNF = `# studyhost: the data volume, loopback only (a database host adds its private address), utf8mb4.
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

/** A database host's settings: the above, with the certificate the datadir script makes. */
export const MARIADB_TLS_CNF = MARIADB_CNF.replace(
  "\n[client]",
  `# The app host connects over the private network: TLS, with the certificate made at provisioning.
ssl_cert = ${MARIADB.tls}/server-cert.pem
ssl_key = ${MARIADB.tls}/server-key.pem
tls_version = TLSv1.2,TLSv1.3

[client]`,
);

/** A CIDR block as MariaDB's account host 'base/netmask' (IPv4: the private networks are). */
export function mariadbClientHost(cidr: string): string {
  const block = parseCidr(cidr);
  if (!block || block.version !== 4) throw new Error(`mariadbClientHost: expected an IPv4 CIDR block, got ${cidr}`);
  const mask = block.prefix === 0 ? 0 : (0xffffffff << (32 - block.prefix)) >>> 0;
  const dotted = (v: number) => [24, 16, 8, 0].map((s) => (v >>> s) & 255).join(".");
  const addr = block.address.split(".").reduce((v, o) => ((v << 8) | Number(o)) >>> 0, 0);
  return `${dotted((addr & mask) >>> 0)}/${dotted(mask)}`;
}

/**
 * Users and database, idempotent (run at every provisioning). The SQL goes to the client on stdin, so
 * no password is ever on a command line; values are quoted as MariaDB string literals (backslash and
 * quote escaped), names as identifiers. Each user exists at 'localhost' (the socket) and '127.0.0.1'
 * (TCP, the app's URL), with exactly its privileges: everything on its database for the app (no GRANT
 * OPTION, nothing elsewhere), SELECT on it for the analyst. On a database host the app user also
 * exists at CLIENT_HOST (the private network, 'base/netmask'), REQUIRE SSL; any other host the app or
 * analyst user was once created at is dropped, so the accounts are exactly these.
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
  # Accounts left from an earlier set-up (another network): dropped.
  while IFS=$'\\t' read -r user host; do
    [ -n "$user" ] || continue
    case "$host" in localhost | 127.0.0.1) continue ;; esac
    [ "$user" = "$APP_USER" ] && [ "$host" = "\${CLIENT_HOST:-}" ] && continue
    echo "DROP USER $(lit "$user")@$(lit "$host");"
  done < <(mariadb --batch --skip-column-names -e "SELECT User, Host FROM mysql.global_priv WHERE User IN ($(lit "$APP_USER"), $(lit "$ANALYST_USER"))")
  account() { # name password privileges host [REQUIRE ...]
    local who
    who="$(lit "$1")@$(lit "$4")"
    echo "CREATE USER IF NOT EXISTS $who IDENTIFIED BY $(lit "$2");"
    echo "ALTER USER $who IDENTIFIED BY $(lit "$2")\${5:+ $5};"
    echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM $who;"
    echo "GRANT $3 ON $db.* TO $who;"
  }
  for host in localhost 127.0.0.1; do
    account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$host"
    account "$ANALYST_USER" "$ANALYST_PASSWORD" SELECT "$host"
  done
  if [ -n "\${CLIENT_HOST:-}" ]; then account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$CLIENT_HOST" "REQUIRE SSL"; fi
} | mariadb --batch
`,
);

/** The data directory on the volume: created once (atomically), or adopted; then the server started on it. */
export const MARIADB_DATADIR_SH = bashScript(
  "studyhost-mariadb-datadir: MariaDB's data on the data volume, created or adopted; the server started on it.",
  `
datadir=${MARIADB.datadir}
${requireDataVolume("MariaDB's data")}
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
if [ -f ${MARIADB.listenCidr} ]; then
  # A database host: a self-signed certificate made once (the client encrypts without verifying it,
  # as PostgreSQL's sslmode=require), and the private address, found at boot, beside 127.0.0.1.
  tls=${MARIADB.tls}
  if [ ! -s "$tls/server-key.pem" ] || [ ! -s "$tls/server-cert.pem" ]; then
    install -d -o root -g mysql -m 0750 "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$(hostname)" -keyout "$tls/server-key.pem.new" -out "$tls/server-cert.pem.new" 2> /dev/null
    mv "$tls/server-cert.pem.new" "$tls/server-cert.pem"
    mv "$tls/server-key.pem.new" "$tls/server-key.pem"
  fi
  chown mysql:mysql "$tls/server-key.pem" "$tls/server-cert.pem"
  chmod 0600 "$tls/server-key.pem"
  chmod 0644 "$tls/server-cert.pem"
  cidr=$(cat ${MARIADB.listenCidr})
  ${PRIVATE_ADDRESS_SH}
  # MariaDB 10.11 and later take a list of addresses.
  printf '[mysqld]\\nbind-address = 127.0.0.1,%s\\n' "$private" > /etc/mysql/mariadb.conf.d/61-studyhost-listen.cnf
fi
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
# On a database host the app runs on another machine: its account there is locked and its sessions
# ended for the restore, so no write lands between the dump of what is there and the load, or in it.
if [ -n "\${CLIENT_HOST:-}" ]; then
  app_account() { printf "ALTER USER '%s'@'%s' ACCOUNT %s;\\n" "$APP_USER" "$CLIENT_HOST" "$1" | mariadb --batch; }
  app_account LOCK
  trap 'app_account UNLOCK' EXIT
  for id in $(mariadb --batch --skip-column-names -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '$APP_USER' AND HOST NOT LIKE 'localhost%'"); do
    mariadb --batch -e "KILL $id;" || true
  done
fi
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
  const remote = input.clientCidr;
  return {
    packages: ["mariadb-server", "mariadb-client", ...(remote ? ["openssl"] : [])],
    files: [
      configFile(`${MARIADB.etc}/studyhost.cnf`, remote ? MARIADB_TLS_CNF : MARIADB_CNF),
      ...(remote ? [configFile(MARIADB.listenCidr, `${remote}\n`)] : []),
      // The distribution's unit knows nothing of the data volume (nor, on a database host, of the
      // private address it listens on).
      configFile(
        `${PATHS.units}/mariadb.service.d/studyhost.conf`,
        `[Unit]\nRequiresMountsFor=${PATHS.data}\n${remote ? "Wants=network-online.target\nAfter=network-online.target\n" : ""}`,
      ),
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
          ...(remote ? { CLIENT_HOST: mariadbClientHost(remote) } : {}),
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

/**
 * The app's URL (SQLAlchemy's form with PyMySQL; other drivers take the same parts). To a database host
 * (`host`) it asks for TLS: SQLAlchemy's MySQL dialects gather ssl_* query keys into the driver's `ssl`
 * argument, and PyMySQL given an `ssl` without a CA encrypts without verifying the certificate (as
 * libpq's sslmode=require); ssl_check_hostname=false is the key that says so. The server's REQUIRE SSL
 * refuses a client that does not.
 * @param host the database host's private address; undefined: MariaDB on this host (127.0.0.1)
 */
export function mariadbUrl(u: Pick<MariadbUsers, "appUser" | "appPassword" | "database">, host?: string): string {
  return `mysql+pymysql://${encodeURIComponent(u.appUser)}:${encodeURIComponent(u.appPassword)}@${host ?? "127.0.0.1"}:${MARIADB.port}/${u.database}?charset=utf8mb4${host ? "&ssl_check_hostname=false" : ""}`;
}

/** Where the app host keeps the client settings for MariaDB on the database host (root only). */
export const MARIADB_CLIENT_CNF = `${PATHS.etc}/mariadb-client.cnf`;

/**
 * The app host's side of MariaDB on the database host: the client, its settings (the app user, over
 * TLS; `sudo mariadb --defaults-extra-file=${MARIADB_CLIENT_CNF}` for an operator), and a step that
 * waits until the app user can log in (the database host may still be provisioning: up to 15 minutes).
 */
export function mariadbClientPart(u: Pick<MariadbUsers, "appUser" | "appPassword" | "database">, host: string): HostPart {
  const quoted = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const cnf = `# studyhost: the app user on the database host's MariaDB, over TLS.\n[client]\nhost = ${host}\nport = ${MARIADB.port}\nuser = ${quoted(u.appUser)}\npassword = ${quoted(u.appPassword)}\ndatabase = ${quoted(u.database)}\nssl\ndefault-character-set = utf8mb4\n`;
  const login = `mariadb --defaults-extra-file=${MARIADB_CLIENT_CNF} --batch -e 'SELECT 1' > /dev/null`;
  return {
    packages: ["mariadb-client"],
    files: [secretFile(MARIADB_CLIENT_CNF, cnf)],
    steps: [{ name: MARIADB_WAIT_STEP, script: `for _ in $(seq 1 180); do ${login} 2> /dev/null && break; sleep 5; done\n${login}\necho "MariaDB on ${host} admits the app user over TLS"` }],
  };
}
