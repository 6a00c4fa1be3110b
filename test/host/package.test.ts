// The published package works for a user, end to end, without the Pulumi CLI:
//   1. `npm pack` ships the compiled library (dist/index.js, dist/index.d.ts) and the CLI (bin/), and
//      no TypeScript sources or tests.
//   2. A fresh DigitalOcean-only Pulumi program installs the tarball next to @pulumi/pulumi and
//      @pulumi/digitalocean, and @pulumi/aws (an optional peer) is NOT installed.
//   3. `import { AppServer, ..., parseStudyConfig } from "studyhost"` type-checks under a strict
//      tsconfig with the package's own declarations, and a wrong call fails, so the check can fail.
//   4. The installed package runs a small study under Pulumi's mock engine: it yields the app host's
//      public address and never loads @pulumi/aws; a bad configuration throws a ConfigError naming the key.
// Slow (npm install from the warm cache): each step has its own generous timeout.
// Set STUDYHOST_KEEP_SCRATCH=1 to keep the scratch directory for a look afterwards.
import { execFileSync, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { assertBuilt } from "../support/dist";

const REPO = path.resolve(__dirname, "../..");
const SLOW = 240_000;
/** The study both scratch programs pass (as JavaScript text; the key arrives as argv[2]). */
const STUDY_INPUT_JS = `{
  cloud: "digitalocean",
  domain: "study.example.org",
  adminEmail: "it@example.org",
  adminCidrs: ["203.0.113.0/24"],
  sshKeys: [process.argv[2]],
  database: { engine: "sqlite" },
  app: { kind: "python", source: { pip: "x==1" }, start: "gunicorn app:app" },
}`;

/** The version installed in the repo's node_modules, so the scratch program uses what we test with. */
function installedVersion(pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", pkg, "package.json"), "utf8")).version;
}

/** The placeholder public key of the example small stack. */
function exampleSshKey(): string {
  const stack = parseYaml(fs.readFileSync(path.join(REPO, "Pulumi.small.yaml"), "utf8"));
  const key = stack.config["studyhost:sshKeys"][0];
  expect(key).toMatch(/^ssh-ed25519 /);
  return key;
}

function run(cmd: string, args: string[], cwd: string, timeout = SLOW): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_update_notifier: "false" } });
}

/** Runs a command that must succeed; on failure the error carries its output. Returns seconds taken. */
function timed(cmd: string, args: string[], cwd: string): number {
  const start = Date.now();
  const r = run(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return (Date.now() - start) / 1000;
}

const timings: Record<string, number> = {};
let tmp: string;
let scratch: string;
let tarball: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "studyhost-package-"));
  scratch = path.join(tmp, "app");
  fs.mkdirSync(scratch);

  // `npm test` builds dist/ before jest starts; it is never rebuilt here (see assertBuilt). Pack with
  // --ignore-scripts: `prepare` would rebuild dist/ in place while other test files run the CLI from it.
  assertBuilt(REPO);
  timings["npm pack"] = timed("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], REPO);
  const packed = fs.readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
  expect(packed).toHaveLength(1);
  tarball = path.join(tmp, packed[0]);
}, SLOW);

afterAll(() => {
  if (Object.keys(timings).length > 0) {
    console.log(`studyhost package test timings (s): ${JSON.stringify(timings)}\nscratch: ${scratch}`);
  }
  if (tmp && !process.env.STUDYHOST_KEEP_SCRATCH) fs.rmSync(tmp, { recursive: true, force: true });
});

test(
  "the tarball holds the compiled library and the CLI, and no sources or tests",
  () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ""));
    expect(files).toEqual(expect.arrayContaining(["package.json", "dist/index.js", "dist/index.d.ts", "bin/studyhost.js"]));
    // `studyhost local` runs these from the installed package, so they must ship, executable.
    const modes = execFileSync("tar", ["-tvzf", tarball], { encoding: "utf8" });
    for (const sh of ["net.sh", "rootfs.sh"]) expect(modes).toMatch(new RegExp(`^-rwx\\S* .* package/dist/src/local/${sh.replace(".", "\\.")}$`, "m"));
    // The host assets the renderer reads beside its compiled modules (src/host/document/template.ts): all of them.
    const assets = (fs.readdirSync(path.join(REPO, "src/host"), { recursive: true, encoding: "utf8" }) as string[])
      .filter((f) => !f.endsWith(".ts") && fs.statSync(path.join(REPO, "src/host", f)).isFile())
      .map((f) => `src/host/${f}`);
    expect(assets.length).toBeGreaterThan(10);
    expect(files).toEqual(expect.arrayContaining(assets.map((f) => `dist/${f}`)));
    expect(files.filter((f) => f.startsWith("test/"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("components/") || f.startsWith("stacks/"))).toEqual([]);
    // TypeScript only as declarations: no index.ts, no bench/, no tsconfig.
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /(^|\/)tsconfig.*\.json$/.test(f))).toEqual([]);
  },
  SLOW,
);

test(
  "a DigitalOcean-only program installs the tarball without @pulumi/aws",
  () => {
    const manifest = {
      name: "scratch-study",
      version: "0.0.0",
      private: true,
      dependencies: {
        studyhost: `file:${tarball}`,
        "@pulumi/pulumi": installedVersion("@pulumi/pulumi"),
        "@pulumi/digitalocean": installedVersion("@pulumi/digitalocean"),
        typescript: installedVersion("typescript"),
        "@types/node": installedVersion("@types/node"),
      },
    };
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify(manifest, null, 2));
    timings["npm install (scratch)"] = timed("npm", ["install", "--no-audit", "--no-fund"], scratch);

    const modules = path.join(scratch, "node_modules");
    expect(fs.existsSync(path.join(modules, "studyhost", "dist", "index.js"))).toBe(true);
    expect(fs.existsSync(path.join(modules, "@pulumi", "digitalocean"))).toBe(true);
    expect(fs.existsSync(path.join(modules, "@pulumi", "aws"))).toBe(false);
    expect(fs.existsSync(path.join(modules, ".bin", "studyhost"))).toBe(true);
  },
  SLOW,
);

describe("a user's TypeScript program", () => {
  const tsc = () => path.join(scratch, "node_modules", "typescript", "bin", "tsc");
  const writeTsconfig = (file: string, entry: string) =>
    fs.writeFileSync(
      path.join(scratch, file),
      JSON.stringify({
        compilerOptions: { strict: true, module: "commonjs", moduleResolution: "node", target: "ES2022", skipLibCheck: true, types: ["node"], noEmit: true },
        files: [entry],
      }),
    );

  test(
    "type-checks against the package's declarations",
    () => {
      fs.writeFileSync(
        path.join(scratch, "index.ts"),
        `import * as pulumi from "@pulumi/pulumi";
import { AppServer, DatabaseHost, PostgresHost, Firewall, Dns, Tls, Network, smallStudy, largeStudy, twoServerStudy, parseStudyConfig } from "studyhost";

const input = {
  cloud: "digitalocean" as const,
  domain: "study.example.org",
  adminEmail: "it@example.org",
  adminCidrs: ["203.0.113.0/24"],
  sshKeys: ["ssh-ed25519 AAAA placeholder"],
  app: { kind: "python" as const, source: { pip: "x==1" }, start: "gunicorn app:app" },
};
const config = parseStudyConfig({ ...input, tier: "small" });
export const study = smallStudy("study", input);
// A preset, as README's "As a library" writes it.
export const experiment = smallStudy("experiment", { ...input, app: { preset: "bofs", experiment: { git: "https://git.example.org/lab/x.git", ref: "v1" } } });
export const makers: Array<typeof largeStudy> = [largeStudy, twoServerStudy];

const network: Network = new Network("net", { cloud: config.cloud, region: "fra1" });
const firewall: Firewall = new Firewall("fw", { cloud: "digitalocean", network, inbound: [] });
const tls: Tls = new Tls("tls", { domains: ["study.example.org"], email: "it@example.org" });
export const app: AppServer = new AppServer("app", { config, network, firewall, tls });
export const database: DatabaseHost | undefined = study.database;
// The deprecated name is the same class.
export const formerName: typeof DatabaseHost = PostgresHost;
export const formerType: PostgresHost | undefined = database;
export const dns: Dns = study.dns;
export const address: pulumi.Output<string> = app.publicIpv4;
`,
      );
      writeTsconfig("tsconfig.json", "index.ts");
      const start = Date.now();
      const r = run("node", [tsc(), "-p", "tsconfig.json", "--listFiles"], scratch);
      timings["tsc --noEmit (scratch)"] = (Date.now() - start) / 1000;
      expect(r.status === 0 ? "" : r.stdout + r.stderr).toBe("");
      const listed = r.stdout.split("\n");
      // The types came from the installed tarball, and none from @pulumi/aws.
      expect(listed.some((f) => f.endsWith("node_modules/studyhost/dist/index.d.ts"))).toBe(true);
      expect(listed.filter((f) => f.includes("@pulumi/aws"))).toEqual([]);
    },
    SLOW,
  );

  test(
    "rejects a wrong call, so the check above can fail",
    () => {
      fs.writeFileSync(
        path.join(scratch, "wrong.ts"),
        `import { Network } from "studyhost";
export const network = new Network(42, { cloud: "digitalocean", region: "fra1" });
`,
      );
      writeTsconfig("tsconfig.wrong.json", "wrong.ts");
      const r = run("node", [tsc(), "-p", "tsconfig.wrong.json"], scratch);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/^wrong\.ts\(2,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/m);
      expect(r.stdout.match(/error TS/g)).toHaveLength(1);
    },
    SLOW,
  );
});

describe("the installed package under Pulumi's mock engine", () => {
  test(
    "builds a small DigitalOcean study and never loads @pulumi/aws",
    () => {
      fs.writeFileSync(
        path.join(scratch, "run.js"),
        `const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks(
  {
    newResource: (args) => ({
      // DigitalOcean ids are numbers: a droplet id that is not one becomes NaN.
      id: args.type.startsWith("digitalocean:index/droplet:") ? "4242" : args.name + "-id",
      state: {
        ...args.inputs,
        ipAddress: "198.51.100.7",
        ipv4Address: "203.0.113.7",
        ipv4AddressPrivate: "10.0.0.7",
        ipv6Address: "2001:db8::7",
        ipRange: "10.0.0.0/20",
        name: args.inputs.name ?? args.name,
        result: "x".repeat(40),
      },
    }),
    call: (args) => args.inputs,
  },
  "scratch-study",
  "dev",
  false,
);
const { smallStudy } = require("studyhost");
const study = smallStudy("study", ${STUDY_INPUT_JS});
new Promise((resolve) => study.app.publicIpv4.apply(resolve)).then((publicIpv4) => {
  const awsLoaded = Object.keys(require.cache).some((k) => k.includes("@pulumi/aws"));
  console.log(JSON.stringify({ publicIpv4, awsLoaded }));
});
`,
      );
      const start = Date.now();
      const r = run("node", ["run.js", exampleSshKey()], scratch, 60_000);
      timings["node run.js (mocks)"] = (Date.now() - start) / 1000;
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      const lines = r.stdout.trim().split("\n");
      const result = JSON.parse(lines[lines.length - 1]);
      expect(result.publicIpv4).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      expect(result.awsLoaded).toBe(false);
    },
    SLOW,
  );

  test(
    "rejects SQLite on the large tier with a ConfigError naming studyhost:database.engine",
    () => {
      fs.writeFileSync(
        path.join(scratch, "bad.js"),
        `const { largeStudy } = require("studyhost");
try {
  largeStudy("study", ${STUDY_INPUT_JS});
  console.log(JSON.stringify({ threw: false }));
} catch (err) {
  console.log(JSON.stringify({ threw: true, name: err.name, message: err.message }));
}
`,
      );
      const r = run("node", ["bad.js", exampleSshKey()], scratch, 60_000);
      expect(r.status).toBe(0);
      const result = JSON.parse(r.stdout.trim());
      expect(result).toMatchObject({ threw: true, name: "ConfigError" });
      expect(result.message.startsWith("studyhost:database.engine")).toBe(true);
    },
    SLOW,
  );
});
