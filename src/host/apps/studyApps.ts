// Each app on an app host, assembled: its env (own secrets, own database URL), its install and unit
// (app.ts), its nginx site by server name, and its health check. The primary app keeps the step names
// it always had (`app`, `health`); a staging copy and the sites get `app-<name>` / `health-<name>`.
// Staging goes first, and production's app step needs staging's health check: a staging copy that does
// not come up healthy stops the same version from reaching production (the run reports both).
import type { StudyApp } from "../../config/apps";
import type { AppConfig } from "../../config/schema";
import { frontendDir } from "./configFiles";
import { appPart } from "./service";
import { assetPart } from "../document/template";
import { appPaths } from "./paths";
import type { Site } from "../web/nginx";
import { HostPart, PATHS, ProvisionStep } from "../document/part";

/** How an app reaches its database. */
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

export function databaseUrl(link: DatabaseLink): string {
  if (link.engine === "sqlite") return `sqlite:///${link.path}`;
  const auth = `${encodeURIComponent(link.user)}:${encodeURIComponent(link.password)}`;
  return `postgresql://${auth}@${link.host}:${link.port}/${link.name}${link.tls ? "?sslmode=require" : ""}`;
}

/** The app's version as the operator reads it: git ref, pip requirement or image reference. */
export function appVersion(app: AppConfig): string {
  if (app.kind === "container") return app.image;
  return "git" in app.source ? `${app.source.git}@${app.source.ref}` : app.source.pip;
}

/** An app's SQLite file: on the data volume, in the app's state folder. */
export function appSqlitePath(appName: string, database: string): string {
  return `${appPaths(appName).state}/${database}.sqlite3`;
}

/** The generated secrets one app's env carries. */
export interface AppSecrets {
  readonly secretKey: string;
  readonly adminPassword: string;
}

/** One app as the host renders it: the app, its generated secrets, its database (if it has one). */
export interface AppInstance {
  readonly app: StudyApp;
  readonly secrets: AppSecrets;
  readonly database?: DatabaseLink;
  /** More generated variables (the primary app's accessory URLs: MARIADB_URL, MONGO_URL). @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** What the app host's apps share. */
export interface AppsContext {
  readonly adminCidrs: readonly string[];
  readonly vcpus: number;
  readonly sharesHostWithPostgres: boolean;
  /** The accessory databases' units: the primary app (which gets their URLs) starts after them. @default [] */
  readonly accessoryUnits?: readonly string[];
  /** Provisioning steps the primary app's install needs (MariaDB on the database host answering). @default [] */
  readonly primaryNeeds?: readonly string[];
}

/** The primary app's steps keep their names; another app's carry its name (`_` as `-`). */
export function stepNames(a: StudyApp): { readonly app: string; readonly health: string } {
  if (a.role === "primary") return { app: "app", health: "health" };
  const suffix = a.app.name.replace(/_/g, "-");
  return { app: `app-${suffix}`, health: `health-${suffix}` };
}

/** PORT, SECRET_KEY, ADMIN_PASSWORD and (for an app with a database) DATABASE_URL over the app's env. */
export function appEnv(i: AppInstance): Record<string, string> {
  return {
    ...i.app.app.env,
    PORT: String(i.app.app.port),
    SECRET_KEY: i.secrets.secretKey,
    ADMIN_PASSWORD: i.secrets.adminPassword,
    ...(i.database ? { DATABASE_URL: databaseUrl(i.database) } : {}),
    // libpq's own variables: psql and pg_dump in a job need nothing else, and a config file that
    // wants the parts (backscope's .env, seed 004) takes them as ${PGUSER} and so on.
    ...(i.database?.engine === "postgres" ? postgresVariables(i.database) : {}),
    ...i.env,
  };
}

function postgresVariables(link: Extract<DatabaseLink, { engine: "postgres" }>): Record<string, string> {
  return {
    PGHOST: link.host,
    PGPORT: String(link.port),
    PGDATABASE: link.name,
    PGUSER: link.user,
    PGPASSWORD: link.password,
    ...(link.tls ? { PGSSLMODE: "require" } : {}),
  };
}

/** The app's nginx site: its DNS names in front of its port. */
export function appSite(a: StudyApp, adminCidrs: readonly string[]): Site {
  const app = a.app;
  const paths = appPaths(app.name);
  return {
    name: app.name,
    serverNames: a.domains,
    port: app.port,
    // Relative to where the app runs from: its git checkout, or its state folder for a pip install.
    static:
      app.kind === "python" && app.static
        ? { urlPath: app.static.urlPath, dir: `${"git" in app.source ? `${paths.code}/src` : paths.state}/${app.static.dir}` }
        : undefined,
    frontend:
      app.kind === "python" && app.frontend
        ? { dir: `${frontendDir(paths)}/${app.frontend.dir}`.replace(/\/\.$/, ""), apiPaths: app.frontend.apiPaths }
        : undefined,
    adminPaths: app.adminPaths,
    adminCidrs,
    maxBodyMb: app.maxBodyMb,
  };
}

/** Waits for the app on its port, then (once its certificate exists) through nginx. */
export function healthCheck(a: StudyApp): HostPart {
  const { port, healthPath, name } = a.app;
  const domain = a.domains[0];
  const url = `http://127.0.0.1:${port}${healthPath}`;
  const unit = appPaths(name).unit;
  return {
    steps: [
      {
        name: stepNames(a).health,
        // Waiting makes sense only for an app that was deployed: fail at once otherwise.
        script: assetPart(__dirname, "health-check.bash", { UNIT: unit, URL: url, LETSENCRYPT: PATHS.letsencrypt, DOMAIN: domain, HEALTH_PATH: healthPath }),
      },
    ],
  };
}

/** One app's install step, renamed for an extra app, gated on `needs`. */
function installPart(i: AppInstance, ctx: AppsContext, needs: readonly string[]): HostPart {
  const after = i.app.role === "primary" ? (ctx.accessoryUnits ?? []) : [];
  const part = appPart({ app: i.app.app, env: appEnv(i), vcpus: ctx.vcpus, sharesHostWithPostgres: ctx.sharesHostWithPostgres, after });
  const steps = (part.steps ?? []).map((s): ProvisionStep => ({ ...s, name: stepNames(i.app).app, ...(needs.length ? { needs } : {}) }));
  return { ...part, steps };
}

/**
 * The apps' parts in provisioning order, split where nginx goes between them: `install` (staging's
 * install and health check, then production's install, gated on them, then the sites'), and `health`
 * (production's health check, then the sites'), which runs after nginx so it can check https too.
 */
export function appsParts(instances: readonly AppInstance[], ctx: AppsContext): { readonly install: HostPart[]; readonly health: HostPart[] } {
  const staging = instances.filter((i) => i.app.role === "staging");
  const others = instances.filter((i) => i.app.role !== "staging");
  const gate = staging.flatMap((i) => [stepNames(i.app).app, stepNames(i.app).health]);
  return {
    install: [
      ...staging.flatMap((i) => [installPart(i, ctx, []), healthCheck(i.app)]),
      ...others.map((i) => installPart(i, ctx, i.app.role === "primary" ? [...gate, ...(ctx.primaryNeeds ?? [])] : [])),
    ],
    health: others.map((i) => healthCheck(i.app)),
  };
}

/** What the manifest says about the host's other apps. */
export function manifestApps(instances: readonly AppInstance[]): object[] {
  return instances.map((i) => ({
    name: i.app.app.name,
    role: i.app.role,
    kind: i.app.app.kind,
    version: appVersion(i.app.app),
    port: i.app.app.port,
    healthPath: i.app.app.healthPath,
    unit: appPaths(i.app.app.name).unit,
    domains: i.app.domains,
    database: i.database
      ? i.database.engine === "sqlite"
        ? { engine: "sqlite", path: i.database.path }
        : { engine: "postgres", host: i.database.host, name: i.database.name }
      : null,
  }));
}
