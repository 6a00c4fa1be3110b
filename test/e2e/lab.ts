// What the end-to-end tests share on top of boot.ts: the stand-in app served from the internet side,
// a stack file rendered for the lab, requests from the internet namespace, waiting for the app.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import {
  boot,
  BootedHost,
  collect,
  ensureImage,
  exec,
  type HostReport,
  missingPrerequisites,
  type Net,
  netDown,
  netUp,
  powerOff,
  prepareHost,
  PreparedHost,
  removeHost,
  tcpProbeMany,
  waitForBoot,
} from "../../src/local/boot";
import { serveGitRepo, ServedRepo, stopServer } from "../../src/local/gitServe";

export const REPO = resolve(__dirname, "../..");
export const DOMAIN = "study.example.org";
/** An address on the internet side that the stacks list in adminCidrs (as a /32: see net.sh). */
export const ADMIN = "203.0.113.10";
export const PLACEHOLDER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA placeholder-replace-with-your-own-public-key";

/** FROM copied to DEST and committed as a git repository tagged TAG; returns DEST and the commit's short hash. */
export function committedRepo(from: string, dest: string, tag: string, message: string): { path: string; shortHash: string } {
  cpSync(from, dest, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "studyhost",
    GIT_AUTHOR_EMAIL: "e2e@example.org",
    GIT_COMMITTER_NAME: "studyhost",
    GIT_COMMITTER_EMAIL: "e2e@example.org",
  };
  for (const args of [
    ["init", "-q", "-b", "main"],
    ["add", "."],
    ["commit", "-q", "-m", message],
    ["tag", tag],
    ["rev-parse", "--short", "HEAD"],
  ]) {
    const r = spawnSync("git", args, { cwd: dest, encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    if (args[0] === "rev-parse") return { path: dest, shortHash: r.stdout.trim() };
  }
  throw new Error("unreachable");
}

/** A git repository of the stand-in app (test/e2e/app), committed and tagged v1, in WORK/app-src. */
export function standInRepo(work: string): string {
  return committedRepo(join(__dirname, "app"), join(work, "app-src"), "v1", "stand-in study app").path;
}

/**
 * The preset test's package index (standins/make_index.py: the stand-in BOFS and `flask` wheels, and
 * the real gunicorn repacked from Debian's files) built in WORK/index and served over http from the
 * internet side, as an institution's mirror would be; `url` is what studyhost:app.pipIndexUrl takes.
 */
export function servePackageIndex(work: string, net: Net, port = 8090): { url: string; pid: number } {
  const dir = join(work, "index");
  const built = spawnSync("python3", [join(__dirname, "standins", "make_index.py"), dir], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`make_index.py: ${built.stderr}`);
  const server = spawn(
    "ip",
    ["netns", "exec", net.internet.netns, "python3", "-m", "http.server", "--bind", net.internet.address, String(port), "--directory", dir],
    {
      stdio: "ignore",
      detached: true,
    },
  );
  server.unref();
  if (!server.pid) throw new Error("could not start the package index's HTTP server");
  return { url: `http://${net.internet.address}:${port}/simple/`, pid: server.pid };
}

/** The stand-in app, served by git over dumb HTTP from the internet side. */
export function serveApp(work: string, net: Net): ServedRepo {
  return serveGitRepo(standInRepo(work), net, work);
}

/** The stand-in app as a study's `app` key: the distribution's gunicorn, no PyPI. */
export function standInApp(gitUrl: string) {
  return {
    kind: "python",
    name: "study",
    source: { git: gitUrl, ref: "v1" },
    aptPackages: ["gunicorn", "python3-psycopg2"],
    systemSitePackages: true,
    start: "python3 -m gunicorn --bind 127.0.0.1:${PORT} app:application",
    port: 8000,
    healthPath: "/health",
  };
}

/** Write a stack file for the lab and render it with `studyhost plan --out`; returns the plan's JSON. */
export function renderStack(work: string, name: string, config: Record<string, unknown>): { outDir: string; plan: { outputs: Record<string, unknown> } } {
  mkdirSync(work, { recursive: true });
  const stackFile = join(work, `Pulumi.${name}.yaml`);
  writeFileSync(stackFile, stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`studyhost:${k}`, v])) }));
  const outDir = join(work, "plan");
  const r = spawnSync("node", [join(REPO, "bin/studyhost.js"), "plan", "--config", stackFile, "--json", "--out", outDir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`studyhost plan failed:\n${r.stdout}${r.stderr}`);
  return { outDir, plan: JSON.parse(r.stdout) };
}

/** Run a command in the internet namespace: what a participant's browser (or an attacker) sees. */
export function fromInternet(net: Net, cmd: string[], timeoutMs = 30_000) {
  return spawnSync("ip", ["netns", "exec", net.internet.netns, ...cmd], { encoding: "utf8", timeout: timeoutMs });
}

/** An https request to the study from the internet, the chain checked against Pebble's root. */
export function https(net: Net, address: string, path: string, extra: string[] = []) {
  return fromInternet(net, [
    "curl",
    "-sS",
    "--max-time",
    "10",
    "--cacert",
    net.acme!.root,
    "--resolve",
    `${DOMAIN}:443:${address}`,
    ...extra,
    `https://${DOMAIN}${path}`,
  ]);
}

/** Status code and body of an https request to ADDRESS (from the admin address with `asAdmin`); code "000": no answer. */
export function httpsGet(net: Net, address: string, path: string, asAdmin = false): { code: string; body: string } {
  const r = https(net, address, path, [...(asAdmin ? ["--interface", ADMIN] : []), "-w", "\n%{http_code}"]);
  const at = r.stdout.lastIndexOf("\n");
  return { code: r.stdout.slice(at + 1), body: r.stdout.slice(0, at) };
}

/**
 * Every TCP port the host listens on (`ss` inside it, whatever address it binds), probed at ADDRESS
 * from the internet namespace, from an ordinary address and from the admin address: which ones answer.
 * "Only 80 and 443 are open" is then shown for every listening port, not only for ports a test names.
 */
export function reachablePorts(net: Net, host: BootedHost, address: string): { listening: number[]; fromInternet: number[]; fromAdmin: number[] } {
  const ss = exec(host, ["ss", "-Hltn"]);
  if (ss.status !== 0) throw new Error(`ss failed in the host: ${ss.stderr}`);
  // A line is "LISTEN 0 511 0.0.0.0:443 0.0.0.0:*": the port ends the fourth field.
  const ports = ss.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => Number(line.trim().split(/\s+/)[3].replace(/^.*:/, "")));
  const listening = [...new Set(ports)].sort((a, b) => a - b);
  const answering = (source?: string) => {
    const probed = tcpProbeMany(net.internet.netns, address, listening, source, 2);
    return listening.filter((port) => probed.get(port)!.startsWith("open"));
  };
  return { listening, fromInternet: answering(), fromAdmin: answering(ADMIN) };
}

/** An SSH log-in with a password from the admin address: the server must offer public keys only. */
export function sshWithPassword(net: Net, address: string) {
  return fromInternet(net, [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "PreferredAuthentications=password,keyboard-interactive",
    "-b",
    ADMIN,
    `studyadmin@${address}`,
    "true",
  ]);
}

/** Until the app answers through nginx (after a restart, a restore, a reboot), at most `ms`; how long it took. */
export async function appAnswers(net: Net, address: string, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (https(net, address, "/health").stdout === "studyhost e2e app: ok\n") return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the app did not answer through nginx within ${ms} ms`);
}

/** Record figures (not assertions) under bench/results/. */
/**
 * What every boot test does first: say what is missing (root, nspawn, Pebble, ...), make the run's work
 * folder (/var/tmp/studyhost-e2e-NAME-*), and build or unpack the cached image (its time in `figures`).
 */
export function startRun(name: string, figures: Record<string, number>): string {
  const missing = missingPrerequisites({ acme: true });
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  const work = mkdtempSync(`/var/tmp/studyhost-e2e-${name}-`);
  figures.imageMs = ensureImage();
  return work;
}

/** What every boot test does last: print its figures and record them as bench/results/e2e-NAME.json (figures, not assertions). */
export function finishRun(name: string, figures: Record<string, number>, work: string): void {
  console.log(`${name} end to end: ${JSON.stringify(figures)} (work folder ${work})`);
  recordFigures(`e2e-${name}`, figures);
}

/** Where a host's root holds the stand-in images' tar for the import unit below. */
export const STANDIN_IMAGES_TAR = "/var/lib/studyhost-e2e/standin-images.tar";

/**
 * Test harness only, in the host's root (never in the user data): `tarball` copied in and a unit that
 * runs `imports` (`docker import ... ${STANDIN_IMAGES_TAR} IMAGE` lines) at boot, after Docker and
 * before cloud-init's final stage runs the provisioning: as if the VM's disk had the images.
 */
export function addStandInImages(root: string, tarball: string, imports: readonly string[], testFile: string): void {
  mkdirSync(join(root, dirname(STANDIN_IMAGES_TAR)), { recursive: true });
  copyFileSync(tarball, join(root, STANDIN_IMAGES_TAR));
  writeFileSync(
    join(root, "usr/local/sbin/studyhost-e2e-standin-images"),
    `#!/bin/sh\n# studyhost e2e only: STAND-IN images (no registry here), see ${testFile}.\nset -eu\n${imports.join("\n")}\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(root, "etc/systemd/system/studyhost-e2e-standin-images.service"),
    `[Unit]
Description=studyhost e2e only: import the STAND-IN container images (no registry is reachable)
Requires=docker.service
After=docker.service
Before=cloud-final.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/studyhost-e2e-standin-images

[Install]
WantedBy=multi-user.target
`,
  );
  mkdirSync(join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  symlinkSync(
    "/etc/systemd/system/studyhost-e2e-standin-images.service",
    join(root, "etc/systemd/system/multi-user.target.wants/studyhost-e2e-standin-images.service"),
  );
}

export function recordFigures(name: string, figures: Record<string, number>): void {
  mkdirSync(join(REPO, "bench", "results"), { recursive: true });
  const note = "packages pre-installed in the test image; a cloud VM also downloads them";
  writeFileSync(join(REPO, "bench", "results", `${name}.json`), JSON.stringify({ measuredAt: new Date().toISOString(), note, ...figures }, null, 2) + "\n");
}

/**
 * What a booted host must show, as one object so a failure prints all of it: no failed unit (with the
 * journal of any that did), no failed provisioning step, provisioning finished, systemd "running".
 */
export function provisioning(report: HostReport) {
  return {
    failed: report.failedUnits,
    journals: report.failedJournals,
    steps: report.provisionFailures,
    finished: report.provisionFinished,
    state: report.systemState,
  };
}

export const PROVISIONED_CLEANLY = { failed: [], journals: {}, steps: [], finished: true, state: "running" };

/** A preset example stack's config (Pulumi.<preset>.yaml), without the `studyhost:` prefix. */
export function exampleConfig(file: string): Record<string, any> {
  const doc = parse(readFileSync(join(REPO, file), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^studyhost:/, ""), v]));
}

/**
 * An example stack's config for a lab: its domain and admin address, APP's keys over the example's app,
 * and with `net` the lab's ACME server (without: the example's own TLS settings, for a first render
 * that only asks the plan where things go); every other key kept.
 */
export function labConfig(example: Record<string, any>, app: Record<string, unknown>, net?: Net): Record<string, unknown> {
  return {
    ...example,
    domain: DOMAIN,
    adminCidrs: [`${ADMIN}/32`],
    ...(net ? { tls: { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") } } : {}),
    app: { ...example.app, ...app },
  };
}

/**
 * One lab (number `lab`) with one booted host `study-app`, as the preset tests use it: net, the
 * servers started for it (package index, git), the host; all torn down by `down`.
 */
export class PresetLab {
  net!: Net;
  host?: PreparedHost;
  booted?: BootedHost;
  servers: number[] = [];
  bootStartedAt = 0;

  constructor(readonly lab: number) {}

  up(): Net {
    this.net = netUp({ lab: this.lab, acme: true, admin: ADMIN, hosts: [{ name: "study-app" }] });
    return this.net;
  }

  /** The lab's domain, admin address and ACME server over the example's config; every other key kept. */
  config(example: Record<string, any>, app: Record<string, unknown>): Record<string, unknown> {
    return labConfig(example, app, this.net);
  }

  /** Boots the host from USERDATA (a fresh root in DIR) until systemd settles; how long it took. */
  async boot(dir: string, userData: string, beforeBoot?: (h: PreparedHost) => void): Promise<number> {
    this.host = prepareHost({ name: "study-app", userData, dir });
    beforeBoot?.(this.host);
    this.bootStartedAt = Date.now();
    this.booted = await boot(this.host, { netnsPath: this.net.hosts[0].netnsPath });
    await waitForBoot(this.booted);
    return Date.now() - this.bootStartedAt;
  }

  /** Powers the host off and boots the same root again (the data folder kept); how long until systemd settled. */
  async reboot(): Promise<number> {
    await powerOff(this.booted!);
    const t0 = Date.now();
    this.booted = await boot(this.host!, { netnsPath: this.net.hosts[0].netnsPath });
    await waitForBoot(this.booted);
    return Date.now() - t0;
  }

  /** What the booted host shows, to compare with PROVISIONED_CLEANLY. */
  provisioning() {
    return provisioning(collect(this.booted!));
  }

  https(path: string, extra: string[] = []) {
    return https(this.net, this.net.hosts[0].address, path, extra);
  }

  /** Status code and body of an https request (from the admin address with `asAdmin`). */
  get(path: string, asAdmin = false): { code: string; body: string } {
    return httpsGet(this.net, this.net.hosts[0].address, path, asAdmin);
  }

  /** Until PATH answers 200 through nginx (after a restart, a restore, a reboot), at most `ms`; how long it took. */
  async answers(path: string, ms: number): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (this.get(path).code === "200") return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${path} did not answer 200 through nginx within ${ms} ms`);
  }

  inside(cmd: string, input?: string) {
    return exec(this.booted!, ["bash", "-c", cmd], { timeoutMs: 120_000, input });
  }

  async down(): Promise<void> {
    if (this.booted) await powerOff(this.booted);
    if (this.host) removeHost(this.host, { data: true });
    for (const pid of this.servers) stopServer(pid);
    if (this.net) netDown(this.lab);
  }
}
