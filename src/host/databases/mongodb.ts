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
import { envFile } from "../document/env";
import { BACKUP_LIB } from "../backups/backup";
import { DOCKER_NETWORK } from "../apps/dockerNetwork";
import { pullImage } from "../apps/service";
import { fillAsset, hostAsset } from "../document/template";

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
  return (
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
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
  return fillAsset(__dirname, "studyhost-mongodb.service", {
    NETWORK_UNIT: DOCKER_NETWORK.unit,
    DATA: PATHS.data,
    CONTAINER: MONGODB.container,
    RUN_COMMAND: mongodbRunCommand(input),
  });
}

export function mongodbSetupScript(image: string): string {
  return fillAsset(__dirname, "mongodb-setup.sh", {
    REQUIRE_DATA_VOLUME: requireDataVolume("MongoDB's data"),
    DATADIR: MONGODB.datadir,
    PULL_IMAGE: pullImage(image),
    UNIT: MONGODB.unit,
    CONTAINER: MONGODB.container,
    ETC_IN_CONTAINER: MONGODB.etcInContainer,
    ALIAS: MONGODB.alias,
    ADDRESS: MONGODB.address,
    PORT: String(MONGODB.port),
  });
}

/** The settings the backup and the restore read. */
const backupEnv = `${MONGODB.etc}/backup.env`;

/**
 * mongodump --archive --gzip, run in the container, named <database>-<stamp>.dump for the shared pruning.
 */
export const MONGODB_BACKUP_SH = fillAsset(__dirname, "mongodb-backup.sh", {
  BACKUP_ENV: backupEnv,
  BACKUP_LIB,
  CONTAINER: MONGODB.container,
  TOOLS_OPTIONS: toolsOptions,
});

export const MONGODB_RESTORE_SH = fillAsset(__dirname, "mongodb-restore.sh", {
  BACKUP_ENV: backupEnv,
  BACKUP_LIB,
  CONTAINER: MONGODB.container,
  TOOLS_OPTIONS: toolsOptions,
  ETC_IN_CONTAINER: MONGODB.etcInContainer,
});

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
        backupEnv,
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
