// Reads a Pulumi stack file (Pulumi.<stack>.yaml) the way the Pulumi CLI hands it to a program:
// every config value as a string, objects and lists as JSON text. Encrypted values (`secure:`) cannot
// be decrypted offline; they become a visible placeholder and are marked secret.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";

export interface StackFile {
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

export function readStackFile(path: string): StackFile {
  const match = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path));
  const stack = match ? match[1] : basename(path).replace(/\.ya?ml$/, "");
  const doc = (parse(readFileSync(path, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in (value as object)) {
      config[key] = "[secret: encrypted in the stack file]";
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { stack, config, secretKeys };
}
