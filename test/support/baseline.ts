// The plans of stacks that use neither `sites` nor `staging`, as recorded before those keys existed
// (test/fixtures/baseline-plans.json, written from commit 0acacc0 by the same function). Every
// resource's type, name, parent, inputs (secrets as digests of their placeholder-filled values, so a
// host's user data is compared byte for byte) and options, and the stack outputs.
import { PlanResult } from "../../src/plan";
import { planOf, studyConfig } from "../helpers";

const container = {
  kind: "container",
  name: "dashboard",
  image: "ghcr.io/example/dashboard:2.3.1",
  port: 3000,
  volumes: [{ name: "uploads", containerPath: "/app/uploads" }],
  env: { LOG_LEVEL: "info" },
};
const pip = { kind: "python", name: "experiment", source: { pip: "bride-of-frankensystem==1.2" }, start: "BOFS production.toml", port: 5000 };
const git = {
  kind: "python",
  name: "study",
  source: { git: "https://git.example.org/lab/study.git", ref: "v1.0.0" },
  packages: ["gunicorn", "psycopg2-binary"],
  start: "gunicorn --bind 127.0.0.1:${PORT} wsgi:app",
  static: { urlPath: "/static", dir: "app/static" },
  setup: ["flask init-db"],
  migrate: ["flask db upgrade"],
  healthPath: "/healthz",
};
const offsite = {
  backups: { offsite: { bucket: "study-backups", endpoint: "https://fra1.digitaloceanspaces.com", accessKeyId: "KEYID" } },
  offsiteSecretAccessKey: "secret",
};

/** Every tier, cloud, database engine and app kind, without sites or staging. */
export function baselineConfigs(): Record<string, Record<string, unknown>> {
  const configs: Record<string, Record<string, unknown>> = {};
  for (const cloud of ["digitalocean", "aws"] as const) {
    configs[`${cloud}-small-sqlite-pip`] = studyConfig(cloud, "small", { database: { engine: "sqlite" }, app: pip });
    configs[`${cloud}-small-postgres-container`] = studyConfig(cloud, "small", { app: container });
    configs[`${cloud}-large-git-offsite`] = studyConfig(cloud, "large", { app: git, ...offsite });
    configs[`${cloud}-two-server-container`] = studyConfig(cloud, "two-server", { app: container });
    configs[`${cloud}-two-server-git`] = studyConfig(cloud, "two-server", { app: git });
  }
  return configs;
}

export interface PlanSnapshot {
  readonly resources: unknown[];
  readonly outputs: Record<string, unknown>;
}

export function snapshot(plan: PlanResult): PlanSnapshot {
  return {
    resources: plan.resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent,
      custom: r.custom,
      inputs: r.inputs,
      options: r.options,
    })),
    outputs: plan.outputs,
  };
}

export async function baselineSnapshots(): Promise<Record<string, PlanSnapshot>> {
  const out: Record<string, PlanSnapshot> = {};
  for (const [label, config] of Object.entries(baselineConfigs())) out[label] = snapshot(await planOf(config, label));
  return out;
}
