// PostgreSQL from the distribution, its data on the data volume. Seed 004 (backscope): the database is
// created UTF8 from template0. Seed 001 (CamCOPS): an app role that owns only its database, and a
// read-only role for analysts. Memory from pgtune's "web" formulas (../shared/notes/server-practice.md).
import { requireDataVolume } from "../system/volume";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { bashScript, PRIVATE_ADDRESS_SH } from "../document/shell";
import { envFile } from "../document/env";
import { hostAsset } from "../document/template";

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
  return `# studyhost: connections, TLS and memory (pgtune "web" for ${input.memoryMb} MB).
listen_addresses = 'localhost'   # the provisioning step adds the private address on database hosts
max_connections = ${MAX_CONNECTIONS}
password_encryption = scram-sha-256
ssl = on
shared_buffers = ${m.sharedBuffersMb}MB
effective_cache_size = ${m.effectiveCacheSizeMb}MB
maintenance_work_mem = ${m.maintenanceWorkMemMb}MB
work_mem = ${m.workMemKb}kB
wal_buffers = ${m.walBuffersKb}kB
checkpoint_completion_target = 0.9
random_page_cost = 1.1
effective_io_concurrency = 200
log_connections = on
log_disconnections = on
`;
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

const SETUP_SH = bashScript(
  "studyhost-postgres-setup ROLES_FILE: create or update one database and its two roles (setup.sql, idempotent).",
  `
set -a
# shellcheck source=/dev/null
. "$1"
set +a
# The values travel in the environment (read by setup.sql's \\getenv), never on a command line that
# any local user could read in /proc while psql runs.
runuser -u postgres -- psql --no-psqlrc --quiet -f ${POSTGRES_ETC}/setup.sql
`,
);

/**
 * Create the cluster on the data volume, or adopt the one a previous machine left there (a replaced
 * VM): postgresql-common keeps a cluster's configuration in /etc, so a new machine recreates that
 * configuration around the existing data instead of creating an empty cluster.
 */
function clusterScript(extraRolesFiles: readonly string[]): string {
  return bashScript(
  "studyhost-postgres-cluster: the PostgreSQL cluster on the data volume, created or adopted; configured.",
  `
version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\\n' | sort -V | tail -n 1)
data="${PATHS.data}/postgresql/$version/main"
conf="/etc/postgresql/$version/main"
${requireDataVolume("PostgreSQL's data")}
# Never start an empty cluster beside data this machine cannot use: a half-finished adoption, or a
# cluster of another PostgreSQL major version (the image changed), needs an operator (pg_upgradecluster).
if [ -d "$data.adopting" ]; then echo "$data.adopting exists: a previous adoption did not finish; move it back to $data first" >&2; exit 1; fi
for other in "${PATHS.data}"/postgresql/*/main/PG_VERSION; do
  if [ -f "$other" ] && [ "$other" != "$data/PG_VERSION" ] && [ ! -f "$data/PG_VERSION" ]; then
    echo "the data volume holds a PostgreSQL $(cat "$other") cluster but this machine runs $version: upgrade it with pg_upgradecluster; not creating an empty one" >&2
    exit 1
  fi
done
# A cluster whose data is not on the volume (the package made one at install, before studyhost's
# createcluster setting was in place) is not the study's: dropped while it holds nothing, else left
# alone and the run stops, so the study's data never lives on the boot disk unnoticed.
if [ -d "$conf" ] && [ "$(pg_conftool -s "$version" main get data_directory)" != "$data" ]; then
  stray=$(pg_conftool -s "$version" main get data_directory)
  pg_ctlcluster "$version" main start 2>/dev/null || true
  databases=$(runuser -u postgres -- psql --cluster "$version/main" --no-psqlrc -XAtc "SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')" 2>/dev/null || echo unknown)
  tables=$(runuser -u postgres -- psql --cluster "$version/main" --no-psqlrc -XAtc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" postgres 2>/dev/null || echo unknown)
  if [ "$databases" != 0 ] || [ "$tables" != 0 ]; then
    echo "a PostgreSQL cluster in $stray, off the data volume, holds data ($databases databases, $tables tables in postgres): move it to $data by hand; not touching it" >&2
    exit 1
  fi
  echo "dropping the empty cluster in $stray (off the data volume)"
  pg_dropcluster --stop "$version" main
fi
if [ ! -d "$conf" ]; then
  install -d -o postgres -g postgres "${PATHS.data}/postgresql/$version"
  if [ -f "$data/PG_VERSION" ]; then
    echo "adopting the existing cluster in $data"
    mv "$data" "$data.adopting"
    trap 'if [ -d "$data.adopting" ]; then rm -rf "$data"; mv "$data.adopting" "$data"; fi' EXIT
    pg_createcluster --datadir "$data" "$version" main >/dev/null
    rm -rf "$data"
    mv "$data.adopting" "$data"
    trap - EXIT
    # A new machine's postgres user may have another uid than the one that wrote the data.
    chown -R postgres:postgres "$data"
  else
    pg_createcluster --datadir "$data" --encoding UTF8 --locale C.UTF-8 "$version" main >/dev/null
  fi
fi
install -o postgres -g postgres -m 0644 ${POSTGRES_ETC}/studyhost.conf "$conf/conf.d/50-studyhost.conf"
install -o postgres -g postgres -m 0640 ${POSTGRES_ETC}/pg_hba.conf "$conf/pg_hba.conf"
if [ -f ${POSTGRES_ETC}/listen-cidr ]; then
  # A database host listens on its address inside the private network too, found at boot.
  cidr=$(cat ${POSTGRES_ETC}/listen-cidr)
  ${PRIVATE_ADDRESS_SH}
  echo "listen_addresses = 'localhost,$private'" > "$conf/conf.d/60-studyhost-listen.conf"
fi
systemctl enable postgresql.service
systemctl restart "postgresql@$version-main.service"
${POSTGRES_SETUP} ${ROLES_FILE}
${extraRolesFiles.length ? `# The other apps' databases (staging, sites), each set up the same way from its own roles file.
# shellcheck disable=SC2043 # one app or several: the same loop
for roles in ${extraRolesFiles.join(" ")}; do
  ${POSTGRES_SETUP} "$roles"
done
` : ""}`,
  );
}

const rolesEnv = (r: PostgresRoles) => envFile({ DATABASE: r.database, APP_ROLE: r.appUser, APP_PASSWORD: r.appPassword, ANALYST_ROLE: r.analystUser, ANALYST_PASSWORD: r.analystPassword });

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
