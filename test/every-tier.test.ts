// The data-safety and exposure rules of issue 2, for every tier on each cloud: the per-cloud test files
// look at each tier's shape, this one holds every tier to the same rules, so a tier added or changed
// later cannot quietly drop one (protect on a volume, a port left open, a secret in the clear).
import type { Output } from "@pulumi/pulumi";
import type { PlanResult, PlannedResource } from "../src/plan";
import type { Study } from "../stacks/study";
import { CLOUD_TYPES, firewallRefOf, inboundRules, one, ofType, planStudy, studyConfig } from "./helpers";

const IGNORED_ON_MACHINES = { digitalocean: ["userData", "sshKeys"], aws: ["userData", "userDataBase64", "keyName"] };
const ADMINS = studyConfig("aws", "small").adminCidrs as string[];
const ANYWHERE = ["0.0.0.0/0", "::/0"];

const combinations = (["digitalocean", "aws"] as const).flatMap((cloud) => (["small", "large", "two-server"] as const).map((tier) => [cloud, tier] as const));

describe.each(combinations)("on %s, %s", (cloud, tier) => {
  const T = CLOUD_TYPES[cloud];
  const hasDbHost = tier === "two-server";
  let plan: PlanResult;
  let study: Study;
  beforeAll(async () => {
    ({ plan, study } = await planStudy(studyConfig(cloud, tier)));
  });
  const machine = (host: string) => one(plan, T.machine, `study-${host}-server`);

  test("the data-bearing resources are every volume and the database host, each protected and retained on delete", () => {
    const volumes = ofType(plan, T.volume);
    expect(volumes.map((v) => v.name).sort()).toEqual(hasDbHost ? ["study-app-data", "study-db-data"] : ["study-app-data"]);
    const dataBearing: PlannedResource[] = [...volumes, ...(hasDbHost ? [machine("db")] : [])];
    for (const r of dataBearing) expect([r.name, r.options]).toEqual([r.name, expect.objectContaining({ protect: true, retainOnDelete: true })]);
    // Nothing else is protected: a protected app host could not be replaced by a new image or size.
    expect(
      plan.resources
        .filter((r) => r.options.protect)
        .map((r) => r.name)
        .sort(),
    ).toEqual(dataBearing.map((r) => r.name).sort());
  });

  test("every machine ignores changes to its user data and SSH keys", () => {
    const machines = ofType(plan, T.machine);
    expect(machines).toHaveLength(hasDbHost ? 2 : 1);
    for (const m of machines) expect([m.name, m.options.ignoreChanges]).toEqual([m.name, IGNORED_ON_MACHINES[cloud]]);
  });

  test("volume attachments (and the address's) let go before they are replaced", () => {
    const attachments = [...ofType(plan, T.attachment), ...ofType(plan, T.addressAttachment)];
    expect(attachments).toHaveLength(hasDbHost ? 3 : 2);
    for (const a of attachments) expect([a.name, a.options.deleteBeforeReplace]).toEqual([a.name, true]);
  });

  test("the generated secrets are Pulumi secrets from RandomPassword resources, and user data carrying them is secret", async () => {
    const generated: Record<string, Output<string>> = {
      "study-app-secret-key": study.app.secretKey,
      "study-app-admin-password": study.app.adminPassword,
      // Every tier here runs PostgreSQL (the default), on the app host or its own.
      "study-db-app-password": study.database!.appPassword,
      "study-db-analyst-password": study.database!.analystPassword,
    };
    // Every password the plan generates is one of these: none is left out of the check.
    expect(
      ofType(plan, "random:index/randomPassword:RandomPassword")
        .map((r) => r.name)
        .sort(),
    ).toEqual(Object.keys(generated).sort());
    for (const [name, output] of Object.entries(generated)) {
      expect([name, await (output as unknown as { isSecret: Promise<boolean> }).isSecret]).toEqual([name, true]);
      expect(await new Promise((resolve) => output.apply(resolve))).toBe(`plan-placeholder-${name}`);
    }
    const userDataKey = cloud === "aws" ? "userDataBase64" : "userData";
    for (const m of ofType(plan, T.machine)) expect(m.inputs[userDataKey]).toMatch(/^\[secret [0-9a-f]{12}\]$/);
    // AWS: the files (secrets among them) travel in S3, and are a secret input there too.
    for (const o of ofType(plan, "aws:s3/bucketObjectv2:BucketObjectv2")) expect(o.inputs.contentBase64).toMatch(/^\[secret [0-9a-f]{12}\]$/);
  });

  test("the app host's firewall: 80 and 443 from anywhere, 22 from the admin networks only, nothing else in", () => {
    expect(inboundRules(one(plan, T.firewall, "study-app-firewall"))).toEqual([
      { port: "80", from: ANYWHERE },
      { port: "443", from: ANYWHERE },
      { port: "22", from: ADMINS },
    ]);
  });

  test(
    hasDbHost
      ? "the database host's firewall: 5432 only from the app host, 22 from admins"
      : "no database firewall: PostgreSQL is on the app host and not open",
    () => {
      const firewalls = ofType(plan, T.firewall);
      expect(firewalls.map((f) => f.name).sort()).toEqual(hasDbHost ? ["study-app-firewall", "study-db-firewall"] : ["study-app-firewall"]);
      if (!hasDbHost) return;
      const app = firewallRefOf(machine("app"));
      expect(firewallRefOf(machine("db"))).not.toBe(app);
      expect(inboundRules(one(plan, T.firewall, "study-db-firewall"))).toEqual([
        { port: "5432", from: [app] },
        { port: "22", from: ADMINS },
      ]);
    },
  );
});
