// Several apps on one host (studyhost:sites) and a staging copy (studyhost:staging): the stacks
// test/sites.test.ts plans and reads, and test/host/sites.test.ts checks with the real programs.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROVISION_LOG } from "../../../src/host";
import { studyConfig } from "../../helpers";
import { RenderedHost } from "../render";

const auspice = {
  domain: "nextstrain.study.example.org",
  app: {
    kind: "container",
    name: "nextstrain",
    image: "nextstrain/auspice:2.51.0",
    port: 4001,
    command: ["auspice", "view", "--datasetDir", "/data"],
    volumes: [{ name: "datasets", containerPath: "/data", readOnly: true }],
    healthPath: "/",
  },
};
const dashboard = {
  domain: "dashboard.example.org",
  extraDomains: ["www.dashboard.example.org"],
  database: true,
  app: { kind: "python", name: "dashboard", source: { pip: "study-dashboard==0.3" }, start: "gunicorn -b 127.0.0.1:${PORT} dashboard:app", port: 5000 },
};
const staging = { domain: "test.study.example.org", source: { git: "https://git.example.org/lab/study.git", ref: "v1.1.0-rc1" } };
export const withSites = (cloud: "digitalocean" | "aws", tier: string, extra: Record<string, unknown> = {}) =>
  studyConfig(cloud, tier, { sites: [auspice, dashboard], staging, ...extra });

/** Every name on the host, by app: the study's, staging's and the sites'. */
export const NAMES = {
  study: ["study.example.org", "www.study.example.org"],
  study_staging: ["test.study.example.org"],
  nextstrain: ["nextstrain.study.example.org"],
  dashboard: ["dashboard.example.org", "www.dashboard.example.org"],
};
export const ALL_NAMES = Object.values(NAMES).flat();
export const APPS = Object.keys(NAMES);

/** The hosts rendered: large on both clouds, two-server and small with SQLite on DigitalOcean (five hosts). */
export function siteHostStacks(): Record<string, Record<string, unknown>> {
  return {
    "do-large": withSites("digitalocean", "large"),
    "aws-large": withSites("aws", "large"),
    "do-two-server": withSites("digitalocean", "two-server"),
    "do-small-sqlite": withSites("digitalocean", "small", { database: { engine: "sqlite" } }),
  };
}

/**
 * The rendered provisioning script with each step's body replaced by a stub that logs its name
 * and fails if it is the step named in $FAIL: the real loop, order and gate, nothing else.
 */
export function stubbedProvision(h: RenderedHost, dir: string): string {
  const text = readFileSync(join(h.root, "usr/local/sbin/studyhost-provision"), "utf8");
  const lines = text.split("\n");
  const starts = lines.flatMap((l, i) => (/^step_[a-z0-9_]+\(\) \{$/.test(l) ? [i] : []));
  const end = lines.findIndex((l) => l.startsWith("# Steps that need others"));
  expect(end).toBeGreaterThan(starts[starts.length - 1]);
  const out = [...lines.slice(0, starts[0])];
  starts.forEach((start, k) => {
    const fn = /^step_([a-z0-9_]+)\(\)/.exec(lines[start])![1];
    const stop = k + 1 < starts.length ? starts[k + 1] : end;
    // The original body ends at the last closing brace before the next step.
    const close = lines.slice(start, stop).lastIndexOf("}");
    expect(close).toBeGreaterThan(0);
    out.push(`step_${fn}() {`, `echo ${fn} >> "$RUNLOG"`, `[ "${fn}" != "\${FAIL:-}" ]`, "}", "");
  });
  out.push(...lines.slice(end));
  const script = join(dir, "provision");
  writeFileSync(script, out.join("\n").split(PROVISION_LOG).join(join(dir, "provision.log")), { mode: 0o755 });
  return script;
}
