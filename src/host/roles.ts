// What each role of host holds, as plain values in and a HostDocument out: no Pulumi here, so every
// line can be checked with the real programs. Components resolve their Outputs, then call these.
import type { AppConfig } from "../config/schema";
import type { StudyConfig } from "../config/load";
import { HostDocument, HostFile } from "./cloudConfig";

/** Where the data volume is mounted; PostgreSQL data, app state, uploads and backups live under it. */
export const DATA_MOUNT = "/var/lib/studyhost";
export const MANIFEST_PATH = "/etc/studyhost/manifest.json";

/** How the app reaches its database. */
export type DatabaseLink =
  | { readonly engine: "sqlite"; readonly path: string }
  | {
      readonly engine: "postgres";
      readonly host: string;
      readonly port: number;
      readonly name: string;
      readonly user: string;
      readonly password: string;
      /** True when the connection crosses the private network and must use TLS. */
      readonly tls: boolean;
    };

export interface TlsSettings {
  readonly domains: readonly string[];
  readonly email: string;
  readonly acmeDirectory: string;
  readonly caBundle?: string;
}

export interface AppHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  readonly secrets: { readonly secretKey: string; readonly adminPassword: string };
  readonly database: DatabaseLink;
  /** PostgreSQL running on this same host, with its roles' passwords. */
  readonly localPostgres?: PostgresRoles;
  readonly tls: TlsSettings;
}

export interface PostgresRoles {
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
  readonly analystUser: string;
  readonly analystPassword: string;
}

export interface DatabaseHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  readonly roles: PostgresRoles;
  /** The private network the app host connects from. */
  readonly clientCidr: string;
}

export function databaseUrl(link: DatabaseLink): string {
  if (link.engine === "sqlite") return `sqlite:///${link.path}`;
  const auth = `${encodeURIComponent(link.user)}:${encodeURIComponent(link.password)}`;
  return `postgresql://${auth}@${link.host}:${link.port}/${link.name}${link.tls ? "?sslmode=require" : ""}`;
}

/** A systemd-style env file: NAME="value", with backslashes and quotes escaped. */
export function envFile(vars: Record<string, string>): string {
  const quote = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  return Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}`).join("\n") + "\n";
}

/** The app's version as the operator reads it: git ref, pip requirement or image reference. */
export function appVersion(app: AppConfig): string {
  if (app.kind === "container") return app.image;
  return "git" in app.source ? `${app.source.git}@${app.source.ref}` : app.source.pip;
}

function manifest(role: string, config: StudyConfig, extra: Record<string, unknown>): HostFile {
  const body = {
    studyhost: 1,
    role,
    tier: config.tier,
    cloud: config.cloud,
    domain: config.domain,
    dataMount: DATA_MOUNT,
    ...extra,
  };
  return { path: MANIFEST_PATH, content: JSON.stringify(body, null, 2) + "\n", permissions: "0644" };
}

export function renderAppHost(input: AppHostInput): HostDocument {
  const { config } = input;
  const app = config.app;
  const env: Record<string, string> = {
    ...app.env,
    PORT: String(app.port),
    SECRET_KEY: input.secrets.secretKey,
    ADMIN_PASSWORD: input.secrets.adminPassword,
    DATABASE_URL: databaseUrl(input.database),
  };
  const packages = ["nginx", "certbot", "python3-certbot-nginx"];
  if (app.kind === "python") packages.push("python3-venv", "git");
  if (app.kind === "container") packages.push("docker.io");
  if (input.localPostgres) packages.push("postgresql");
  if (input.database.engine === "sqlite") packages.push("sqlite3");
  return {
    hostname: input.hostname,
    fqdn: config.domain,
    adminUser: config.adminUser,
    sshKeys: config.sshKeys,
    packages,
    dataVolume: { device: input.dataDevice, mountPoint: DATA_MOUNT },
    files: [
      { path: `/etc/${app.name}/env`, content: envFile(env), permissions: "0600" },
      ...(input.localPostgres ? [clusterOnVolume(), rolesFile(input.localPostgres)] : []),
      manifest("app", config, {
        app: { name: app.name, kind: app.kind, version: appVersion(app), port: app.port, healthPath: app.healthPath },
        database: input.database.engine === "sqlite" ? { engine: "sqlite", path: input.database.path } : { engine: "postgres", host: input.database.host, name: input.database.name },
        tls: { domains: input.tls.domains, acmeDirectory: input.tls.acmeDirectory },
      }),
    ],
    commands: [],
  };
}

/**
 * Debian's and Ubuntu's postgresql-common read this before creating a cluster: the cluster that the
 * `postgresql` package creates on install goes straight onto the data volume (mounted by bootcmd,
 * before packages), never onto the replaceable boot disk.
 */
function clusterOnVolume(): HostFile {
  return {
    path: "/etc/postgresql-common/createcluster.d/50-studyhost.conf",
    permissions: "0644",
    content: `# studyhost: PostgreSQL's data lives on the data volume.\ndata_directory = '${DATA_MOUNT}/postgresql/%v/%c'\n`,
  };
}

/** The roles' passwords for PostgreSQL's set-up, in a file only root reads. */
function rolesFile(roles: PostgresRoles): HostFile {
  return {
    path: "/etc/studyhost/postgres-roles.env",
    permissions: "0600",
    content: envFile({
      PGDATABASE_NAME: roles.database,
      APP_ROLE: roles.appUser,
      APP_PASSWORD: roles.appPassword,
      ANALYST_ROLE: roles.analystUser,
      ANALYST_PASSWORD: roles.analystPassword,
    }),
  };
}

export function renderDatabaseHost(input: DatabaseHostInput): HostDocument {
  const { config, roles } = input;
  return {
    hostname: input.hostname,
    adminUser: config.adminUser,
    sshKeys: config.sshKeys,
    packages: ["postgresql"],
    dataVolume: { device: input.dataDevice, mountPoint: DATA_MOUNT },
    files: [
      clusterOnVolume(),
      rolesFile(roles),
      manifest("database", config, {
        database: { engine: "postgres", name: roles.database, appUser: roles.appUser, analystUser: roles.analystUser, clientCidr: input.clientCidr },
      }),
    ],
    commands: [],
  };
}
