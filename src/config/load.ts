// From raw configuration (Pulumi stack config, a YAML file, or an object in a user's program) to a
// resolved StudyConfig, or one ConfigError whose message is a single line naming the key, the value
// given and what would be valid. Nothing is created before this succeeds.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CATALOG, cheapestSize, findSize, MachineSize, Tier, TIER_TABLE } from "../tiers";
import { expandPresets } from "../presets";
import { defaultZone, FetchConfig, JobConfig, ParsedStudyConfig, StudyConfigObject, StudyConfigSchema, StudyConfigInput } from "./schema";

/** The Pulumi config namespace (and project name) every key lives under. */
export const NAMESPACE = "studyhost";

/**
 * A configuration mistake. A `pulumi.RunError`, so `pulumi up` prints only the message (no stack
 * trace) and stops before any resource is registered.
 */
export class ConfigError extends pulumi.RunError {
  constructor(readonly key: string, message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

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

/** Validate `raw` (keys without the `studyhost:` prefix) and fill in defaults. Throws ConfigError. */
export function parseStudyConfig(given: unknown): StudyConfig {
  // A preset (studyhost:app.preset) becomes the app and keys its guide asks for; then one schema checks all.
  const raw = expandPresets(given);
  const result = StudyConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = `${NAMESPACE}:${issue.path.map(String).join(".")}`;
    throw new ConfigError(key, describeIssue(key, issue, raw));
  }
  return resolve(result.data);
}

/** Read every `studyhost:` key from the running Pulumi program's config and parse it. */
export function readStudyConfig(): StudyConfig {
  return parseStudyConfig(fromPulumiConfig(pulumi.runtime.allConfig()));
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
  return `${key}: got ${show(given, issue.path)}; ${plainWording(issue)}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  const m = plainWording(issue);
  if (m.startsWith("expected ")) return m.slice("expected ".length);
  return m;
}

const TYPE_WORDS: Record<string, string> = {
  array: "a list",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  string: "text",
  object: "a map of keys and values",
};

/**
 * zod's own wording ("Invalid input: expected array, received string", "Too small: expected number to
 * be >=1") put the way our other messages are ("expected a list (shell commands, run in order)"), for
 * the keys whose schema sets no message of its own. The key's `.describe()` text (`about`; by default
 * looked up in the study's schema) says what it holds.
 */
export function plainWording(issue: z.core.$ZodIssue, about: string | undefined = descriptionAt(issue.path)): string {
  if (!/^(Invalid input|Too small|Too big)\b/.test(issue.message)) return issue.message;
  const described = (text: string) => (about ? `${text}: ${about}` : text);
  if (issue.code === "invalid_type") return described(`expected ${TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`}`);
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
    const inclusive = issue.inclusive !== false;
    const limit = issue.code === "too_small" ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than";
    if (issue.origin === "array") return described(`expected ${limit} ${bound} ${bound === 1 ? "entry" : "entries"}`);
    if (issue.origin === "string") return described(`expected ${limit} ${bound} ${bound === 1 ? "character" : "characters"}`);
    return described(`expected a number ${limit === "at least" ? "of at least" : limit === "at most" ? "of at most" : limit} ${bound}`);
  }
  return issue.message;
}

/** Keys whose values may be secrets: an error names them but never prints them. */
const UNPRINTABLE = new Set(["env", "caBundle", "content", "offsiteSecretAccessKey", "fetchSecretAccessKeys"]);

function show(value: unknown, path: readonly PropertyKey[]): string {
  // Never echo key material, environment values (API keys) or URL credentials into logs or CI output.
  if (typeof value === "string" && value.includes("PRIVATE KEY")) return "a private key";
  if (path.some((p) => UNPRINTABLE.has(String(p)))) {
    return typeof value === "string" ? `a value of ${value.length} characters (not shown)` : `a ${typeof value} (not shown)`;
  }
  const text = JSON.stringify(value).replace(/(\w+:\/\/)[^/@\s"]+@/g, "$1***@");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
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
