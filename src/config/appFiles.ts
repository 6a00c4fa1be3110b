// The keys that put files beside an app: `configFiles` (its own configuration, rendered with the
// generated secrets: BOFS's production.toml, backscope's .env, e-mission's conf files) and, for a
// Python app, `frontend` (a built front end that nginx serves, as seed 004 does with frontscope).
import { z } from "zod";

/** Variables every app's env has, generated or derived by studyhost (beside the app's own `env`). */
export const GENERATED_ENV = ["PORT", "SECRET_KEY", "ADMIN_PASSWORD", "DATABASE_URL"] as const;
/** And those of an app whose database is PostgreSQL (libpq's names). */
export const POSTGRES_ENV = ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"] as const;

const fileName = z
  .string()
  .regex(/^\.?[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "expected a file name such as production.toml or .env (no folders)")
  .describe("a file name such as production.toml");
const relativePath = z
  .string()
  .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._\/-]+$/, "expected a path inside the app's folder, such as production.toml or conf/app.conf")
  .describe("a path relative to the app's working folder");

/**
 * A configuration file of the app, kept in /etc/<app>/<name> (root-owned, readable by the app's group
 * only: it holds secrets). `${NAME}` in a string value is replaced by that variable of the app's env
 * (its own `env` or PORT, SECRET_KEY, ADMIN_PASSWORD, DATABASE_URL) when the host is rendered.
 */
export const ConfigFileSchema = z
  .object({
    name: fileName,
    format: z
      .enum(["toml", "dotenv", "ini", "text"], { error: "expected toml, dotenv, ini or text" })
      .describe("toml (content: a table), dotenv (content: NAME: value), ini (content: { section: { KEY: value } }) or text (content: a string)"),
    content: z
      .union([z.string(), z.record(z.string(), z.unknown())], { error: "expected a table of values (toml, dotenv) or a string (text)" })
      .describe("the file's content"),
    link: relativePath.optional().describe("a Python app: also a symlink to it at this path in the app's working folder (e.g. .env)"),
    mount: z
      .string()
      .regex(/^\/[^\s:]*$/, "expected an absolute path inside the container")
      .optional()
      .describe("a container app: mounted read-only at this path"),
  })
  .strict();

export const FrontendSchema = z
  .object({
    git: z.string().min(1).describe("a git URL of the built front end"),
    ref: z.string().min(1).describe("a tag, branch or commit"),
    dir: relativePath.default(".").describe("the folder in that repository holding index.html (default .)"),
    apiPaths: z
      .array(z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, "expected a URL path such as /api"))
      .min(1)
      .default(["/api"])
      .describe("the paths proxied to the app (default [/api]); everything else is served from the front end"),
  })
  .strict()
  .describe("a built front end that nginx serves at /, proxying only apiPaths to the app");

export type ConfigFileConfig = z.output<typeof ConfigFileSchema>;
export type FrontendConfig = z.output<typeof FrontendSchema>;

/** `${NAME}` references in a file's string values. */
export function referencedNames(content: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") for (const m of v.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) found.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(content);
  return [...found];
}

/** Each file: the content's shape fits its format, names are unique, every `${NAME}` exists. */
export function checkConfigFiles(
  files: readonly ConfigFileConfig[],
  envNames: readonly string[],
  kind: "python" | "container",
  key: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const known = new Set([...GENERATED_ENV, ...envNames]);
  files.forEach((f, i) => {
    const at = [...key, i];
    if ((f.format === "text") !== (typeof f.content === "string")) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "content"],
        message:
          f.format === "text" ? "expected a string for a text file" : `expected a table of values for ${f.format === "ini" ? "an" : "a"} ${f.format} file`,
      });
    }
    if (f.format === "ini" && typeof f.content === "object") {
      const why = iniProblem(f.content);
      if (why) ctx.addIssue({ code: "custom", path: [...at, "content", ...why.path], message: why.message });
    }
    if (f.format === "dotenv" && typeof f.content === "object" && Object.values(f.content).some((v) => typeof v !== "string")) {
      ctx.addIssue({ code: "custom", path: [...at, "content"], message: 'expected string values in a dotenv file (NAME: "value")' });
    }
    if (files.findIndex((g) => g.name === f.name) < i)
      ctx.addIssue({ code: "custom", path: [...at, "name"], message: "another file has this name; each file once" });
    if (kind === "python" && f.mount) ctx.addIssue({ code: "custom", path: [...at, "mount"], message: "mount is for container apps; a Python app takes link" });
    if (kind === "container" && f.link)
      ctx.addIssue({ code: "custom", path: [...at, "link"], message: "link is for Python apps; a container app takes mount" });
    for (const name of referencedNames(f.content)) {
      if (!known.has(name))
        ctx.addIssue({ code: "custom", path: [...at, "content"], message: `\${${name}} is not in the app's env; expected one of ${[...known].join(", ")}` });
    }
  });
}

/**
 * What an ini file's content may hold, so that Python's configparser (CamCOPS's reader, seed 001)
 * reads back exactly what was written: sections of KEY: value, a value a string, number or boolean on
 * one line, or a list of strings (written as configparser's indented continuation lines). No `%`:
 * ConfigParser's interpolation would read it (and %% would be read literally by a RawConfigParser).
 */
export function iniProblem(content: Record<string, unknown>): { path: string[]; message: string } | undefined {
  const bad = (path: string[], message: string) => ({ path, message });
  const line = (v: string) => !/[\r\n%]/.test(v);
  for (const [section, entries] of Object.entries(content)) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(section)) return bad([section], "expected a section name of letters, digits, _ . : -");
    if (!entries || typeof entries !== "object" || Array.isArray(entries)) return bad([section], "expected a table of KEY: value in each section");
    for (const [key, value] of Object.entries(entries)) {
      if (!/^[A-Za-z0-9_.-]+$/.test(key)) return bad([section, key], "expected a key of letters, digits, _ . -");
      const values = Array.isArray(value) ? value : [value];
      const ok = values.every((v) =>
        typeof v === "string" ? line(v) && v.trim() === v : !Array.isArray(value) && (typeof v === "number" || typeof v === "boolean"),
      );
      if (!ok) return bad([section, key], "expected a string (one line, no %, no spaces at either end), a number, a boolean or a list of such strings");
    }
  }
  return undefined;
}
