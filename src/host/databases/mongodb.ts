// MongoDB, an accessory database on the app host (seed 002, e-mission): the official image under
// Docker from the distribution, its data bind-mounted from the data volume, on studyhost's private
// Docker network with NO published port (the guide's one rule for it: never reachable from outside).
// Container apps with `network: private` reach it by name (mongodb:27017); the host itself (a Python
// app, a container app on the host's network) at its fixed address on the network. Authentication is
// on: a root user made by the image's entrypoint on an empty data folder, and an app user with
// readWrite on the study's database only, created or updated at every provisioning.
// The image cannot be pulled here (no registry): the rendered commands and units are checked
// statically (test/accessories.test.ts) and run against STAND-IN images in the e-mission boot
// (test/e2e/emission.e2e.ts: a stand-in mongod and stand-in mongosh/mongodump/mongorestore taking these
// exact arguments); MongoDB itself never ran.
import { requireDataVolume } from "../system/volume";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { bashScript } from "../document/shell";
import { envFile } from "../document/env";
import { BACKUP_FINISH, BACKUP_START, pickBackup } from "../backups/backup";
import { DOCKER_NETWORK } from "../apps/dockerNetwork";
import { pullImage } from "../apps/service";
import { hostAsset } from "../document/template";

export interface MongodbUsers {
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
  readonly rootPassword: string;
}

export interface MongodbInput {
  readonly image: string;
  readonly users: MongodbUsers;
  /** RAM the host has, in GB: MongoDB's cache gets a quarter of it (at least 0.25 GB). */
  readonly memoryGb: number;
  readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
  /** The app's unit, stopped during a restore. */
  readonly appUnit?: string;
}

export const MONGODB = {
  container: "studyhost-mongodb",
  /** The name container apps on the private network use. */
  alias: "mongodb",
  /** Its fixed address on the private network, for the host's own processes. */
  address: "172.30.232.2",
  port: 27017,
  rootUser: "studyhost_root",
  datadir: `${PATHS.data}/mongodb`,
  etc: `${PATHS.etc}/mongodb`,
  /** Where the container sees ${PATHS.etc}/mongodb (read-only). */
  etcInContainer: "/etc/studyhost-mongodb",
  backups: `${PATHS.backups}/mongodb`,
  unit: "studyhost-mongodb.service",
  setup: `${PATHS.sbin}/studyhost-mongodb-setup`,
  backup: `${PATHS.sbin}/studyhost-backup-mongodb`,
  restore: `${PATHS.sbin}/studyhost-restore-mongodb`,
} as const;

/** Docker's --env-file reads NAME=value literally: no quotes, no escapes, so no newlines allowed. */
function dockerEnvFile(vars: Record<string, string>): string {
  for (const [k, v] of Object.entries(vars)) if (/[\r\n]/.test(v)) throw new Error(`mongodb: ${k} cannot hold a newline`);
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/**
 * Run by mongosh inside the container (as root there), with the container's environment: the root
 * user authenticates, then the app user is created or brought to its password and role. Values come
 * from the environment, never from the command line.
 */
export const MONGODB_SETUP_JS = hostAsset(__dirname, "mongodb-setup.js");

/** Drops the study's database before a restore (its users live on; setup.js runs again after). */
export const MONGODB_DROP_JS = hostAsset(__dirname, "mongodb-drop.js");

/** The database tools' options: the root user's password from a root-only file, never argv. */
const toolsOptions = `--config=${MONGODB.etcInContainer}/tools.yaml --username=${MONGODB.rootUser} --authenticationDatabase=admin`;

/** The container: no --publish, on the private network only, data on the volume. */
export function mongodbRunCommand(input: Pick<MongodbInput, "image" | "memoryGb">): string {
  const cacheGb = Math.max(0.25, Math.round((input.memoryGb / 4) * 100) / 100);
  return [
    "/usr/bin/docker run --rm",
    `--name ${MONGODB.container}`,
    `--network ${DOCKER_NETWORK.name}`,
    `--ip ${MONGODB.address}`,
    `--network-alias ${MONGODB.alias}`,
    "--security-opt no-new-privileges",
    // Its output goes to the unit's journal only (as the apps' containers: src/host/apps/service.ts).
    "--log-driver none",
    `--env-file ${MONGODB.etc}/mongodb.env`,
    `-v ${MONGODB.datadir}:/data/db`,
    `-v ${MONGODB.etc}:${MONGODB.etcInContainer}:ro`,
    input.image,
    `--wiredTigerCacheSizeGB ${cacheGb}`,
  ].join(" ");
}

function unit(input: MongodbInput): string {
  return `[Unit]
Description=MongoDB for the study's app, in a container on the private network (studyhost)
After=docker.service ${DOCKER_NETWORK.unit}
Requires=docker.service ${DOCKER_NETWORK.unit}
RequiresMountsFor=${PATHS.data}

[Service]
Type=exec
ExecStartPre=-/usr/bin/docker rm --force ${MONGODB.container}
ExecStart=${mongodbRunCommand(input)}
ExecStop=/usr/bin/docker stop --time 60 ${MONGODB.container}
TimeoutStopSec=90
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

export function mongodbSetupScript(image: string): string {
  return bashScript(
    "studyhost-mongodb-setup: MongoDB's image, its data folder on the volume, the container started, the app user set up.",
    `
${requireDataVolume("MongoDB's data")}
# The image's entrypoint (run as root) gives the data folder to its mongodb user, also a replaced
# machine's folder; a folder with data keeps its users (the root password is the stack's, unchanged).
install -d -m 0750 ${MONGODB.datadir}
${pullImage(image)}
systemctl daemon-reload
systemctl enable ${MONGODB.unit}
systemctl restart ${MONGODB.unit}
for _ in $(seq 1 60); do
  docker exec ${MONGODB.container} mongosh --quiet --norc --eval 'db.runCommand({ ping: 1 }).ok' > /dev/null 2>&1 && break
  sleep 2
done
docker exec ${MONGODB.container} mongosh --quiet --norc --file ${MONGODB.etcInContainer}/setup.js
echo "MongoDB answers on the private network at ${MONGODB.alias} (${MONGODB.address}:${MONGODB.port}), no published port"
`,
  );
}

/** mongodump --archive --gzip, run in the container, named <database>-<stamp>.dump for the shared pruning. */
export const MONGODB_BACKUP_SH = bashScript(
  "studyhost-backup-mongodb: dump the MongoDB database in its container, check it, keep it, prune old ones, copy it offsite.",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_MONGODB_ENV:-${MONGODB.etc}/backup.env}"
${BACKUP_START}final="$BACKUP_DIR/$DATABASE-$stamp.dump"
docker exec ${MONGODB.container} mongodump ${toolsOptions} --db="$DATABASE" --archive --gzip > "$partial"
[ -s "$partial" ] || { echo "the dump of $DATABASE is empty" >&2; exit 1; }
# Read back by mongorestore without writing anything.
docker exec -i ${MONGODB.container} mongorestore ${toolsOptions} --archive --gzip --dryRun --quiet < "$partial"
${BACKUP_FINISH}
`,
);

export const MONGODB_RESTORE_SH = bashScript(
  "studyhost-restore-mongodb [--yes] [BACKUP]: put a MongoDB backup back (the newest if none is named).",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_MONGODB_ENV:-${MONGODB.etc}/backup.env}"
yes=no
if [ "\${1:-}" = --yes ]; then yes=yes; shift; fi
${pickBackup("$DATABASE-*.dump")}
docker exec -i ${MONGODB.container} mongorestore ${toolsOptions} --archive --gzip --dryRun --quiet < "$file"
if [ "$yes" != yes ]; then
  read -r -p "Replace the MongoDB database $DATABASE with $file? Type yes: " answer
  [ "$answer" = yes ] || { echo "nothing restored"; exit 1; }
fi
if [ -n "\${APP_UNIT:-}" ]; then systemctl stop "$APP_UNIT"; trap 'systemctl start "$APP_UNIT"' EXIT; fi
umask 077
# What is there now is kept (not pruned: not a .dump) until an operator removes it.
before="$BACKUP_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
docker exec ${MONGODB.container} mongodump ${toolsOptions} --db="$DATABASE" --archive --gzip > "$before"
docker exec ${MONGODB.container} mongosh --quiet --norc --file ${MONGODB.etcInContainer}/drop.js
docker exec -i ${MONGODB.container} mongorestore ${toolsOptions} --archive --gzip --nsInclude="$DATABASE.*" < "$file"
docker exec ${MONGODB.container} mongosh --quiet --norc --file ${MONGODB.etcInContainer}/setup.js
echo "restored $DATABASE from $file (what was there before: $before)"
`,
);

export function mongodbPart(input: MongodbInput): HostPart {
  const u = input.users;
  return {
    packages: ["docker.io"],
    files: [
      // Read by Docker (as root) for the container's environment: root-only.
      secretFile(
        `${MONGODB.etc}/mongodb.env`,
        dockerEnvFile({
          MONGO_INITDB_ROOT_USERNAME: MONGODB.rootUser,
          MONGO_INITDB_ROOT_PASSWORD: u.rootPassword,
          STUDYHOST_MONGO_DATABASE: u.database,
          STUDYHOST_MONGO_APP_USER: u.appUser,
          STUDYHOST_MONGO_APP_PASSWORD: u.appPassword,
        }),
      ),
      // The database tools read the password from here (YAML; the value JSON-quoted).
      secretFile(`${MONGODB.etc}/tools.yaml`, `password: ${JSON.stringify(u.rootPassword)}\n`),
      configFile(`${MONGODB.etc}/setup.js`, MONGODB_SETUP_JS),
      configFile(`${MONGODB.etc}/drop.js`, MONGODB_DROP_JS),
      configFile(
        `${MONGODB.etc}/backup.env`,
        envFile({
          DATABASE: u.database,
          BACKUP_DIR: MONGODB.backups,
          KEEP_DAILY: String(input.keep.daily),
          KEEP_WEEKLY: String(input.keep.weekly),
          KEEP_MONTHLY: String(input.keep.monthly),
          APP_UNIT: input.appUnit ?? "",
        }),
      ),
      configFile(`${PATHS.units}/${MONGODB.unit}`, unit(input)),
      script(MONGODB.setup, mongodbSetupScript(input.image)),
      script(MONGODB.backup, MONGODB_BACKUP_SH),
      script(MONGODB.restore, MONGODB_RESTORE_SH),
    ],
    steps: [{ name: "mongodb", script: MONGODB.setup }],
  };
}

/** The app's URL: by name on the private network, or at the fixed address from the host. */
export function mongoUrl(u: Pick<MongodbUsers, "appUser" | "appPassword" | "database">, onPrivateNetwork: boolean): string {
  const host = onPrivateNetwork ? MONGODB.alias : MONGODB.address;
  return `mongodb://${encodeURIComponent(u.appUser)}:${encodeURIComponent(u.appPassword)}@${host}:${MONGODB.port}/${u.database}?authSource=${u.database}`;
}
