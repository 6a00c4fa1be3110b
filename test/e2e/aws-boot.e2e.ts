// An AWS host booted end to end (lab 8): the small stack planned with cloud: aws (eu-west-2), booted
// under systemd in a container from exactly the `user-data` that `studyhost plan --out` renders for the
// instance (NOT user-data-with-files): everything but write_files, whose first runcmd entry fetches the
// host's files from its S3 object. So the fetch runs where it runs on EC2, in cloud-init's final stage
// (runcmd), and `cloud-init single --name write_files` is invoked while cloud-init itself is running;
// then studyhost-provision, nginx, a certificate from Pebble, the app over https; then a second boot of
// the same root, which must come back serving without fetching again.
//
// STAND-INS (no AWS is reachable here; none of this is the real service):
// - EC2's metadata service is standins/imds-standin.py (IMDSv2 only, as studyhost sets instances up),
//   run in the lab's internet namespace on 10.231.8.1;
// - the host's bucket is standins/s3-standin.py, also in the internet namespace, serving the object the
//   plan put in the BucketObjectv2 (its contentBase64), virtual-hosted style, refusing any request not
//   signed with the role's key id and session token that the IMDS stand-in hands out.
// GIVEN FROM OUTSIDE (test harness only, written into the host's root before boot, never into the user
// data; the rendered script runs unchanged): a drop-in for cloud-final.service
// (/etc/systemd/system/cloud-final.service.d/studyhost-e2e-aws-standins.conf) that sets the two endpoint
// variables the AWS SDK in rclone and rclone read, AWS_EC2_METADATA_SERVICE_ENDPOINT and
// RCLONE_S3_ENDPOINT, and the name BUCKET.s3.studyhost.test -> 10.231.8.1 in /etc/hosts and in
// cloud-init's hosts template (the user data sets manage_etc_hosts, so cloud-init rewrites /etc/hosts
// from the template at every boot). On EC2 the endpoints are the SDK's defaults (169.254.169.254 and
// s3.<region>.amazonaws.com) and need no setting.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/aws-boot.e2e.ts
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fetchCommandOf } from "../../src/clouds/hostFilesBundle";
import { unpackUserData } from "../../src/clouds/userData";
import { planProgram, readStackFile } from "../../src/plan";
import {
  boot,
  BootedHost,
  collect,
  ensureImage,
  exec,
  missingPrerequisites,
  Net,
  netDown,
  netUp,
  powerOff,
  prepareHost,
  PreparedHost,
  removeHost,
  waitForBoot,
} from "../../src/local/boot";
import { ServedRepo, stopServer } from "../../src/local/gitServe";
import {
  ADMIN,
  appAnswers as appAnswersOf,
  DOMAIN,
  https as httpsOf,
  PLACEHOLDER_KEY,
  provisioning,
  PROVISIONED_CLEANLY,
  recordFigures,
  renderStack,
  serveApp,
  standInApp,
} from "./lab";

const LAB = 8;
const STANDINS = join(__dirname, "standins");
const IMDS_PORT = 19411;
const S3_PORT = 19412;
const S3_SUFFIX = "s3.studyhost.test";
const ROLE = { role: "study-app-role-1a2b3c4", key: "ASIASTANDINKEY000008", secret: "stand-in-secret", token: `stand-in-session-${Date.now().toString(36)}` };
const DROP_IN = "etc/systemd/system/cloud-final.service.d/studyhost-e2e-aws-standins.conf";

jest.setTimeout(25 * 60_000);

let work: string;
let net: Net;
let host: PreparedHost;
let booted: BootedHost | undefined;
let gitServer: ServedRepo | undefined;
let userDataPath: string;
let fetch: { script: string; args: string[] };
/** The write_files entries of the host's object (what the files are on the host). */
let files: { path: string; permissions?: string; owner?: string }[];
const servers: number[] = [];
const timings: Record<string, number> = {};
let bootStartedAt = 0;

const https = (path: string, extra: string[] = []) => httpsOf(net, net.hosts[0].address, path, extra);
const appAnswers = (ms: number) => appAnswersOf(net, net.hosts[0].address, ms);
const log = (name: "imds" | "s3") => readFileSync(join(work, `${name}.log`), "utf8");
const objectGets = () =>
  log("s3")
    .split("\n")
    .filter((l) => new RegExp(`"GET /${fetch.args[1].replace(/\./g, "\\.")}[^"]*" 200`).test(l)).length;

function inside(cmd: string) {
  return exec(booted!, ["bash", "-c", cmd], { timeoutMs: 120_000 });
}

/** A stand-in in the internet namespace, its request log (stderr) in WORK/NAME.log. */
function serve(name: "imds" | "s3", args: string[]): void {
  const out = openSync(join(work, `${name}.log`), "a");
  const server = spawn("ip", ["netns", "exec", net.internet.netns, "python3", ...args], { stdio: ["ignore", out, out], detached: true });
  server.unref();
  if (!server.pid) throw new Error(`could not start the ${name} stand-in`);
  servers.push(server.pid);
}

/** Until PORT listens. (Python's HTTPServer looks its address up in DNS before it listens: in the internet
 * namespace, whose resolver is not reachable, that lookup times out first, about 20 s.) */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 900; i++) {
    const r = spawnSync("ip", ["netns", "exec", net.internet.netns, "bash", "-c", `exec 3<>/dev/tcp/${net.internet.address}/${port}`]);
    if (r.status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${net.internet.address}:${port}`);
}

/** Test harness only, in the host's root before boot (see the header): where the stand-ins are. */
function pointAtStandIns(h: PreparedHost, bucket: string) {
  mkdirSync(join(h.root, DROP_IN, ".."), { recursive: true });
  writeFileSync(
    join(h.root, DROP_IN),
    `# studyhost e2e only (test/e2e/aws-boot.e2e.ts): the STAND-IN metadata service and bucket in the lab's
# internet namespace. On EC2 these are the SDK's defaults and nothing is set.
[Service]
Environment=AWS_EC2_METADATA_SERVICE_ENDPOINT=http://${net.internet.address}:${IMDS_PORT}
Environment=RCLONE_S3_ENDPOINT=http://${S3_SUFFIX}:${S3_PORT}
`,
  );
  const line = `${net.internet.address} ${bucket}.${S3_SUFFIX} ${S3_SUFFIX}\n`;
  appendFileSync(join(h.root, "etc/hosts"), line);
  // manage_etc_hosts: cloud-init rewrites /etc/hosts from this template at every boot.
  appendFileSync(join(h.root, "etc/cloud/templates/hosts.debian.tmpl"), `# studyhost e2e only: the STAND-IN bucket\n${line}`);
}

beforeAll(async () => {
  const missing = missingPrerequisites({ acme: true });
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-aws-boot-");
  timings.imageMs = ensureImage();

  net = netUp({ lab: LAB, acme: true, admin: ADMIN, hosts: [{ name: "study-app" }] });
  gitServer = serveApp(work, net);
  // The small stack as small.e2e.ts renders it, on AWS.
  const config = {
    cloud: "aws",
    region: "eu-west-2",
    tier: "small",
    domain: DOMAIN,
    adminEmail: "research-it@example.org",
    adminCidrs: [`${ADMIN}/32`],
    sshKeys: [PLACEHOLDER_KEY],
    database: { engine: "sqlite" },
    app: standInApp(gitServer.url),
    tls: { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") },
  };
  const { outDir } = renderStack(work, "e2e-aws-small", config);
  userDataPath = join(outDir, "study-app", "user-data");
  const userData = readFileSync(userDataPath, "utf8");
  fetch = fetchCommandOf(userData)!;
  if (!fetch) throw new Error("the AWS user data has no fetch command");

  // The object the plan puts in the host's bucket: the same plan in this process (plan --out does not
  // write the object), checked to render the very user data the CLI wrote.
  const file = readStackFile(join(work, "Pulumi.e2e-aws-small.yaml"));
  const plan = await planProgram({ stack: "e2e-aws-small", config: file.config, secretKeys: file.secretKeys });
  const instance = plan.resources.find((r) => r.type === "aws:ec2/instance:Instance" && r.name === "study-app-server")!;
  if (unpackUserData(plan.rawInputs.get(instance.urn)!) !== userData) throw new Error("the in-process plan's user data differs from plan --out's");
  const object = plan.resources.find((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name === "study-app-files")!;
  const bundle = Buffer.from(String(plan.rawInputs.get(object.urn)!.contentBase64), "base64");
  files = (parse(readFileSync(join(outDir, "study-app", "user-data-with-files"), "utf8")) as { write_files: typeof files }).write_files;

  const [bucket, key] = fetch.args;
  const s3Root = join(work, "s3");
  mkdirSync(join(s3Root, bucket), { recursive: true });
  writeFileSync(join(s3Root, bucket, key), bundle);
  const bind = ["--bind", net.internet.address];
  serve("imds", [
    join(STANDINS, "imds-standin.py"),
    ...bind,
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
    ...bind,
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

  host = prepareHost({ name: "study-app", userData: userDataPath, dir: join(work, "study-app") });
  pointAtStandIns(host, bucket);
  bootStartedAt = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  await waitForBoot(booted);
  timings.bootToProvisionedMs = Date.now() - bootStartedAt;
});

afterAll(async () => {
  console.log(`aws host end to end: ${JSON.stringify(timings)} (work folder ${work})`);
  if (process.env.STUDYHOST_E2E_KEEP !== "1") {
    if (booted) await powerOff(booted);
    if (host) removeHost(host, { data: true });
    if (gitServer) stopServer(gitServer.pid);
    for (const pid of servers) stopServer(pid);
    if (net) netDown(LAB);
  } else {
    console.log(`kept: nsenter -t ${booted?.leader} -a bash; stop with src/local/net.sh down --lab ${LAB} after powering off`);
  }
  recordFigures("e2e-aws-boot", timings);
});

test("booted from the AWS user data: no write_files in it, its first runcmd the fetch", () => {
  const doc = parse(readFileSync(userDataPath, "utf8")) as { runcmd: string[][] };
  expect(Object.keys(doc)).not.toContain("write_files");
  expect(doc.runcmd[0][3]).toBe("studyhost-fetch-host-files");
  expect(readFileSync(join(host.root, "var/lib/cloud/seed/nocloud/user-data"), "utf8")).toBe(readFileSync(userDataPath, "utf8"));
});

test("cloud-init finished, every provisioning step passed, no unit failed", () => {
  const report = collect(booted!);
  writeFileSync(join(work, "report.json"), JSON.stringify(report, null, 2));
  expect(provisioning(report)).toEqual(PROVISIONED_CLEANLY);
});

test("the fetch ran in cloud-final (runcmd) and wrote the files with cloud-init's write_files, before the provisioning", () => {
  const [bucket, key] = fetch.args;
  const wrote = `studyhost-fetch-host-files: wrote the files of s3://${bucket}/${key}`;
  expect(inside("journalctl -b -u cloud-final.service --no-pager -o cat").stdout).toContain(wrote);
  const output = inside("cat /var/log/cloud-init-output.log").stdout;
  expect(output).toContain(wrote);
  // cloud-init's own record of the `single` run, inside the final stage's.
  expect(output).toMatch(/running 'single' at/);
  for (const f of files) expect([f.path, inside(`test -e ${f.path} && echo yes`).stdout.trim()]).toEqual([f.path, "yes"]);
});

test("the IMDS stand-in saw IMDSv2 only: a session token, then the role's credentials asked for with it", () => {
  expect(log("imds")).toContain("PUT /latest/api/token");
  expect(log("imds")).toContain(`GET /latest/meta-data/iam/security-credentials/${ROLE.role} token=yes`);
  expect(log("imds")).not.toMatch(/GET \S+ token=no/);
});

test("the S3 stand-in served the planned object once, to a request signed with the role's key and token", () => {
  expect(objectGets()).toBe(1);
  expect(log("s3")).not.toMatch(/" 403 /);
});

test("the bundle is gone from /run; the env file with the secrets is there, mode 0600 root-owned as planned", () => {
  expect(inside("ls -A /run/studyhost/").stdout.trim()).toBe("");
  const env = files.find((f) => f.path === "/etc/study/env")!;
  expect(env.permissions).toBe("0600");
  expect(inside("stat -c '%a %U:%G' /etc/study/env").stdout.trim()).toBe(`600 ${env.owner ?? "root:root"}`);
  expect(inside("grep -c '^SECRET_KEY=' /etc/study/env").stdout.trim()).toBe("1");
});

test("https answers from the app through nginx, with a chain Pebble's root verifies", () => {
  const page = https("/");
  timings.bootToHttpsMs = Date.now() - bootStartedAt;
  expect([page.status, page.stdout]).toEqual([0, "studyhost e2e app: ok\n"]);
  expect(https("/write?body=on%20aws").stdout).toBe("written\n");
});

test("power off, boot the same root again: it serves again, runcmd and the fetch do not run again", async () => {
  const gets = objectGets();
  await powerOff(booted!);
  const t0 = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  const second = await waitForBoot(booted);
  timings.rebootMs = Date.now() - t0;
  expect(second.systemState).toBe("running");
  expect(collect(booted).failedUnits).toEqual([]);
  timings.rebootToAppMs = timings.rebootMs + (await appAnswers(60_000));
  expect(JSON.parse(https("/read").stdout)).toEqual(["on aws"]);
  expect(inside("journalctl -b -u cloud-final.service --no-pager -o cat").stdout).not.toContain("studyhost-fetch-host-files");
  expect(objectGets()).toBe(gets);
  expect(log("imds")).not.toMatch(/GET \S+ token=no/);
});
