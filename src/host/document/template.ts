// The hosts' scripts, SQL, JavaScript, units and nginx files are real files beside the TypeScript that
// installs them (src/host/<concern>/*.sh, *.py, ...): editors highlight them, and shellcheck, bash -n,
// python's compiler, systemd-analyze and nginx -t check them as they are (test/host/host-assets.test.ts).
// The build copies them next to the compiled code (scripts/copy-assets.js), so they are read the same way
// from src/ (the tests) and from dist/ (the package).
//
// A value reaches an asset in one of two ways: at run time, from the env files the scripts already
// source; or at render time, through a named placeholder, @@NAME@@, which `fill` replaces. A placeholder
// holds text already quoted for the asset's language by the caller (shell's q(), systemdArgument, ...).
import { readFileSync } from "node:fs";
import { join } from "node:path";

const cache = new Map<string, string>();

/** The text of the asset NAME in the folder DIR (the caller's __dirname), read once. */
export function hostAsset(dir: string, name: string): string {
  const path = join(dir, name);
  let text = cache.get(path);
  if (text === undefined) {
    text = readFileSync(path, "utf8");
    cache.set(path, text);
  }
  return text;
}

const PLACEHOLDER = /@@([A-Z][A-Z0-9_]*)@@/g;

/**
 * TEMPLATE with every @@NAME@@ replaced by VALUES[NAME]. Throws when the template names a placeholder
 * VALUES lacks, or VALUES holds a name the template never uses: a renamed placeholder can neither leave
 * @@NAME@@ in a host's file nor be dropped silently. WHAT names the template in the error.
 */
export function fill(template: string, values: Readonly<Record<string, string>>, what: string): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, name)) {
      missing.add(name);
      return "";
    }
    used.add(name);
    return values[name];
  });
  if (missing.size) throw new Error(`${what}: no value for placeholder(s) ${[...missing].map((n) => `@@${n}@@`).join(", ")}`);
  const unused = Object.keys(values).filter((n) => !used.has(n));
  if (unused.length) throw new Error(`${what}: value(s) for ${unused.join(", ")}, which the template never uses`);
  return out;
}

/** The asset NAME in DIR with its placeholders filled (see fill). */
export function fillAsset(dir: string, name: string, values: Readonly<Record<string, string>>): string {
  return fill(hostAsset(dir, name), values, name);
}

/**
 * A piece of a larger file (a site's location-*.conf, a site's part of certificate-site.bash, a step's
 * part per log folder): the asset NAME in DIR filled, without the file's last newline, since the pieces
 * are joined into their file.
 */
export function fillPiece(dir: string, name: string, values: Readonly<Record<string, string>>): string {
  return fillAsset(dir, name, values).replace(/\n$/, "");
}
