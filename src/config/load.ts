// From raw configuration (Pulumi stack config, a YAML file, or an object in a user's program) to a
// resolved StudyConfig, or one ConfigError whose message is a single line naming the key, the value
// given and what would be valid. Nothing is created before this succeeds.
import { z } from "zod";
import { CATALOG, cheapestSize, findSize, MachineSize, Tier, TIER_TABLE } from "../tiers";
import { ConfigError, plainWording, showValue } from "./errors";
import { StudyConfigSchema } from "./rules";
import { defaultZone, FetchConfig, JobConfig, ParsedStudyConfig, StudyConfigObject, StudyConfigInput } from "./schema";

/** The Pulumi config namespace (and project name) every key lives under. */
export const NAMESPACE = "studyhost";

/** A host's resolved shape: its machine size and data volume. */
export interface HostPlan {
  readonly size: MachineSize;
  readonly volumeGb: number;
}

/** The configuration after validation, with every default filled in and every size chosen. */
export type StudyConfig = Omit<ParsedStudyConfig, "jobs" | "fetch"> & {
  readonly region: string;
  /** Each job and fetch with its app named (the study's app unless one was given). */
  readonly jobs: readonly (JobConfig & { readonly app: string })[];
  readonly fetch: readonly (FetchConfig & { readonly app: string })[];
  readonly database: ParsedStudyConfig["database"] & { readonly name: string };
  readonly dnsZone: string;
  readonly tierSpec: Tier;
  readonly hosts: { readonly app: HostPlan; readonly database?: HostPlan };
};

/**
 * Validate `raw` (keys without the `studyhost:` prefix) and fill in defaults. Throws ConfigError.
 * Its app is written out: a preset (`studyhost:app.preset`) is expanded first by whoever reads the
 * study (stacks/config.ts's parseStudyConfig), since presets are written in this layer's terms and
 * sit above it.
 */
export function parseExpandedConfig(raw: unknown): StudyConfig {
  const result = StudyConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = `${NAMESPACE}:${issue.path.map(String).join(".")}`;
    throw new ConfigError(key, describeIssue(key, issue, raw));
  }
  return resolve(result.data);
}

/**
 * Pulumi hands structured config values to programs as JSON text; turn `studyhost:*` entries back
 * into an object keyed without the namespace.
 */
export function fromPulumiConfig(all: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${NAMESPACE}:`)) continue;
    out[fullKey.slice(NAMESPACE.length + 1)] = decodeValue(text);
  }
  return out;
}

function decodeValue(text: string): unknown {
  const t = text.trim();
  if (t === "true" || t === "false" || t.startsWith("{") || t.startsWith("[") || /^-?\d+(\.\d+)?$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

function resolve(c: ParsedStudyConfig): StudyConfig {
  const tierSpec = TIER_TABLE[c.tier];
  const pick = (override: string | undefined, floor: Tier["app"]) => (override ? findSize(c.cloud, override)! : cheapestSize(c.cloud, floor));
  const app: HostPlan = { size: pick(c.sizes.app, tierSpec.app), volumeGb: c.volumes.appGb ?? tierSpec.app.storageGb };
  const database = tierSpec.database
    ? { size: pick(c.sizes.database, tierSpec.database), volumeGb: c.volumes.databaseGb ?? tierSpec.database.storageGb }
    : undefined;
  return {
    ...c,
    region: c.region ?? CATALOG[c.cloud].defaultRegion,
    jobs: c.jobs.map((job) => ({ ...job, app: job.app ?? c.app.name })),
    fetch: c.fetch.map((fetch) => ({ ...fetch, app: fetch.app ?? c.app.name })),
    database: { ...c.database, name: c.database.name ?? c.app.name },
    dnsZone: c.dnsZone ?? defaultZone(c.domain),
    tierSpec,
    hosts: { app, database },
  };
}

function describeIssue(key: string, issue: z.core.$ZodIssue, raw: unknown): string {
  const given = valueAt(raw, issue.path);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(issue.path);
    const where = issue.path.length ? `${key}.` : `${NAMESPACE}:`;
    return `${where}${issue.keys[0]}: unknown key; valid keys here are ${known.join(", ")}`;
  }
  if (given === undefined) {
    // A rule that tied keys together rejected a default (say, a second app on the default port).
    if (issue.code === "custom" && !issue.message.startsWith("expected ")) return `${key}: not set, so its default applies; ${issue.message}`;
    return `${key}: missing; expected ${expectation(issue)}`;
  }
  return `${key}: got ${showValue(given, issue.path)}; ${plainWording(issue, descriptionAt(issue.path))}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  const m = plainWording(issue, descriptionAt(issue.path));
  if (m.startsWith("expected ")) return m.slice("expected ".length);
  return m;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: any = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = v[p as any];
  }
  return v;
}

/** The schema of the key at `path`, as declared (its `.describe()` text is on this one, not on what it wraps). */
function schemaAt(path: readonly PropertyKey[]): any {
  let schema: any = StudyConfigObject;
  for (const p of path) {
    schema = unwrap(schema);
    if (schema?.shape) schema = schema.shape[p as string];
    // A union (the app's kinds): the key of the first option that has it.
    else if (schema?.options) schema = schema.options.map(unwrap).find((o: any) => o?.shape?.[p as string])?.shape[p as string];
    else if (schema?.element) schema = schema.element;
  }
  return schema;
}

/** The key's `.describe()` text, or undefined. */
function descriptionAt(path: readonly PropertyKey[]): string | undefined {
  let schema = schemaAt(path);
  // `.optional().describe(...)` and `.describe(...).optional()` both occur: look through the wrappers.
  while (schema && !schema.description && schema.def?.innerType) schema = schema.def.innerType;
  return schema?.description;
}

/** The keys an object in the schema accepts, for "unknown key" messages. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let schema: any = schemaAt(path);
  schema = unwrap(schema);
  if (schema?.options) return [...new Set<string>(schema.options.flatMap((o: any) => Object.keys(unwrap(o)?.shape ?? {})))];
  return schema?.shape ? Object.keys(schema.shape) : [];
}

function unwrap(schema: any): any {
  while (schema && !schema.shape && schema.def?.innerType) schema = schema.def.innerType;
  while (schema && !schema.shape && schema.def?.in) schema = schema.def.in;
  return schema;
}

export type { StudyConfigInput };
