// Changing the app, its version, the keys or the admin list must replace nothing that holds data:
// every protected resource keeps its name and inputs; only what a machine ignores may change.
import { PlanResult } from "../src/plan";
import { unpackUserData } from "../src/clouds/userData";
import { wholeDocument } from "../src/plan/hostFiles";
import { CLOUD_TYPES, one, PLACEHOLDER_KEY, planOf, planStudy, studyConfig } from "./helpers";

const dataBearing = (plan: PlanResult) => plan.resources.filter((r) => r.options.protect);
const byName = (plan: PlanResult) => new Map(dataBearing(plan).map((r) => [r.name, r]));

describe.each(["digitalocean", "aws"] as const)("on %s, two-server", (cloud) => {
  let before: PlanResult;
  beforeAll(async () => {
    before = await planOf(studyConfig(cloud, "two-server"));
  });

  test("the data-bearing resources are the volumes and the database host", () => {
    expect([...byName(before).keys()].sort()).toEqual(["study-app-data", "study-db-data", "study-db-server"]);
  });

  test("a new app version changes no data-bearing resource's name or inputs, and does reach the app host", async () => {
    const config = studyConfig(cloud, "two-server");
    const after = await planOf({ ...config, app: { ...(config.app as object), source: { git: "https://git.example.org/lab/study.git", ref: "v2.0.0" } } });
    const old = byName(before);
    for (const r of dataBearing(after)) {
      expect(old.get(r.name)?.urn).toBe(r.urn);
      expect(r.inputs).toEqual(old.get(r.name)?.inputs);
      expect(r.options).toEqual(old.get(r.name)?.options);
      expect(before.rawInputs.get(r.urn)).toEqual(after.rawInputs.get(r.urn));
    }
    expect(dataBearing(after)).toHaveLength(old.size);
    // The change is real: the app host's user data differs (and the machine ignores it).
    // (On AWS the app's settings are in the files the host fetches at first boot: the whole document.)
    const appUserData = (plan: PlanResult) =>
      wholeDocument(plan, "study-app", unpackUserData(plan.rawInputs.get(one(plan, CLOUD_TYPES[cloud].machine, "study-app-server").urn)!)!);
    expect(appUserData(after)).not.toEqual(appUserData(before));
    expect(String(appUserData(after))).toContain("v2.0.0");
  });

  test("new SSH keys and admin networks touch data-bearing resources only in inputs they ignore", async () => {
    const after = await planOf({
      ...studyConfig(cloud, "two-server"),
      adminCidrs: ["192.0.2.0/24"],
      sshKeys: [PLACEHOLDER_KEY.replace("placeholder", "another")],
    });
    const old = byName(before);
    const changedSomewhere: string[] = [];
    for (const r of dataBearing(after)) {
      const changed = Object.keys({ ...r.inputs, ...old.get(r.name)!.inputs }).filter(
        (k) => JSON.stringify(after.rawInputs.get(r.urn)?.[k]) !== JSON.stringify(before.rawInputs.get(r.urn)?.[k]),
      );
      for (const key of changed) expect(r.options.ignoreChanges).toContain(key);
      changedSomewhere.push(...changed.map((k) => `${r.name}.${k}`));
    }
    // The database host's user data carries the keys: the change is there, and ignored.
    expect(changedSomewhere).toEqual([`study-db-server.${cloud === "aws" ? "userDataBase64" : "userData"}`]);
  });
});

describe("secrets", () => {
  // test/every-tier.test.ts checks the same on every tier and cloud; this one also shows where they come from.
  test("the generated secrets are Pulumi secrets whose values come from RandomPassword resources", async () => {
    const { plan, study } = await planStudy(studyConfig("digitalocean", "two-server"), "secrets");
    const generated = {
      "study-app-secret-key": study.app.secretKey,
      "study-app-admin-password": study.app.adminPassword,
      "study-db-app-password": study.database!.appPassword,
      "study-db-analyst-password": study.database!.analystPassword,
    };
    for (const [resourceName, output] of Object.entries(generated)) {
      expect(await (output as any).isSecret).toBe(true);
      // The value is the one the (mock) RandomPassword resource of that name produced: generated, not a default.
      expect(await new Promise((resolve) => output.apply(resolve))).toBe(`plan-placeholder-${resourceName}`);
      expect(one(plan, "random:index/randomPassword:RandomPassword", resourceName).inputs).toEqual({ length: 40, special: false });
    }
    // Addresses are not secret, so the plan and outputs can show them.
    expect(await (study.app.publicIpv4 as any).isSecret).toBe(false);
  });
});
