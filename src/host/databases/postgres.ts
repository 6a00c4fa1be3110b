// PostgreSQL from the distribution, its data on the data volume. Seed 004 (backscope): the database is
// created UTF8 from template0. Seed 001 (CamCOPS): an app role that owns only its database, and a
// read-only role for analysts. Memory from pgtune's "web" formulas (../shared/notes/server-practice.md).
import { requireDataVolume } from "../system/volume";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { envFile } from "../document/env";
import { fillAsset, hostAsset } from "../document/template";

export interface PostgresRoles {
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
  readonly analystUser: string;
  readonly analystPassword: string;
}

export interface PostgresInput {
  readonly roles: PostgresRoles;
  /** RAM meant for PostgreSQL, in MB: all of a database host's, half of a shared host's. */
  readonly memoryMb: number;
  /** The private network the app host connects from (database hosts); undefined: local only. */
  readonly clientCidr?: string;
  /**
   * The databases of the host's other apps (a staging copy, sites with `database: true`): each its own
   * database, owner role and read-only role on the same server, set up like the study's. Their roles
   * reach only their own database, never the study's.
   * @default [] (the study's database only)
   */
  readonly extraRoles?: readonly PostgresRoles[];
}

export interface PostgresMemory {
  readonly sharedBuffersMb: number;
  readonly effectiveCacheSizeMb: number;
  readonly maintenanceWorkMemMb: number;
  readonly workMemKb: number;
  readonly walBuffersKb: number;
}

const MAX_CONNECTIONS = 100;
const MAX_WORKER_PROCESSES = 8;

/** pgtune's "web" profile for `memoryMb` of RAM. */
export function postgresMemory(memoryMb: number): PostgresMemory {
  const sharedBuffersMb = Math.floor(memoryMb / 4);
  const workMemKb = Math.max(4096, Math.floor(((memoryMb - sharedBuffersMb) * 1024) / ((MAX_CONNECTIONS + MAX_WORKER_PROCESSES) * 3)));
  return {
    sharedBuffersMb,
    effectiveCacheSizeMb: Math.floor((memoryMb * 3) / 4),
    maintenanceWorkMemMb: Math.min(8192, Math.floor(memoryMb / 16)),
    workMemKb,
    walBuffersKb: Math.min(16384, Math.floor(sharedBuffersMb * 1024 * 0.03)),
  };
}

export const POSTGRES_ETC = `${PATHS.etc}/postgresql`;
export const ROLES_FILE = `${PATHS.etc}/postgres-roles.env`;
/** The roles file of another app's database (`extraRoles`). */
export const extraRolesFile = (database: string) => `${PATHS.etc}/postgres-roles.d/${database}.env`;

function settings(input: PostgresInput): string {
  const m = postgresMemory(input.memoryMb);
  return fillAsset(__dirname, "postgresql.conf", {
    MEMORY_MB: String(input.memoryMb),
    MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    SHARED_BUFFERS_MB: String(m.sharedBuffersMb),
    EFFECTIVE_CACHE_SIZE_MB: String(m.effectiveCacheSizeMb),
    MAINTENANCE_WORK_MEM_MB: String(m.maintenanceWorkMemMb),
    WORK_MEM_KB: String(m.workMemKb),
    WAL_BUFFERS_KB: String(m.walBuffersKb),
  });
}

/** Only the study's roles, only to the study's database; the app host over TLS when it is remote. */
export function renderPgHba(input: PostgresInput): string {
  const lines = [
    "# studyhost: who may connect, and how. Everything not listed is refused.",
    "# TYPE  DATABASE  USER  ADDRESS  METHOD",
    "local   all       postgres                      peer",
  ];
  for (const { database: db, appUser, analystUser } of [input.roles, ...(input.extraRoles ?? [])]) {
    lines.push(
      `local   ${db}     ${appUser},${analystUser}     scram-sha-256`,
      `host    ${db}     ${appUser},${analystUser}     127.0.0.1/32  scram-sha-256`,
      `host    ${db}     ${appUser},${analystUser}     ::1/128       scram-sha-256`,
    );
    if (input.clientCidr) lines.push(`hostssl ${db}     ${appUser}     ${input.clientCidr}  scram-sha-256`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Roles and database, idempotent (safe on every provisioning). Run by psql as postgres with the roles
 * file's values in its environment; \\getenv (psql 15+) reads them into variables that psql quotes
 * itself (:'x' as a literal, :"x" as an identifier), so no value is ever pasted into SQL.
 */
export const SETUP_SQL = hostAsset(__dirname, "setup.sql");

/** Sets up one database and its roles from a roles file: provisioning runs it, and so does a restore that finds its database gone. */
export const POSTGRES_SETUP = `${PATHS.sbin}/studyhost-postgres-setup`;

/** `studyhost-postgres-setup ROLES_FILE`: the roles file's values reach setup.sql in psql's environment. */
const SETUP_SH = fillAsset(__dirname, "studyhost-postgres-setup.sh", { POSTGRES_ETC });

/**
 * Create the cluster on the data volume, or adopt the one a previous machine left there (a replaced
 * VM): postgresql-common keeps a cluster's configuration in /etc, so a new machine recreates that
 * configuration around the existing data instead of creating an empty cluster. The asset carries the
 * lines of PRIVATE_ADDRESS_SH (src/host/document/shell.ts) as they are rather than through a placeholder,
 * as mariadb-datadir.sh does: shellcheck must see the `private` it uses assigned.
 */
function clusterScript(extraRolesFiles: readonly string[]): string {
  const cluster = fillAsset(__dirname, "studyhost-postgres-cluster.sh", {
    DATA: PATHS.data,
    REQUIRE_DATA_VOLUME: requireDataVolume("PostgreSQL's data"),
    POSTGRES_ETC,
    POSTGRES_SETUP,
    ROLES_FILE,
  });
  // The other apps' databases, when there are any, are set up last, each from its own roles file.
  const others = extraRolesFiles.length
    ? fillAsset(__dirname, "postgres-other-databases.bash", { ROLES_FILES: extraRolesFiles.join(" "), POSTGRES_SETUP })
    : "";
  return cluster + others;
}

const rolesEnv = (r: PostgresRoles) =>
  envFile({ DATABASE: r.database, APP_ROLE: r.appUser, APP_PASSWORD: r.appPassword, ANALYST_ROLE: r.analystUser, ANALYST_PASSWORD: r.analystPassword });

/**
 * postgresql-common's setting that stops the package's postinst from creating a cluster on the boot
 * disk. It must be on the host before the package is installed (an AWS host keeps it in its user
 * data for that reason: src/clouds/hostFilesBundle.ts).
 */
export const POSTGRES_CREATECLUSTER = "/etc/postgresql-common/createcluster.d/50-studyhost.conf";

export function postgresPart(input: PostgresInput): HostPart {
  const r = input.roles;
  const extra = input.extraRoles ?? [];
  return {
    packages: ["postgresql", "postgresql-contrib"],
    files: [
      // Read when the package is installed: no cluster is created on the boot disk.
      configFile(POSTGRES_CREATECLUSTER, "# studyhost creates the cluster on the data volume itself.\ncreate_main_cluster = false\n"),
      configFile(`${POSTGRES_ETC}/studyhost.conf`, settings(input)),
      // The distribution's unit waits only for /var/lib/postgresql and network.target: wait for the
      // data volume, and for the private address a database host listens on.
      configFile(
        `${PATHS.units}/postgresql@.service.d/studyhost.conf`,
        `[Unit]\nRequiresMountsFor=${PATHS.data}\nWants=network-online.target\nAfter=network-online.target\n`,
      ),
      configFile(`${POSTGRES_ETC}/pg_hba.conf`, renderPgHba(input)),
      configFile(`${POSTGRES_ETC}/setup.sql`, SETUP_SQL),
      ...(input.clientCidr ? [configFile(`${POSTGRES_ETC}/listen-cidr`, `${input.clientCidr}\n`)] : []),
      secretFile(ROLES_FILE, rolesEnv(r)),
      ...extra.map((x) => secretFile(extraRolesFile(x.database), rolesEnv(x))),
      script(POSTGRES_SETUP, SETUP_SH),
      script(`${PATHS.sbin}/studyhost-postgres-cluster`, clusterScript(extra.map((x) => extraRolesFile(x.database)))),
    ],
    steps: [{ name: "postgresql", script: `${PATHS.sbin}/studyhost-postgres-cluster` }],
  };
}
