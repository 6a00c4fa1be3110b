// The presets, and the step that expands `studyhost:app: { preset: ... }` before the schema runs.
import { ConfigError, plainWording } from "../config/errors";
import { DATABASE_ENGINES } from "../config/schema";
import { backscope } from "./backscope";
import { bofs } from "./bofs";
import { camcops } from "./camcops";
import { emission } from "./emission";
import { Preset, PresetProblem } from "./preset";
import { viewbovis } from "./viewbovis";

export const PRESETS = { bofs, backscope, viewbovis, emission, camcops } as const satisfies Readonly<Record<string, Preset<any>>>;

/** The name a stack gives `studyhost:app.preset`. */
export type PresetName = keyof typeof PRESETS;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The raw configuration with its app's preset expanded: the preset's app, then the user's own app keys
 * over it (env merged name by name), the preset's jobs / fetches / sites in front of the user's, and
 * the preset's other keys where the user set none. A configuration without a preset is returned as is.
 */
export function expandPresets(raw: unknown): unknown {
  if (!isObject(raw) || !isObject(raw.app) || raw.app.preset === undefined) return raw;
  const { preset: name, ...given } = raw.app;
  const preset: Preset<any> | undefined = typeof name === "string" && Object.hasOwn(PRESETS, name) ? PRESETS[name as PresetName] : undefined;
  if (!preset) {
    throw new ConfigError("studyhost:app.preset", `studyhost:app.preset: got ${JSON.stringify(name)}; expected one of ${Object.keys(PRESETS).join(", ")}`);
  }
  // The preset's own keys go to its options; every other key is an app key that overrides the preset.
  const optionKeys = new Set(Object.keys((preset.options as unknown as { shape: object }).shape));
  const options = Object.fromEntries(Object.entries(given).filter(([k]) => optionKeys.has(k)));
  const overrides = Object.fromEntries(Object.entries(given).filter(([k]) => !optionKeys.has(k)));
  const parsed = preset.options.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = `studyhost:app.${issue.path.map(String).join(".")}`;
    const given = issue.path.reduce<unknown>((v, p) => (isObject(v) ? v[p as string] : undefined), options);
    const expected =
      given === undefined
        ? `missing; expected ${descriptionAt(preset.options, issue.path) ?? issue.message}`
        : `got ${JSON.stringify(given)}; ${plainWording(issue, descriptionAt(preset.options, issue.path))}`;
    throw new ConfigError(key, `${key}: ${expected} (the ${preset.name} preset)`);
  }
  const database = isObject(raw.database) ? raw.database : {};
  let expansion;
  try {
    expansion = preset.expand(parsed.data, { tier: String(raw.tier), engine: DATABASE_ENGINES.find((e) => e === database.engine) });
  } catch (err) {
    if (!(err instanceof PresetProblem)) throw err;
    throw new ConfigError(`studyhost:${err.key}`, `studyhost:${err.key}: ${err.message}`);
  }
  const app: Record<string, unknown> = { ...expansion.app, ...overrides };
  if (isObject(expansion.app.env) || isObject(overrides.env)) app.env = { ...(expansion.app.env as object), ...(overrides.env as object) };
  // A default the user set part of (say studyhost:database: { name }) keeps the preset's other keys.
  const defaults = Object.fromEntries(
    Object.entries(expansion.defaults ?? {}).map(([k, v]) => [k, isObject(v) && isObject(raw[k]) ? { ...v, ...raw[k] } : (raw[k] ?? v)]),
  );
  const out: Record<string, unknown> = { ...raw, ...defaults, app };
  for (const [key, list] of Object.entries(expansion.lists ?? {})) out[key] = [...list, ...(Array.isArray(raw[key]) ? raw[key] : [])];
  return out;
}

/** The `.describe()` text of the option at PATH, for "missing; expected ..." messages. */
function descriptionAt(schema: unknown, path: readonly PropertyKey[]): string | undefined {
  let s = schema as { shape?: Record<string, unknown>; description?: string; def?: { innerType?: unknown } } | undefined;
  for (const p of path) {
    while (s && !s.shape && s.def?.innerType) s = s.def.innerType as typeof s;
    s = s?.shape?.[p as string] as typeof s;
  }
  return s?.description;
}
