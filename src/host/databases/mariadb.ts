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
import { parseCidr } from "../../config/validators";
import { envFile } from "../document/env";
import { BACKUP_LIB } from "../backups/backup";
import { fillAsset } from "../document/template";

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
export const MARIADB_CNF = mariadbCnf("");

function mariadbCnf(tls: string): string {
  return fillAsset(__dirname, "mariadb.cnf", { DATADIR: MARIADB.datadir, PORT: String(MARIADB.port), TLS: tls });
}

/** A database host's settings: the above, with the certificate the datadir script makes. */
export const MARIADB_TLS_CNF = mariadbCnf(fillAsset(__dirname, "mariadb-tls.cnf", { TLS_DIR: MARIADB.tls }));

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
export const MARIADB_USERS_SH = fillAsset(__dirname, "mariadb-users.sh", { MARIADB_ENV: MARIADB.env });

/**
 * The data directory on the volume: created once (atomically), or adopted; then the server started on it.
 * The asset carries the lines of PRIVATE_ADDRESS_SH (src/host/document/shell.ts) as they are rather than
 * through a placeholder: shellcheck must see the `private` it uses assigned.
 */
export const MARIADB_DATADIR_SH = fillAsset(__dirname, "mariadb-datadir.sh", {
  DATADIR: MARIADB.datadir,
  REQUIRE_DATA_VOLUME: requireDataVolume("MariaDB's data"),
  MARIADB_ETC: MARIADB.etc,
  LISTEN_CIDR: MARIADB.listenCidr,
  TLS_DIR: MARIADB.tls,
  USERS_SCRIPT: MARIADB.users,
});

/** A gzip'd SQL dump named <database>-<stamp>.dump (the name the shared pruning recognises), checked before it counts. */
export const MARIADB_BACKUP_SH = fillAsset(__dirname, "mariadb-backup.sh", { MARIADB_ENV: MARIADB.env, BACKUP_LIB });

export const MARIADB_RESTORE_SH = fillAsset(__dirname, "mariadb-restore.sh", { MARIADB_ENV: MARIADB.env, BACKUP_LIB });

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
    steps: [
      {
        name: MARIADB_WAIT_STEP,
        script: `for _ in $(seq 1 180); do ${login} 2> /dev/null && break; sleep 5; done\n${login}\necho "MariaDB on ${host} admits the app user over TLS"`,
      },
    ],
  };
}
