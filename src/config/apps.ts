// Every app a study's host runs: the primary app (studyhost:app, at the domain), its staging copy
// (studyhost:staging) and the extra sites (studyhost:sites), each with its own name, port, DNS names
// and database. `studyApps` is the one place that derives them from the configuration (the host
// rendering, the components and the checks below all read it), so a staging copy's name, port and
// database are decided once.
import type { z } from "zod";
import type { AppConfig, StudyConfigObject } from "./schema";

type Parsed = z.output<typeof StudyConfigObject>;
/** What deciding the apps needs: so a resolved StudyConfig (with its readonly lists) can be passed too. */
type AppKeys = Pick<Parsed, "app" | "database" | "domain" | "extraDomains" | "staging" | "sites">;

/** One app on the study's host, resolved from the configuration. */
export interface StudyApp {
  /** `primary`: studyhost:app; `staging`: its staging copy; `site`: one of studyhost:sites. */
  readonly role: "primary" | "staging" | "site";
  /** Where it is configured, for messages: `app`, `staging`, `sites.0`. */
  readonly key: string;
  /** The app, with its name, port, version and env resolved (the staging copy's included). */
  readonly app: AppConfig;
  /** The DNS names it is served at; the first names its nginx site's certificate. */
  readonly domains: readonly string[];
  /**
   * Its own database's name (PostgreSQL: a database with an owner role of this name and a read-only
   * `<name>_analyst` role; SQLite: the file `<name>.sqlite3` in the app's state folder), or undefined
   * for an app without a database (a site with `database: false`; the primary app and its staging copy
   * with `database.engine: none`, whose data is in accessory databases only).
   */
  readonly database?: string;
  /** Whether the nightly backup dumps its database: the primary's and the sites', not staging's. */
  readonly backedUp: boolean;
}

/** The staging copy's name: `<app>_staging` (app names are slugs of letters, digits and _). */
export const stagingName = (appName: string) => `${appName}_staging`;

/**
 * Every app on the host in provisioning order: the staging copy first (it is deployed and checked
 * before production), then the primary app, then the sites in the order given.
 */
export function studyApps(c: AppKeys): StudyApp[] {
  const primaryDb = c.database.engine === "none" ? undefined : (c.database.name ?? c.app.name);
  const primary: StudyApp = { role: "primary", key: "app", app: c.app, domains: [c.domain, ...c.extraDomains], database: primaryDb, backedUp: true };
  const apps: StudyApp[] = [];
  if (c.staging) {
    const s = c.staging;
    const common = { name: stagingName(c.app.name), port: s.port ?? c.app.port + 1, env: { ...c.app.env, ...s.env } };
    const app: AppConfig =
      c.app.kind === "python" ? { ...c.app, ...common, source: s.source ?? c.app.source } : { ...c.app, ...common, image: s.image ?? c.app.image };
    apps.push({
      role: "staging",
      key: "staging",
      app,
      domains: [s.domain],
      database: primaryDb === undefined ? undefined : stagingName(primaryDb),
      backedUp: false,
    });
  }
  apps.push(primary);
  c.sites.forEach((site, i) =>
    apps.push({
      role: "site",
      key: `sites.${i}`,
      app: site.app,
      domains: [site.domain, ...site.extraDomains],
      database: site.database ? site.app.name : undefined,
      backedUp: true,
    }),
  );
  return apps;
}

/** The study's extra apps (staging and sites): everything but the primary app. */
export const extraApps = (c: AppKeys): StudyApp[] => studyApps(c).filter((a) => a.role !== "primary");

interface Issue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Ports studyhost's own services hold (as in the schema), for the staging copy's derived port. */
const HOST_PORTS: Record<number, string> = { 22: "SSH", 80: "nginx (http)", 443: "nginx (https)", 5432: "PostgreSQL" };

/**
 * The rules that tie the apps together: each app's name, port, DNS names and database roles are its
 * own; every name is inside the DNS zone; a staging override fits the app's kind.
 */
export function appIssues(c: Parsed, zone: string): Issue[] {
  const issues: Issue[] = [];
  const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
  const where = (key: string) => key.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));

  if (c.staging) {
    if (c.staging.source && c.app.kind === "container")
      issues.push({ path: ["staging", "source"], message: "the app is a container: stage another version with staging.image" });
    if (c.staging.image && c.app.kind === "python")
      issues.push({ path: ["staging", "image"], message: "the app is a Python app: stage another version with staging.source" });
    if (stagingName(c.app.name).length > 31) {
      issues.push({
        path: ["app", "name"],
        message: `the staging copy would be named ${stagingName(c.app.name)}, longer than 31 characters; choose an app name of at most 23`,
      });
    }
    if (c.staging.port === undefined) {
      const port = c.app.port + 1;
      if (port > 65535 || HOST_PORTS[port]) {
        issues.push({
          path: ["staging", "port"],
          message: `expected a port for the staging copy: its default, the app's port + 1 (${port}), is ${port > 65535 ? "out of range" : `used by ${HOST_PORTS[port]}`}`,
        });
      }
    }
  }

  const apps = studyApps(c);
  const usedPorts = apps.map((a) => a.app.port);
  const freePort = () => {
    let p = Math.max(...usedPorts) + 1;
    while (HOST_PORTS[p]) p++;
    return p;
  };
  const names = new Map<string, StudyApp>();
  const ports = new Map<number, StudyApp>();
  const roles = new Map<string, StudyApp>();
  const domains = new Map<string, StudyApp>([c.domain, ...c.extraDomains].map((d) => [d, apps.find((a) => a.role === "primary")!]));
  // The primary app first: a clash is reported on the app configured later (a site, or staging).
  const ordered = [apps.find((a) => a.role === "primary")!, ...apps.filter((a) => a.role !== "primary")];
  for (const a of ordered) {
    const base = where(a.key);
    // The staging copy takes its name and port from studyhost:app (and staging.port).
    const namePath = a.role === "staging" ? ["app", "name"] : [...base, "app", "name"];
    const portPath = a.role === "staging" ? ["staging", "port"] : [...base, "app", "port"];
    const other = names.get(a.app.name);
    if (other)
      issues.push({
        path: namePath,
        message: `the name ${a.app.name} is already used by the app ${other.app.name} (studyhost:${other.key}); give each app its own name`,
      });
    else names.set(a.app.name, a);
    const samePort = ports.get(a.app.port);
    if (samePort)
      issues.push({
        path: portPath,
        message: `port ${a.app.port} is already used by the app ${samePort.app.name}; give each app its own port, such as ${freePort()}`,
      });
    else ports.set(a.app.port, a);
    if (c.database.engine === "postgres" && a.database) {
      for (const role of [a.database, `${a.database}_analyst`]) {
        const owner = roles.get(role);
        if (owner && owner !== a) {
          issues.push({
            path: namePath,
            message: `this app's database would need the role ${role}, which the database of the app ${owner.app.name} already uses; choose another app name`,
          });
          break;
        }
        roles.set(role, a);
      }
    }
    if (a.role === "primary") continue;
    a.domains.forEach((name, i) => {
      const path = a.role === "staging" ? ["staging", "domain"] : i === 0 ? [...base, "domain"] : [...base, "extraDomains", i - 1];
      const holder = domains.get(name);
      if (holder) issues.push({ path, message: `this name is already served by the app ${holder.app.name}; each name once` });
      else if (!inZone(name))
        issues.push({ path, message: `not inside the DNS zone ${zone}; expected a name ending in .${zone}, or set studyhost:manageDns to false` });
      else domains.set(name, a);
    });
  }
  return issues;
}

/** zod's hook for `appIssues`. */
export function checkApps(c: Parsed, ctx: z.RefinementCtx, zone: string): void {
  for (const issue of appIssues(c, zone)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
}
