// Rendering a preset's example stack (Pulumi.<preset>.yaml) as `studyhost plan --out` does, and
// reading back what its app host would get, for the per-preset tests that check it against the guide.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { configErrorOf, onCloud, presetExamples } from "../helpers";
import { renderHosts, RenderedHost } from "../support/render";

export function example(preset: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const config = presetExamples()[preset];
  if (!config) throw new Error(`no Pulumi.<stack>.yaml uses the ${preset} preset`);
  return { ...config, ...overrides };
}

export interface AppHostView {
  readonly host: RenderedHost;
  file(path: string): string;
  /** The #cloud-config's write_files entry for PATH: its permissions. */
  permissions(path: string): string | undefined;
  /** The packages the #cloud-config installs. */
  packages(): string[];
}

export async function renderAppHost(config: Record<string, unknown>, cloud: "digitalocean" | "aws" = "digitalocean"): Promise<AppHostView> {
  return (await renderStudyHosts(config, cloud)).app;
}

/** The app host and, on two-server, the database host. */
export async function renderStudyHosts(
  config: Record<string, unknown>,
  cloud: "digitalocean" | "aws" = "digitalocean",
): Promise<{ app: AppHostView; db?: AppHostView }> {
  const hosts = await renderHosts({ [`${cloud}-${String((config.app as { preset?: string }).preset)}`]: onCloud(config, cloud) });
  const db = hosts.find((h) => h.host === "study-db");
  return { app: hostView(hosts.find((h) => h.host === "study-app")!), ...(db ? { db: hostView(db) } : {}) };
}

function hostView(host: RenderedHost): AppHostView {
  const userData = readFileSync(join(host.dir, "user-data"), "utf8");
  return {
    host,
    file: (path) => readFileSync(join(host.root, path), "utf8"),
    packages: () => (parse(userData) as { packages?: string[] }).packages ?? [],
    permissions: (path) => new RegExp(`path: ${path.replace(/[.]/g, "\\.")}\\n(?:\\s+(?!path:)\\S.*\\n)*?\\s+permissions: "?(\\d+)`).exec(userData)?.[1],
  };
}

/** The config's one-line error, or "" when it is valid. */
export const configError = configErrorOf;

/** Line numbers, to check that one command runs before another in a script. */
export const lineOf = (text: string, pattern: RegExp): number => text.split("\n").findIndex((l) => pattern.test(l));
