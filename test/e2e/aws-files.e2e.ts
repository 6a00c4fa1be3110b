// An AWS host's files fetched for real (src/clouds/hostFilesBundle.ts): the ViewBovis example with its
// staging copy, whose whole #cloud-config is over EC2's 16 KB user-data limit even gzipped, planned on
// AWS; then its user data's fetch command run, exactly as rendered, in a root made from the test image
// (Debian 12 with the distribution's REAL rclone and cloud-init), which must fetch the object with the
// instance role's credentials and write every file with cloud-init's write_files.
//
// STAND-INS (no AWS is reachable here; neither is the real service):
// - EC2's metadata service is standins/imds-standin.py on loopback (IMDSv2 only, as studyhost sets up
//   instances), reached through the AWS SDK's own AWS_EC2_METADATA_SERVICE_ENDPOINT setting;
// - the bucket is standins/s3-standin.py on loopback, virtual-hosted style (rclone's AWS provider always
//   puts the bucket in the host name) under a .test name the root's /etc/hosts maps to loopback, reached
//   through RCLONE_S3_ENDPOINT; it refuses any request not signed with the role's key id and token.
// Both settings are the environment's, given to the command from outside: the rendered script is run
// unchanged.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/aws-files.e2e.ts
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parse } from "yaml";
import { fetchCommandOf, READ_AT_PACKAGE_INSTALL } from "../../src/clouds/hostFilesBundle";
import { fileContent, unpackUserData } from "../../src/clouds/userData";
import { wholeDocument } from "../../src/plan/hostFiles";
import { planProgram, readStackFile } from "../../src/plan";
import { ensureImage, missingPrerequisites, prepareHost, PreparedHost, removeHost, runInRoot } from "../../src/local/boot";
import { REPO } from "./lab";

jest.setTimeout(10 * 60_000);

const STANDINS = join(__dirname, "standins");
const IMDS_PORT = 19411;
const S3_PORT = 19412;
const S3_SUFFIX = "s3.studyhost.test";
const ROLE = { role: "study-app-role-1a2b3c4", key: "ASIASTANDINKEY000001", secret: "stand-in-secret", token: `stand-in-session-${Date.now().toString(36)}` };

type WrittenFile = { path: string; content: string; encoding?: string; permissions: string };

let work: string;
let s3Root: string;
let userData: string;
let bundle: Buffer;
let fetch: { script: string; args: string[] };
let files: WrittenFile[];
/** The host's whole #cloud-config, as it would be without the split. */
let whole: string;
const servers: ChildProcess[] = [];
/** Each stand-in's request log (its stderr, into a file: the fetch runs synchronously). */
const log = (name: "imds" | "s3") => readFileSync(join(work, `${name}.log`), "utf8");

function serve(name: "imds" | "s3", args: string[]): void {
  servers.push(spawn("python3", args, { stdio: ["ignore", "ignore", openSync(join(work, `${name}.log`), "w")] }));
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A fresh root from the test image, whose /etc/hosts sends the bucket's name to loopback. */
function freshRoot(name: string): PreparedHost {
  const host = prepareHost({ name, userData: join(work, "user-data"), dir: join(work, name), mode: "overlay" });
  appendFileSync(join(host.root, "etc/hosts"), `127.0.0.1 ${fetch.args[0]}.${S3_SUFFIX}\n`);
  return host;
}

/** The rendered fetch command, run unchanged in that root with the host's network (loopback). */
function runFetch(host: PreparedHost) {
  return runInRoot(
    host,
    [
      `--setenv=AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:${IMDS_PORT}`,
      `--setenv=RCLONE_S3_ENDPOINT=http://${S3_SUFFIX}:${S3_PORT}`,
      "bash",
      "-c",
      fetch.script,
      "studyhost-fetch-host-files",
      ...fetch.args,
    ],
    { timeoutMs: 180_000 },
  );
}

const hosts: PreparedHost[] = [];
beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the AWS files test needs ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-aws-files-");
  ensureImage();
  const file = readStackFile(join(REPO, "Pulumi.viewbovis.yaml"));
  const plan = await planProgram({ stack: "viewbovis", config: file.config, secretKeys: file.secretKeys });
  const instance = plan.resources.find((r) => r.type === "aws:ec2/instance:Instance" && r.name === "study-app-server")!;
  userData = unpackUserData(plan.rawInputs.get(instance.urn)!)!;
  writeFileSync(join(work, "user-data"), userData);
  const object = plan.resources.find((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name === "study-app-files")!;
  bundle = Buffer.from(String(plan.rawInputs.get(object.urn)!.contentBase64), "base64");
  fetch = fetchCommandOf(userData)!;
  whole = wholeDocument(plan, "study-app", userData);
  // The files the fetch writes: all but those the user data keeps.
  files = (parse(whole) as { write_files: WrittenFile[] }).write_files.filter((f) => !READ_AT_PACKAGE_INSTALL.includes(f.path));

  const [bucket, key] = fetch.args;
  s3Root = join(work, "s3");
  mkdirSync(join(s3Root, bucket), { recursive: true });
  writeFileSync(join(s3Root, bucket, key), bundle);
  serve("imds", [
    join(STANDINS, "imds-standin.py"),
    "--port",
    String(IMDS_PORT),
    "--role",
    ROLE.role,
    "--key",
    ROLE.key,
    "--secret",
    ROLE.secret,
    "--token",
    ROLE.token,
  ]);
  serve("s3", [
    join(STANDINS, "s3-standin.py"),
    "--port",
    String(S3_PORT),
    "--virtual-host",
    S3_SUFFIX,
    "--require-key",
    ROLE.key,
    "--require-token",
    ROLE.token,
    s3Root,
  ]);
  await Promise.all([listening(IMDS_PORT), listening(S3_PORT)]);
});

afterAll(() => {
  for (const s of servers) s.kill();
  for (const h of hosts) removeHost(h);
});

test("the example with staging needs the split: its whole document is over 16 KB gzipped, its user data well under", () => {
  expect(gzipSync(whole, { level: 9 }).length).toBeGreaterThan(16 * 1024);
  expect(gzipSync(userData, { level: 9 }).length).toBeLessThan(8 * 1024);
  // Only what a package reads as it is installed stays (PostgreSQL's createcluster setting: this host runs PostgreSQL).
  expect(((parse(userData) as { write_files?: WrittenFile[] }).write_files ?? []).map((f) => f.path)).toEqual([...READ_AT_PACKAGE_INSTALL]);
  expect(files.length).toBeGreaterThan(50);
});

test("the rendered fetch gets the role's credentials over IMDSv2, fetches the object and writes every file as cloud-init does", () => {
  const host = freshRoot("fetched");
  hosts.push(host);
  const r = runFetch(host);
  expect([r.status, r.stderr.slice(-3000)]).toEqual([0, expect.stringContaining("wrote the files of s3://")]);
  for (const f of files) {
    const onHost = join(host.root, f.path);
    expect([f.path, existsSync(onHost)]).toEqual([f.path, true]);
    expect([f.path, readFileSync(onHost, "utf8")]).toEqual([f.path, fileContent(f)]);
    expect([f.path, (statSync(onHost).mode & 0o7777).toString(8).padStart(4, "0")]).toEqual([f.path, f.permissions]);
  }
  // IMDSv2: a session token first, then the role's credentials asked for with it; nothing without one.
  expect(log("imds")).toContain("PUT /latest/api/token");
  expect(log("imds")).toContain(`GET /latest/meta-data/iam/security-credentials/${ROLE.role} token=yes`);
  expect(log("imds")).not.toMatch(/GET \S+ token=no/);
  // The object was read, signed with the role's key and token (the stand-in refuses anything else).
  expect(log("s3")).toMatch(new RegExp(`"GET /${fetch.args[1].replace(/\./g, "\\.")}[^"]*" 200`));
  expect(log("s3")).not.toMatch(/" 403 /);
});

test("an object that is not the one planned (its sha256 differs) stops the boot and writes nothing", () => {
  const [bucket, key] = fetch.args;
  const other = gzipSync(`#cloud-config\nwrite_files:\n  - path: /etc/studyhost/not-planned\n    content: "x"\n`);
  writeFileSync(join(s3Root, bucket, key), other);
  try {
    const host = freshRoot("tampered");
    hosts.push(host);
    const r = runFetch(host);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is not the object this host was planned with");
    expect(existsSync(join(host.root, "etc/studyhost/not-planned"))).toBe(false);
    expect(existsSync(join(host.root, files[files.length - 1].path))).toBe(false);
  } finally {
    writeFileSync(join(s3Root, bucket, key), bundle);
  }
});
