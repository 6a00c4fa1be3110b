// The rules that tie one key of the study's configuration to another (tier and engine, cloud and
// region, tier and size, the apps' names and ports, ...), over the keys ./schema.ts declares. Apart from
// the schema because they read it through ./apps.ts (every app the host runs), whose types come from
// the schema: in one file the two would import each other.
import { z } from "zod";
import { CATALOG, CloudName, findSize, sizesMeeting, describeFloor, TIER_TABLE, Floor } from "../tiers";
import { checkConfigFiles, POSTGRES_ENV, referencedNames } from "./appFiles";
import { checkAnalytics } from "./analytics";
import { checkApps, studyApps } from "./apps";
import { checkPowerSchedule } from "./powerSchedule";
import { checkScheduled } from "./scheduled";
import { defaultZone, StudyConfigObject } from "./schema";
import { isWholeInternet, parseCidr } from "./validators";

/** The variables the accessory databases add to the primary app's env (src/host/databases/accessories.ts). */
function accessoryEnv(c: z.output<typeof StudyConfigObject>): string[] {
  return [...(c.accessories.mariadb ? ["MARIADB_URL"] : []), ...(c.accessories.mongodb ? ["MONGO_URL"] : [])];
}

/** Every key under `studyhost:`, with the rules that tie keys together. */
export const StudyConfigSchema = StudyConfigObject.superRefine(checkAcrossKeys);

/** Rules that tie one key to another (tier and engine, cloud and region, tier and size). */
function checkAcrossKeys(c: z.output<typeof StudyConfigObject>, ctx: z.RefinementCtx): void {
  const tier = TIER_TABLE[c.tier];
  if (!tier.engines.includes(c.database.engine)) {
    ctx.addIssue({
      code: "custom",
      path: ["database", "engine"],
      message: `${c.database.engine} is allowed only on the small tier; the ${c.tier} tier takes ${tier.engines.join(" or ")}`,
    });
  }
  const catalog = CATALOG[c.cloud];
  if (c.region !== undefined && !catalog.regions.includes(c.region)) {
    ctx.addIssue({ code: "custom", path: ["region"], message: `${c.cloud} has no such region; expected one of ${catalog.regions.join(", ")}` });
  }
  if (!c.allowSshFromAnywhere) {
    c.adminCidrs.forEach((block, i) => {
      const parsed = parseCidr(block);
      if (parsed && isWholeInternet(parsed)) {
        ctx.addIssue({
          code: "custom",
          path: ["adminCidrs", i],
          message:
            "this opens SSH and the admin paths to the whole internet (or a large share of it); list your own networks, or set studyhost:allowSshFromAnywhere to true",
        });
      }
    });
  }
  checkNames(c, ctx);
  for (const a of studyApps(c)) {
    if (a.app.name === c.adminUser)
      ctx.addIssue({
        code: "custom",
        path: ["adminUser"],
        message: `the app ${a.app.name} (studyhost:${a.key}) has this name, and each app runs as a user of its name: choose another admin user, such as studyadmin`,
      });
  }
  checkApps(c, ctx, c.dnsZone ?? defaultZone(c.domain));
  if (c.backups.offsite && !c.offsiteSecretAccessKey) {
    ctx.addIssue({
      code: "custom",
      path: ["offsiteSecretAccessKey"],
      message: "expected the offsite bucket's secret access key (backups.offsite is set): pulumi config set --secret studyhost:offsiteSecretAccessKey",
    });
  }
  // The staging copy shares studyhost:app's files but not the accessories (they serve the primary app
  // only): a file that names their URLs would reach staging with the name unreplaced.
  const accessoryNames = accessoryEnv(c);
  const stagingMisses = c.app.configFiles.flatMap((f) => referencedNames(f.content)).filter((n) => accessoryNames.includes(n));
  if (c.staging && stagingMisses.length) {
    ctx.addIssue({
      code: "custom",
      path: ["staging"],
      message: `the staging copy shares studyhost:app.configFiles, which name \${${stagingMisses[0]}}, but accessories serve the primary app only: leave staging out for this app`,
    });
  }
  for (const a of studyApps(c))
    if (a.role !== "staging")
      checkConfigFiles(
        a.app.configFiles,
        [...Object.keys(a.app.env), ...(a.database && c.database.engine === "postgres" ? POSTGRES_ENV : []), ...(a.role === "primary" ? accessoryEnv(c) : [])],
        a.app.kind,
        [...a.key.split(".").map((k) => (/^\d+$/.test(k) ? Number(k) : k)), ...(a.role === "site" ? ["app"] : []), "configFiles"],
        ctx,
      );
  checkAccessories(c, ctx);
  checkScheduled({ ...c, appNames: studyApps(c).map((a) => a.app.name) }, ctx);
  checkOperations(c, ctx);
  checkSize(c.cloud, c.sizes.app, tier.app, ["sizes", "app"], c.tier, ctx);
  checkVolume(c.volumes.appGb, tier.app, ["volumes", "appGb"], c.tier, ctx);
  if (tier.database) {
    checkSize(c.cloud, c.sizes.database, tier.database, ["sizes", "database"], c.tier, ctx);
    checkVolume(c.volumes.databaseGb, tier.database, ["volumes", "databaseGb"], c.tier, ctx);
  } else {
    if (c.sizes.database !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["sizes", "database"],
        message: `the ${c.tier} tier has no database host; only the two-server tier takes sizes.database`,
      });
    if (c.volumes.databaseGb !== undefined)
      ctx.addIssue({ code: "custom", path: ["volumes", "databaseGb"], message: `the ${c.tier} tier has no database host; use volumes.appGb` });
  }
}

/** Accessories serve the primary app (MariaDB on the app host, or on two-server's database host): what that rules out. */
function checkAccessories(c: z.output<typeof StudyConfigObject>, ctx: z.RefinementCtx): void {
  const { mariadb, mongodb } = c.accessories;
  if (c.database.engine === "none") {
    if (!mariadb && !mongodb)
      ctx.addIssue({
        code: "custom",
        path: ["database", "engine"],
        message: "none leaves the app without a database: configure accessories.mariadb or accessories.mongodb, or use postgres",
      });
    // MongoDB stays on the app host: without MariaDB, two-server's database host would run nothing.
    else if (!mariadb && TIER_TABLE[c.tier].databasePlacement === "own-host")
      ctx.addIssue({
        code: "custom",
        path: ["database", "engine"],
        message: `none with mongodb only leaves the ${c.tier} tier's database host with nothing to run: use small or large, or postgres`,
      });
    c.sites.forEach((site, i) => {
      if (site.database)
        ctx.addIssue({
          code: "custom",
          path: ["sites", i, "database"],
          message: "a site's database lives on the study's PostgreSQL or SQLite, and studyhost:database.engine is none: set it to false, or use postgres",
        });
    });
  }
  // On a database host MariaDB is reached over the private network, which a private-network container reaches too.
  if (TIER_TABLE[c.tier].databasePlacement === "own-host") return;
  studyApps(c).forEach((a) => {
    if (a.app.kind !== "container" || a.app.network !== "private") return;
    // The staging copy takes its network from studyhost:app.
    const path = a.role === "site" ? [...a.key.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)), "app", "network"] : ["app", "network"];
    if (mariadb)
      ctx.addIssue({
        code: "custom",
        path,
        message: "MariaDB (accessories.mariadb) listens on the host's 127.0.0.1 only, which a container on the private network cannot reach; use network: host",
      });
  });
}

/** Every name must be unique and inside the DNS zone its records go in. */
function checkNames(c: z.output<typeof StudyConfigObject>, ctx: z.RefinementCtx) {
  const zone = c.dnsZone ?? defaultZone(c.domain);
  const inZone = (name: string) => name === zone || name.endsWith(`.${zone}`);
  if (!inZone(c.domain)) {
    ctx.addIssue({
      code: "custom",
      path: ["dnsZone"],
      message: `the domain ${c.domain} is not inside this zone; expected ${defaultZone(c.domain)} or another parent of the domain`,
    });
  }
  c.extraDomains.forEach((name, i) => {
    if (name === c.domain || c.extraDomains.indexOf(name) < i) {
      ctx.addIssue({ code: "custom", path: ["extraDomains", i], message: "this name is already listed; each name once" });
    } else if (!inZone(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["extraDomains", i],
        message: `not inside the DNS zone ${zone}; expected a name ending in .${zone}, or set studyhost:manageDns to false`,
      });
    }
  });
}

/** Access-log analytics and the app host's power schedule (./analytics.ts, ./powerSchedule.ts). */
function checkOperations(c: z.output<typeof StudyConfigObject>, ctx: z.RefinementCtx): void {
  checkAnalytics({ analytics: c.analytics, appNames: studyApps(c).map((a) => a.app.name) }, ctx);
  checkPowerSchedule(c, ctx);
}

function checkSize(cloud: CloudName, slug: string | undefined, floor: Floor, path: string[], tierName: string, ctx: z.RefinementCtx) {
  if (slug === undefined) return;
  const choices = sizesMeeting(cloud, floor)
    .map((s) => s.slug)
    .join(", ");
  const size = findSize(cloud, slug);
  if (!size) {
    ctx.addIssue({ code: "custom", path, message: `not a ${cloud} size studyhost knows; expected one of ${choices}` });
  } else if (size.vcpus < floor.vcpus || size.memoryGb < floor.memoryGb) {
    ctx.addIssue({
      code: "custom",
      path,
      message: `${size.vcpus} vCPU / ${size.memoryGb} GB RAM is below the ${tierName} tier's floor (${describeFloor(floor)}); expected one of ${choices}`,
    });
  }
}

function checkVolume(sizeGb: number | undefined, floor: Floor, path: string[], tierName: string, ctx: z.RefinementCtx) {
  if (sizeGb === undefined) return;
  if (sizeGb < floor.storageGb || sizeGb > 16384) {
    ctx.addIssue({ code: "custom", path, message: `expected from ${floor.storageGb} GB (the ${tierName} tier's floor) to 16384 GB` });
  }
}
