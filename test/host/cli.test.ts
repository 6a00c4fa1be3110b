// The `studyhost` command as a user runs it: the compiled bin (built by `npm test` / `npm install`),
// in a child process, on the example stack files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { assertBuilt } from "../support/dist";

const root = join(__dirname, "../..");
const bin = join(root, "bin", "studyhost.js");
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8" });

beforeAll(() => assertBuilt(root));

test.each(["small", "large", "two-server"])("plan of Pulumi.%s.yaml: every resource, its options, outputs and cost", (stack) => {
  const r = run("plan", "--config", `Pulumi.${stack}.yaml`);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /^Plan of stack "[a-z-]+", tier [a-z-]+ \([A-Za-z0-9 ,:+-]+\), offline under Pulumi's mock engine: \d+ cloud resources in \d+ components/,
  );
  expect(r.stdout).toContain("options: protect, retainOnDelete");
  expect(r.stdout).toContain("options: deleteBeforeReplace");
  expect(r.stdout).toMatch(/options: ignoreChanges \[userData, /);
  expect(r.stdout).toMatch(/userData(Base64)?: "\[secret [0-9a-f]{12}\]"/);
  expect(r.stdout).toMatch(/url: https:\/\/[a-z.-]+\.example\.org\//);
  expect(r.stdout).toMatch(/\n  total +\$\d+\.\d\d\n$/);
  expect(r.stdout).not.toContain("plan-placeholder");
});

test("--json prints { resources, outputs, cost } with secrets masked", () => {
  const r = run("plan", "--config", "Pulumi.two-server.yaml", "--json");
  expect(r.status).toBe(0);
  const plan = JSON.parse(r.stdout);
  expect(Object.keys(plan).sort()).toEqual(["cost", "outputs", "resources"]);
  for (const res of plan.resources) expect(Object.keys(res).sort()).toEqual(["inputs", "name", "options", "parent", "type", "urn"]);
  const volumes = plan.resources.filter((x: { type: string }) => x.type === "digitalocean:index/volume:Volume");
  expect(volumes).toHaveLength(2);
  for (const v of volumes) expect(v.options).toMatchObject({ protect: true, retainOnDelete: true });
  expect(plan.cost.monthlyUsd).toBe(43);
  expect(plan.cost.items.length).toBeGreaterThan(0);
  expect(plan.outputs.url).toBe("https://study.example.org/");
  expect(r.stdout).not.toContain("plan-placeholder");
});

test("--out writes each host's user data and the files it installs", () => {
  const out = mkdtempSync(join(tmpdir(), "studyhost-out-"));
  try {
    const r = run("plan", "--config", "Pulumi.two-server.yaml", "--out", out);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/wrote \d+ files for study-app under /);
    const userData = readFileSync(join(out, "study-app", "user-data"), "utf8");
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const written = (parse(userData) as { write_files: { path: string; content: string }[] }).write_files;
    for (const f of written) expect(readFileSync(join(out, "study-app", "files", f.path), "utf8")).toBe(f.content);
    expect(statSync(join(out, "study-db", "user-data")).isFile()).toBe(true);
    expect(readFileSync(join(out, "study-app", "files", "etc", "dashboard", "env"), "utf8")).toContain("DATABASE_URL=");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("--out on AWS: user-data as the instance gets it (no files, the fetch first), user-data-with-files the whole document, files/ from the S3 object", () => {
  const out = mkdtempSync(join(tmpdir(), "studyhost-out-aws-"));
  try {
    // The ViewBovis example: AWS, with a staging copy whose files are over EC2's 16 KB user-data limit.
    const r = run("plan", "--config", "Pulumi.viewbovis.yaml", "--out", out);
    expect([r.status, r.stderr]).toEqual([0, expect.stringMatching(/wrote \d+ files for study-app under /)]);
    const userData = parse(readFileSync(join(out, "study-app", "user-data"), "utf8")) as { write_files?: { path: string }[]; runcmd: string[][] };
    // Only the file PostgreSQL's package reads as it is installed stays (this host runs PostgreSQL).
    expect(userData.write_files?.map((f) => f.path)).toEqual(["/etc/postgresql-common/createcluster.d/50-studyhost.conf"]);
    expect(userData.runcmd[0][3]).toBe("studyhost-fetch-host-files");
    const whole = parse(readFileSync(join(out, "study-app", "user-data-with-files"), "utf8")) as {
      write_files: { path: string; content: string }[];
      runcmd: string[][];
    };
    expect(whole.runcmd).toEqual(userData.runcmd.slice(1));
    expect(whole.write_files.length).toBeGreaterThan(50);
    for (const f of whole.write_files) expect(readFileSync(join(out, "study-app", "files", f.path), "utf8")).toBe(f.content);
    expect(readFileSync(join(out, "study-app", "files", "etc", "viewbovis_staging", "env"), "utf8")).toContain("SECRET_KEY=");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("a bad config exits 1 with one line naming the key, and no stack trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-bad-"));
  try {
    const file = join(dir, "Pulumi.bad.yaml");
    writeFileSync(file, readFileSync(join(root, "Pulumi.small.yaml"), "utf8").replace("studyhost:tier: small", "studyhost:tier: medium"));
    const r = run("plan", "--config", file);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('studyhost:tier: got "medium"; expected one of small, large, two-server\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a stack file that is not valid YAML exits 1 with one line naming the file, line and column, and no stack trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-yaml-"));
  try {
    const file = join(dir, "Pulumi.broken.yaml");
    // An unclosed quote on the domain's line: yaml notices it on a later line.
    const lines = readFileSync(join(root, "Pulumi.small.yaml"), "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith("  studyhost:domain:"));
    lines[at] = '  studyhost:domain: "study.example.org';
    writeFileSync(file, lines.join("\n"));
    const r = run("plan", "--config", file);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.startsWith(`${file}:`)).toBe(true);
    const [, line] = /^:(\d+):\d+: not valid YAML: missing closing "quote\n$/.exec(r.stderr.slice(file.length)) ?? [];
    expect(Number(line)).toBeGreaterThan(at + 1);
    expect(r.stderr).not.toMatch(/\bat \S+ \(|YAMLParseError/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a DigitalOcean plan never loads @pulumi/aws; an AWS plan does", () => {
  const script = (file: string) => `
    const { planProgram, readStackFile } = require("./dist/src/plan");
    const f = readStackFile(${JSON.stringify(file)});
    planProgram(f).then(() => {
      console.log(Object.keys(require.cache).some((k) => k.includes("node_modules/@pulumi/aws/")));
    });`;
  const doRun = spawnSync(process.execPath, ["-e", script("Pulumi.small.yaml")], { cwd: root, encoding: "utf8" });
  const awsRun = spawnSync(process.execPath, ["-e", script("Pulumi.large.yaml")], { cwd: root, encoding: "utf8" });
  expect(doRun.stdout.trim()).toBe("false");
  expect(awsRun.stdout.trim()).toBe("true");
});

test("usage errors exit 2", () => {
  expect(run("deploy").status).toBe(2);
  expect(run("plan").stderr).toContain("--config");
});

describe("studyhost local says what it is missing, and starts nothing", () => {
  const localDir = mkdtempSync(join(tmpdir(), "studyhost-local-"));
  afterAll(() => rmSync(localDir, { recursive: true, force: true }));
  const env = { ...process.env, STUDYHOST_LOCAL_DIR: join(localDir, "state") };

  test("without root", () => {
    // setpriv (util-linux) runs the same command as the unprivileged user nobody.
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, bin, "local", "--config", "Pulumi.small.yaml"], {
      cwd: root,
      encoding: "utf8",
      env,
    });
    expect([r.status, r.stderr.trim()]).toEqual([1, "studyhost local needs root (run as root); nothing was started"]);
    expect(existsSync(join(localDir, "state"))).toBe(false);
  });

  test("without systemd-nspawn", () => {
    // A PATH holding every tool it looks for except systemd-nspawn.
    const bin2 = join(localDir, "bin");
    spawnSync("mkdir", ["-p", bin2]);
    for (const tool of ["sh", "debootstrap", "nsenter", "zstd", "ip", "nft", "pebble", "pebble-challtestsrv"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      if (found) spawnSync("ln", ["-sf", found, join(bin2, tool)]);
    }
    const r = spawnSync(process.execPath, [bin, "local", "--config", "Pulumi.small.yaml"], { cwd: root, encoding: "utf8", env: { ...env, PATH: bin2 } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^studyhost local needs systemd-nspawn \(apt-get install -y systemd-container\)/);
    expect(r.stderr).not.toMatch(/debootstrap|zstd|root/);
  });

  test("a bad flag or no --config", () => {
    expect(run("local").status).toBe(2);
    expect(run("local", "--lab", "300", "--stop").stderr).toContain("--lab takes a number from 0 to 255");
  });
});
