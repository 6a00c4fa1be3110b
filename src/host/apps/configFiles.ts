// An app's own configuration files (studyhost:app.configFiles) and the front end nginx serves
// (studyhost:app.frontend): what they render to and the lines of the deploy script that put them in
// place. TOML goes through smol-toml (a small, maintained TOML 1.0 serializer: strings with secrets in
// them are quoted and escaped by the library, not by hand).
import { stringify } from "smol-toml";
import type { AppConfig, PythonAppConfig } from "../../config/schema";
import type { AppPaths } from "./paths";
import { envFile } from "../document/env";
import { secretFile } from "../document/part";
import type { HostFile } from "../document/part";
import { q } from "../document/shell";

/** Every `${NAME}` in the string values replaced by the app's env (the schema checked the names). */
function substitute(value: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof value === "string") return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => env[name] ?? whole);
  if (Array.isArray(value)) return value.map((v) => substitute(v, env));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env)]));
  return value;
}

/**
 * An ini file as Python's configparser reads it: `[section]`, `KEY = value`, a list as indented
 * continuation lines. The schema checked the literal content (iniProblem); a substituted value must
 * keep to one line without `%` too.
 */
export function iniFile(content: Record<string, Record<string, unknown>>, where: string): string {
  const one = (v: unknown): string => {
    const s = String(v);
    if (/[\r\n%]/.test(s)) throw new Error(`${where}: a value holds a newline or %, which configparser would not read back as written`);
    return s;
  };
  return Object.entries(content)
    .map(([section, entries]) => {
      const lines = Object.entries(entries).map(([k, v]) => (Array.isArray(v) ? `${k} =${v.map((x) => `\n    ${one(x)}`).join("")}` : `${k} = ${one(v)}`));
      return `[${section}]\n${lines.join("\n")}\n`;
    })
    .join("\n");
}

export const configFilePath = (p: AppPaths, name: string) => `${p.etc}/${name}`;

/** The files, root-only as written by cloud-init (the app's group does not exist yet then). */
export function configFileContents(app: AppConfig, p: AppPaths, env: Readonly<Record<string, string>>): HostFile[] {
  return app.configFiles.map((f) => {
    const content = substitute(f.content, env);
    const text =
      f.format === "toml"
        ? `${stringify(content as Record<string, unknown>)}\n`
        : f.format === "dotenv"
          ? envFile(content as Record<string, string>)
          : f.format === "ini"
            ? iniFile(content as Record<string, Record<string, unknown>>, `studyhost:app.configFiles (${f.name})`)
            : String(content);
    return secretFile(configFilePath(p, f.name), text);
  });
}

/** Deploy-script lines: the files readable by the app's group; a Python app's links in its working folder. */
export function configFileSetup(app: AppConfig, p: AppPaths, workingDirectory?: string): string {
  return (
    app.configFiles
      .flatMap((f) => {
        const path = configFilePath(p, f.name);
        const lines = [`chgrp ${app.name} ${path} && chmod 0640 ${path}`];
        // After the checkout: `git checkout --force` would put a tracked file of the same name back.
        if (f.link && workingDirectory) lines.push(`ln -sfn ${path} ${q(`${workingDirectory}/${f.link}`)}`);
        return lines;
      })
      .join("\n") || ": # no configuration files"
  );
}

/** A container app's configuration files, mounted read-only where the image expects them. */
export function configFileMounts(app: AppConfig, p: AppPaths): string[] {
  return app.configFiles.filter((f) => f.mount).map((f) => `-v ${configFilePath(p, f.name)}:${f.mount}:ro`);
}

export const frontendDir = (p: AppPaths) => `${p.code}/frontend`;

/** Deploy-script lines: the built front end checked out at its ref, as the app's user. */
export function frontendCheckout(app: PythonAppConfig, p: AppPaths): string {
  const f = app.frontend;
  if (!f) return ": # no front end";
  const as = `runuser -u ${app.name} --`;
  const dir = frontendDir(p);
  return `if [ ! -d ${dir}/.git ]; then ${as} git clone --quiet ${q(f.git)} ${dir}; fi
${as} git -C ${dir} fetch --quiet --tags origin
${as} git -C ${dir} checkout --quiet --force ${q(f.ref)}
test -f ${q(`${dir}/${f.dir}/index.html`)} || { echo "the front end at ${f.ref} has no ${f.dir}/index.html"; exit 1; }`;
}
