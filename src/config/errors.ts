// A configuration mistake and the wording of its one-line message, shared by everything that reads a
// study's configuration: the schema's checks (load.ts), the presets' own options (src/presets), and the
// clouds' limits (src/clouds/userData.ts). Apart from load.ts so that those can report a mistake the way
// the schema does without importing the schema's reader.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

/**
 * A configuration mistake. A `pulumi.RunError`, so `pulumi up` prints only the message (no stack
 * trace) and stops before any resource is registered.
 */
export class ConfigError extends pulumi.RunError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
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
 * the keys whose schema sets no message of its own. The key's `.describe()` text (`about`) says what
 * it holds.
 */
export function plainWording(issue: z.core.$ZodIssue, about: string | undefined): string {
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

/** The value a message says it got, at `path`: short, and never a secret. */
export function showValue(value: unknown, path: readonly PropertyKey[]): string {
  // Never echo key material, environment values (API keys) or URL credentials into logs or CI output.
  if (typeof value === "string" && value.includes("PRIVATE KEY")) return "a private key";
  if (path.some((p) => UNPRINTABLE.has(String(p)))) {
    return typeof value === "string" ? `a value of ${value.length} characters (not shown)` : `a ${typeof value} (not shown)`;
  }
  const text = JSON.stringify(value).replace(/(\w+:\/\/)[^/@\s"]+@/g, "$1***@");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
