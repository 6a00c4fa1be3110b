// The pull-request workflows, checked offline: GitHub cannot be run here, so we check what the YAML
// says (triggers, permissions, stacks, the steps that matter) and run the plan diff they post for real.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { diffPlans, formatDiffMarkdown, isEmptyDiff, PlanJson, PlanJsonResource } from "../src/cli/diff";
import { planJson } from "../src/cli/format";
import { main } from "../src/cli/main";
import { planProgram, readStackFile } from "../src/plan";

const root = resolve(__dirname, "..");
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; "working-directory"?: string };
type Job = { permissions?: Record<string, string>; strategy?: { matrix: { stack: string[] } }; env?: Record<string, string>; steps: Step[] };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job> };
const workflow = (name: string): Workflow => parse(readFileSync(join(root, ".github/workflows", name), "utf8"));

/** The example stacks: one Pulumi.<stack>.yaml each at the top of the repository. */
const stackFiles = readdirSync(root)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s)
  .sort();

describe("the preview workflow", () => {
  const wf = workflow("preview.yml");
  const preview = wf.jobs["pulumi-preview"];
  const planDiff = wf.jobs["plan-diff"];
  const runs = (job: Job) => job.steps.filter((s) => s.run).map((s) => s.run as string);

  test("runs on pull requests only", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
  });

  test("there are example stacks to preview", () => {
    expect(stackFiles).toEqual(["backscope", "bofs", "camcops", "emission", "large", "small", "two-server", "viewbovis"]);
  });

  test("pulumi-preview: a matrix over exactly the stacks that have a Pulumi.<stack>.yaml, allowed to comment", () => {
    expect(preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect([...preview.strategy!.matrix.stack].sort()).toEqual(stackFiles);
  });

  test("pulumi-preview: installs with npm install on Node 20, then pulumi/actions previews and comments", () => {
    const node = preview.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(node?.with?.["node-version"]).toBe(20);
    const i = preview.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(i).toBeGreaterThan(0);
    expect(preview.steps.slice(0, i).some((s) => s.run?.trim() === "npm install")).toBe(true);
    const step = preview.steps[i];
    expect(step.uses).toBe("pulumi/actions@v7");
    expect(step.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "comment-on-pr": true,
      "edit-pr-comment": true,
      "work-dir": ".",
    });
    for (const name of ["PULUMI_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      expect(step.env?.[name]).toBe(`\${{ secrets.${name} }}`);
    }
  });

  test("no job in any workflow uses npm ci (it fails on our registry mirror)", () => {
    for (const file of ["preview.yml", "ci.yml"]) {
      for (const job of Object.values(workflow(file).jobs)) for (const run of runs(job)) expect(run).not.toMatch(/\bnpm\s+ci\b/);
    }
  });

  test("plan-diff: needs no secrets, may comment, plans the same stacks", () => {
    expect(JSON.stringify(planDiff)).not.toMatch(/secrets\./);
    expect(planDiff.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(planDiff.env?.STACKS.split(/\s+/).sort()).toEqual(stackFiles);
  });

  test("plan-diff: checks out base and head side by side, plans both, diffs with the head's CLI, posts one comment", () => {
    const checkouts = planDiff.steps.filter((s) => s.uses?.startsWith("actions/checkout@")).map((s) => [s.with?.ref, s.with?.path]);
    expect(checkouts).toEqual([
      ["${{ github.event.pull_request.base.sha }}", "base"],
      ["${{ github.event.pull_request.head.sha }}", "head"],
    ]);
    const installs = planDiff.steps.filter((s) => s.run?.startsWith("npm install")).map((s) => s["working-directory"]);
    expect(installs.sort()).toEqual(["base", "head"]);
    const plan = runs(planDiff).find((r) => r.includes("plan --config")) ?? "";
    expect(plan).toContain("(cd head && node bin/studyhost.js plan --config");
    expect(plan).toContain("(cd base && node bin/studyhost.js plan --config");
    expect(plan).toContain("[ -f base/bin/studyhost.js ]"); // a base without the CLI counts as an empty plan
    const diff = planDiff.steps.find((s) => s.run?.includes("node bin/studyhost.js diff"));
    expect(diff?.["working-directory"]).toBe("head");
    const post = planDiff.steps.find((s) => s.uses?.startsWith("actions/github-script@"));
    expect(post?.uses).toBe("actions/github-script@v8");
    expect(String(post?.with?.script)).toContain("updateComment");
  });

  test("the empty plan that stands in for a base without the CLI is one `diff` accepts", () => {
    const plan = runs(planDiff).find((r) => r.includes("plan --config")) ?? "";
    const empty = /empty='([^']+)'/.exec(plan)?.[1] ?? "";
    const parsed = JSON.parse(empty) as PlanJson;
    expect(parsed.resources).toEqual([]);
    expect(diffPlans(parsed, parsed).cost).toEqual({ before: 0, after: 0, delta: 0 });
  });

  test("every run: step that names a Pulumi.<stack>.yaml names a file that exists", () => {
    const stacks = planDiff.env!.STACKS.split(/\s+/);
    let seen = 0;
    for (const file of ["preview.yml", "ci.yml"]) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const run of runs(job)) {
          for (const [, name] of run.matchAll(/Pulumi\.([^\s"'/]+)\.yaml/g)) {
            // `Pulumi.${stack}.yaml` in a loop over $STACKS stands for each of them.
            const names = /^\$\{?stack\}?$/.test(name) ? stacks : [name];
            for (const n of names) expect(existsSync(join(root, `Pulumi.${n}.yaml`))).toBe(true);
            seen++;
          }
        }
      }
    }
    expect(seen).toBeGreaterThan(0);
  });
});

describe("the ci workflow", () => {
  const wf = workflow("ci.yml");
  test("runs bash .ci/run on every push and pull request, on Node 20", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    expect(steps.some((s) => s.run?.trim() === "bash .ci/run")).toBe(true);
    expect(steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(20);
  });
});

describe("diffPlans and formatDiffMarkdown on real plans", () => {
  // Plans as the CLI's --json prints them and `diff` reads them back.
  const asJson = (p: Awaited<ReturnType<typeof planProgram>>) => JSON.parse(JSON.stringify(planJson(p))) as PlanJson;
  const droplet = (p: PlanJson) => p.resources.find((r) => r.type === "digitalocean:index/droplet:Droplet") as PlanJsonResource;
  let small: PlanJson;
  let large: PlanJson;

  beforeAll(async () => {
    const file = readStackFile(join(root, "Pulumi.small.yaml"));
    small = asJson(await planProgram({ stack: file.stack, config: file.config, secretKeys: file.secretKeys }));
    // The same study moved to the large tier, which needs PostgreSQL instead of SQLite.
    const config = { ...file.config, "studyhost:tier": "large", "studyhost:database": JSON.stringify({ engine: "postgres" }) };
    large = asJson(await planProgram({ stack: file.stack, config, secretKeys: file.secretKeys }));
  }, 30_000);

  test("a plan diffed with itself is empty", () => {
    const d = diffPlans(small, small);
    expect(d).toEqual({ added: [], removed: [], changed: [], cost: { before: small.cost!.monthlyUsd, after: small.cost!.monthlyUsd, delta: 0 } });
    expect(isEmptyDiff(d)).toBe(true);
    const md = formatDiffMarkdown(d, "small");
    expect(md).toContain("### Stack `small`");
    expect(md).toContain("No changes.");
    expect(md).not.toContain("|");
  });

  test("small to large: the droplet grows, the PostgreSQL host appears, the cost goes up", () => {
    const d = diffPlans(small, large);
    const [before, after] = [droplet(small), droplet(large)];
    expect(before.inputs.size).not.toEqual(after.inputs.size);
    const change = d.changed.find((c) => c.urn === before.urn);
    expect(change?.inputs).toContain("size");
    expect(change?.values.size).toEqual({ before: before.inputs.size, after: after.inputs.size });
    // userData is a secret, masked with a digest of the plan's (placeholder-filled) render: the host's
    // change from SQLite to PostgreSQL shows as a userData change without showing any content.
    expect(before.inputs.userData).toMatch(/^\[secret [0-9a-f]{12}\]$/);
    expect(change?.inputs).toContain("userData");

    expect(d.added.map((r) => r.type)).toContain("studyhost:database:DatabaseHost");
    expect(d.added.filter((r) => r.type === "random:index/randomPassword:RandomPassword").length).toBeGreaterThan(0);
    expect(d.removed).toEqual([]);
    expect(d.cost.before).toBe(small.cost!.monthlyUsd);
    expect(d.cost.after).toBe(large.cost!.monthlyUsd);
    expect(d.cost.delta).toBeCloseTo(large.cost!.monthlyUsd - small.cost!.monthlyUsd, 2);
    expect(d.cost.delta).toBeGreaterThan(0);

    const md = formatDiffMarkdown(d, "small");
    const usd = (n: number) => `$${n.toFixed(2)}`;
    expect(md).toContain(`Monthly cost: ${usd(d.cost.before)} → ${usd(d.cost.after)} (+${usd(d.cost.delta)})`);
    expect(md).toContain(`${d.added.length} to add, ${d.changed.length} to change, 0 to remove.`);
    expect(md).toContain(`| ~ | \`${before.name}\` | \`${before.type}\` | inputs: size (${before.inputs.size} → ${after.inputs.size})`);
    expect(md).toContain("| + | `study-db` | `studyhost:database:DatabaseHost` |");
    expect(md).not.toContain("No changes.");
  });

  test("large back to small: the same resources are removed and the cost goes down", () => {
    const d = diffPlans(large, small);
    expect(d.removed.map((r) => r.urn).sort()).toEqual(
      diffPlans(small, large)
        .added.map((r) => r.urn)
        .sort(),
    );
    expect(d.added).toEqual([]);
    expect(formatDiffMarkdown(d, "small")).toContain(`(-$${Math.abs(d.cost.delta).toFixed(2)})`);
  });
});

describe("diffPlans on hand-made plans", () => {
  const opts = { protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], dependsOn: [] };
  const res = (name: string, inputs: Record<string, unknown>, options: Record<string, unknown> = {}): PlanJsonResource => ({
    urn: `urn:pulumi:s::p::t:index:T::${name}`,
    type: "t:index:T",
    name,
    parent: null,
    inputs,
    options: { ...opts, ...options },
  });
  const plan = (...resources: PlanJsonResource[]): PlanJson => ({ resources, cost: { monthlyUsd: 0 } });

  test("a secret on both sides is unchanged; a secret against a plain value, or a reordered object, is judged by value", () => {
    const d = diffPlans(
      plan(res("a", { password: "[secret]", tags: { x: 1, y: 2 }, key: "[secret]" })),
      plan(res("a", { password: "[secret]", tags: { y: 2, x: 1 }, key: "plain" })),
    );
    expect(d.changed).toEqual([expect.objectContaining({ name: "a", inputs: ["key"], options: [] })]);
  });

  test("option changes are listed by name; a removed protected resource says so", () => {
    const d = diffPlans(
      plan(res("vol", { size: 10 }), res("data", {}, { protect: true, retainOnDelete: true })),
      plan(res("vol", { size: 10 }, { protect: true, ignoreChanges: ["size"] })),
    );
    expect(d.changed).toEqual([expect.objectContaining({ name: "vol", inputs: [], options: ["ignoreChanges", "protect"] })]);
    expect(d.removed).toEqual([expect.objectContaining({ name: "data", guards: ["protect", "retainOnDelete"] })]);
    const md = formatDiffMarkdown(d, "s");
    expect(md).toContain("| ~ | `vol` | `t:index:T` | options: ignoreChanges, protect |");
    expect(md).toContain("| - | `data` | `t:index:T` | **protect, retainOnDelete**");
  });
});

describe("studyhost diff (the CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-diff-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const run = async (argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const out = jest.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    const err = jest.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
    try {
      return { code: await main(argv), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };
  const a = write(
    "a.json",
    JSON.stringify({
      resources: [{ urn: "urn:pulumi:demo::studyhost::t:index:T::x", type: "t:index:T", name: "x", inputs: { size: 1 }, options: {} }],
      cost: { monthlyUsd: 7 },
    }),
  );
  const b = write(
    "b.json",
    JSON.stringify({
      resources: [{ urn: "urn:pulumi:demo::studyhost::t:index:T::x", type: "t:index:T", name: "x", inputs: { size: 2 }, options: {} }],
      cost: { monthlyUsd: 29 },
    }),
  );

  test("prints the Markdown, with the stack read from the URNs unless --stack names it", async () => {
    const r = await run(["diff", "--base", a, "--head", b]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("### Stack `demo`");
    expect(r.stdout).toContain("Monthly cost: $7.00 → $29.00 (+$22.00)");
    expect((await run(["diff", "--base", a, "--head", b, "--stack", "other"])).stdout).toContain("### Stack `other`");
  });

  test("a missing or invalid file exits 1 with a one-line message", async () => {
    for (const bad of [join(dir, "missing.json"), write("text.json", "not json\n"), write("shape.json", '{"resources": 3}')]) {
      const r = await run(["diff", "--base", bad, "--head", b]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(bad);
    }
  });

  test("--base and --head are required", async () => {
    expect((await run(["diff", "--head", b])).code).toBe(2);
  });
});
