// Reads a Pulumi stack file (Pulumi.<stack>.yaml) the way the Pulumi CLI hands it to a program:
// every config value as a string, objects and lists as JSON text. Encrypted values (`secure:`) cannot
// be decrypted offline; they become a visible placeholder and are marked secret.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse, YAMLParseError } from "yaml";

export interface StackFile {
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

/** A stack file that is not valid YAML: the message is one line, `FILE:LINE:COLUMN: not valid YAML: ...`. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

export function readStackFile(path: string): StackFile {
  const match = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path));
  const stack = match ? match[1] : basename(path).replace(/\.ya?ml$/, "");
  const doc = (parseYaml(path, readFileSync(path, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const { plain, secret } = withoutSecrets(value);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (secret) secretKeys.push(key);
  }
  return { stack, config, secretKeys };
}

/**
 * The parsed document, or a StackFileError where the file points (the way compilers do, so an editor can
 * jump there). yaml's own message runs over several lines with a snippet of the file: keep its first
 * sentence, without the position it repeats.
 */
function parseYaml(path: string, text: string): unknown {
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    const { line, col } = err.linePos?.[0] ?? { line: 1, col: 1 };
    const what = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new StackFileError(`${path}:${line}:${col}: not valid YAML: ${what.charAt(0).toLowerCase()}${what.slice(1)}`);
  }
}

const PLACEHOLDER = "[secret: encrypted in the stack file]";

/**
 * The value with every `secure:` entry replaced by the placeholder, at any depth: `pulumi config set
 * --secret --path 'studyhost:fetchSecretAccessKeys.data'` encrypts one entry of a map.
 */
function withoutSecrets(value: unknown): { plain: unknown; secret: boolean } {
  if (value === null || typeof value !== "object") return { plain: value, secret: false };
  if ("secure" in (value as object)) return { plain: PLACEHOLDER, secret: true };
  let secret = false;
  const walk = (v: unknown) => {
    const inner = withoutSecrets(v);
    secret ||= inner.secret;
    return inner.plain;
  };
  const plain = Array.isArray(value) ? value.map(walk) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  return { plain, secret };
}
