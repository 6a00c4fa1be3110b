// Boots a host from exactly the user data `studyhost plan --out` renders: a fresh copy of the cached
// cloud-image-like root (rootfs.sh), seeded for cloud-init's NoCloud datasource, under systemd-nspawn
// in a network namespace that net.sh made (../shared/notes/local-boot.md gives the why of each flag).
// Used by `studyhost local` and the end-to-end tests. Linux, root.
import { spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";

// The shell scripts sit beside this file: in src/local/ in a checkout, copied to dist/src/local/ by the build.
const ROOTFS_SH = join(__dirname, "rootfs.sh");
const NET_SH = join(__dirname, "net.sh");
const CGROUP_SH = join(__dirname, "cgroup.sh");
/** Where the image records which units a pre-installed package enabled (see rootfs.sh). */
const UNITS_TSV = "usr/local/share/studyhost-e2e/units.tsv";
const PREINSTALLED = "usr/local/share/studyhost-e2e/preinstalled";
/** The data volume's mount point in what studyhost renders; a bind mount stands in for the volume. */
export const DATA_MOUNT = "/var/lib/studyhost";
const PATH_INSIDE = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ---------------------------------------------------------------------------------------------
// Small helpers

function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", input: opts.input, timeout: opts.timeoutMs, env: opts.env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
}

function runOk(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes sure the cached image exists (building it the first time, minutes) and returns how long that
 * took. With `progress`, rootfs.sh's stages go to this process's stderr as they start and end.
 */
export function ensureImage(opts: { progress?: boolean } = {}): number {
  const t = Date.now();
  if (opts.progress) {
    const r = spawnSync(ROOTFS_SH, ["base"], { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`building the image failed (rootfs.sh base exited ${r.status}; its last lines are above)`);
  } else {
    const r = run(ROOTFS_SH, ["base"]);
    if (r.status !== 0) throw new Error(`rootfs.sh base exited ${r.status}:\n${r.stderr}`);
  }
  return Date.now() - t;
}

/** What a program says it is missing, before anything is started: root, systemd-nspawn, nsenter, zstd. */
export function missingPrerequisites(opts: { acme?: boolean } = {}): string[] {
  const missing: string[] = [];
  if (process.platform !== "linux") missing.push("Linux");
  if (typeof process.getuid === "function" && process.getuid() !== 0) missing.push("root (run as root)");
  for (const [tool, pkg] of [
    ["systemd-nspawn", "systemd-container"],
    ["debootstrap", "debootstrap"],
    ["nsenter", "util-linux"],
    ["zstd", "zstd"],
    ["ip", "iproute2"],
    ["nft", "nftables"],
    ...(opts.acme
      ? ([
          ["pebble", "pebble"],
          ["pebble-challtestsrv", "pebble"],
        ] as const)
      : []),
  ] as const) {
    if (run("sh", ["-c", `command -v ${tool}`]).status !== 0) missing.push(`${tool} (apt-get install -y ${pkg})`);
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// The network (net.sh)

export interface NetHostSpec {
  readonly name: string;
  /** An address on the private network, with its prefix, e.g. "10.116.0.53/20". */
  readonly privateAddress?: string;
  /** ip_forward inside the host's namespace (Docker wants it). */
  readonly forward?: boolean;
}

export interface NetHost {
  readonly name: string;
  readonly netns: string;
  readonly netnsPath: string;
  /** The host's public address (eth0). */
  readonly address: string;
  readonly privateAddress: string | null;
  readonly forward: boolean;
}

export interface Net {
  readonly lab: number;
  readonly state: string;
  /** The internet namespace; `address` is the hosts' gateway and where Pebble listens. */
  readonly internet: { readonly netns: string; readonly address: string; readonly admin: string | null };
  readonly uplink: string;
  readonly nftTable: string;
  readonly hosts: readonly NetHost[];
  readonly acme: null | {
    /** The ACME directory URL, for certbot --server. */
    readonly directory: string;
    /** The CA of Pebble's own HTTPS endpoint: what certbot must trust (REQUESTS_CA_BUNDLE). */
    readonly endpointCa: string;
    /** Pebble's issuing root, to verify the chain a host serves. */
    readonly root: string;
    /** pebble-challtestsrv's management API (POST /add-a to point a name at a host). */
    readonly challtestsrv: string;
    readonly logs: readonly string[];
  };
}

export function netUp(opts: { hosts: readonly NetHostSpec[]; lab?: number; acme?: boolean; admin?: string }): Net {
  const args = ["up", "--lab", String(opts.lab ?? 0)];
  if (opts.acme) args.push("--acme");
  if (opts.admin) args.push("--admin", opts.admin);
  for (const h of opts.hosts) args.push(`${h.name}${h.privateAddress ? `@${h.privateAddress}` : ""}${h.forward ? "+forward" : ""}`);
  const r = run(NET_SH, args);
  if (r.status !== 0) throw new Error(`net.sh ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  process.stderr.write(r.stderr);
  return JSON.parse(r.stdout) as Net;
}

export function netDown(lab = 0): void {
  const r = run(NET_SH, ["down", "--lab", String(lab)]);
  if (r.status !== 0) throw new Error(`net.sh down exited ${r.status}:\n${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
}

// ---------------------------------------------------------------------------------------------
// A host's root filesystem

export type RootMode = "overlay" | "copy";

export interface PreparedHost {
  readonly name: string;
  /** The host's folder: root/ (and upper/, work/ for an overlay), data/, host.json, console.log, nspawn.pid. */
  readonly dir: string;
  readonly root: string;
  /**
   * overlay: root/ is an overlayfs whose read-only lower layer is the image unpacked once in the cache
   * (rootfs.sh base) and whose upper layer (upper/) gets what the host writes: a mount in milliseconds.
   * copy: root/ is a full unpack of the image (about 12 s here). STUDYHOST_E2E_ROOT sets the default.
   */
  readonly mode: RootMode;
  /** The host folder bound on /var/lib/studyhost (the data volume). */
  readonly data: string;
  /** Host folders bound into the container: the data volume, and /var/lib/docker on an overlay root. */
  readonly binds: readonly { readonly host: string; readonly container: string }[];
  /** The packages the user data lists. */
  readonly packages: readonly string[];
  /** Those the image does not have: cloud-init fetches them from the mirror. */
  readonly notPreinstalled: readonly string[];
  readonly timings: { readonly rootMs: number };
}

/** The #cloud-config as text (user data may be gzipped, as for AWS). */
export function userDataText(raw: Buffer): string {
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString("utf8");
}

export function userDataPackages(raw: Buffer): string[] {
  const doc = parse(userDataText(raw)) as { packages?: unknown[] } | null;
  return (doc?.packages ?? []).map((p) => (Array.isArray(p) ? String(p[0]) : String(p)));
}

function defaultMode(): RootMode {
  const m = process.env.STUDYHOST_E2E_ROOT ?? "overlay";
  if (m !== "overlay" && m !== "copy") throw new Error(`STUDYHOST_E2E_ROOT=${m}: expected overlay or copy`);
  return m;
}

function mountPoints(): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " "))
    .filter(Boolean);
}

/**
 * Makes a fresh root for a host in DIR/root, seeds cloud-init with the user data file (byte for byte)
 * and an instance id stable for this folder, and enables the units of the pre-installed packages that
 * this host's user data lists (what their postinst would have done on a VM). The data folder (DIR/data
 * unless given) is kept across boots: it is the data volume. Booting the same PreparedHost again (after
 * powerOff) is the same disk booted again.
 */
export function prepareHost(opts: { name: string; userData: string; dir: string; dataDir?: string; instanceId?: string; mode?: RootMode }): PreparedHost {
  const mode = opts.mode ?? defaultMode();
  const dir = resolve(opts.dir);
  const root = join(dir, "root");
  const data = resolve(opts.dataDir ?? join(dir, "data"));
  for (const p of [root, join(dir, "upper")]) if (existsSync(p)) throw new Error(`${p} exists: remove the host first (removeHost) or use another folder`);
  mkdirSync(dir, { recursive: true });
  mkdirSync(data, { recursive: true });
  const t = Date.now();
  if (mode === "copy") {
    const r = run(ROOTFS_SH, ["unpack", root]);
    if (r.status !== 0) throw new Error(`rootfs.sh unpack exited ${r.status}:\n${r.stderr}`);
    process.stderr.write(r.stderr);
  } else {
    const r = run(ROOTFS_SH, ["base"]);
    if (r.status !== 0) throw new Error(`rootfs.sh base exited ${r.status}:\n${r.stderr}`);
    process.stderr.write(r.stderr);
    const base = r.stdout.trim();
    for (const d of ["upper", "work", "root"]) mkdirSync(join(dir, d));
    runOk("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${base},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`, root]);
  }
  const rootMs = Date.now() - t;

  const raw = readFileSync(opts.userData);
  const seed = join(root, "var/lib/cloud/seed/nocloud");
  mkdirSync(seed, { recursive: true });
  copyFileSync(opts.userData, join(seed, "user-data"));
  writeFileSync(join(seed, "meta-data"), `instance-id: ${opts.instanceId ?? `iid-studyhost-e2e-${opts.name}`}\nlocal-hostname: ${opts.name}\n`);

  const packages = userDataPackages(raw);
  const preinstalled = new Set(readFileSync(join(root, PREINSTALLED), "utf8").split("\n").filter(Boolean));
  for (const line of readFileSync(join(root, UNITS_TSV), "utf8").split("\n")) {
    const [pkg, link, target] = line.split("\t");
    if (!pkg || !packages.includes(pkg)) continue;
    const at = join(root, link);
    mkdirSync(dirname(at), { recursive: true });
    if (!existsLink(at)) symlinkSync(target, at);
  }
  const binds = [{ host: data, container: DATA_MOUNT }];
  // Docker's overlay2 storage cannot sit on an overlayfs: give it a plain folder, as a VM's disk is.
  if (mode === "overlay" && packages.includes("docker.io")) {
    mkdirSync(join(dir, "docker"), { recursive: true });
    binds.push({ host: join(dir, "docker"), container: "/var/lib/docker" });
  }
  const host: PreparedHost = {
    name: opts.name,
    dir,
    root,
    mode,
    data,
    binds,
    packages,
    notPreinstalled: packages.filter((p) => !preinstalled.has(p)),
    timings: { rootMs },
  };
  writeFileSync(join(dir, "host.json"), `${JSON.stringify(host, null, 2)}\n`);
  return host;
}

/** A host prepared earlier (by this or another process), from its folder. */
export function loadHost(dir: string): PreparedHost {
  return JSON.parse(readFileSync(join(resolve(dir), "host.json"), "utf8")) as PreparedHost;
}

function existsLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes a host's root (not its data folder unless asked). Refuses while it is booted or anything is mounted under it. */
export function removeHost(host: PreparedHost, opts: { data?: boolean } = {}): void {
  const booted = attach(host);
  if (booted) throw new Error(`${host.name} is still running (systemd-nspawn pid ${booted.nspawnPid}): power it off first`);
  if (host.mode === "overlay" && mountPoints().includes(host.root)) runOk("umount", [host.root]);
  const mounted = mountPoints().filter((m) => m === host.root || m.startsWith(`${host.root}/`));
  if (mounted.length) throw new Error(`still mounted under ${host.root}: ${mounted.join(", ")}`);
  removeCgroups(host.dir);
  for (const d of ["root", "upper", "work", "docker"]) rmSync(join(host.dir, d), { recursive: true, force: true });
  if (opts.data) rmSync(host.data, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// A cgroup of its own (cgroup.sh says why)

/** The file in a host's (or a run's) folder listing the cgroups cgroup.sh made for it. */
const CGROUPS_RECORD = "cgroups";

/**
 * The arguments for cgroup.sh that run CMD in a cgroup of its own, named after NAME and the folder DIR
 * (two labs' hosts of the same name never share one), recorded in DIR for removeCgroups.
 */
export function inOwnCgroupArgs(dir: string, name: string, cmd: readonly string[]): string[] {
  const tag = createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 8);
  return ["exec", `studyhost-${basename(name)}-${tag}`, join(dir, CGROUPS_RECORD), "--", ...cmd];
}

/**
 * Runs a command in HOST's root under systemd-nspawn without booting it (the machine's network, no
 * systemd inside), in a cgroup of its own like a booted host, and waits for it.
 */
export function runInRoot(host: PreparedHost, nspawnArgs: readonly string[], opts: { timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const nspawn = ["systemd-nspawn", "--register=no", "--keep-unit", "--quiet", "--console=pipe", "-D", host.root, ...nspawnArgs];
  try {
    return run(CGROUP_SH, inOwnCgroupArgs(host.dir, host.name, nspawn), { timeoutMs: opts.timeoutMs });
  } finally {
    removeCgroups(host.dir);
  }
}

/** Removes the cgroups recorded in DIR once everything in them has ended (a no-op when none are). */
export function removeCgroups(dir: string): void {
  const r = run(CGROUP_SH, ["remove", join(dir, CGROUPS_RECORD)]);
  if (r.status !== 0) throw new Error(`cgroup.sh remove exited ${r.status}:\n${r.stderr}`);
}

// ---------------------------------------------------------------------------------------------
// Booting

export interface BootedHost {
  readonly host: PreparedHost;
  /** The systemd-nspawn process. */
  readonly nspawnPid: number;
  /** The container's PID 1 (systemd), as seen from the machine: what nsenter enters. */
  readonly leader: number;
  readonly console: string;
  /** Date.now() when systemd-nspawn was started. */
  readonly startedAt: number;
}

/** The system call groups the container needs beyond nspawn's default filter. */
export function systemCallFilter(): string {
  // Docker (runc) needs the keyring calls; under a unified cgroup hierarchy also bpf (device cgroup).
  return existsSync("/sys/fs/cgroup/cgroup.controllers") ? "add_key keyctl bpf" : "add_key keyctl";
}

export function nspawnArgs(host: PreparedHost, netnsPath: string, extra: readonly string[] = [], filter = systemCallFilter()): string[] {
  return [
    // PID 1 of the machine is not systemd and there is no host D-Bus: no registration, no scope unit.
    "--register=no",
    "--keep-unit",
    "-b",
    "-D",
    host.root,
    "-M",
    host.name,
    "--console=pipe",
    "--link-journal=no",
    `--network-namespace-path=${netnsPath}`,
    // nftables.service (the host firewall) and Docker need it; a VM's root has it.
    "--capability=CAP_NET_ADMIN",
    ...(filter ? [`--system-call-filter=${filter}`] : []),
    "--resolv-conf=copy-host",
    ...host.binds.map((b) => `--bind=${b.host}:${b.container}`),
    ...extra,
  ];
}

/** Boots the host in the background (it outlives this process unless powered off) and finds its PID 1. */
export async function boot(host: PreparedHost, opts: { netnsPath: string; extraArgs?: readonly string[]; systemCallFilter?: string }): Promise<BootedHost> {
  const consoleLog = join(host.dir, "console.log");
  // What an earlier boot that ended without powerOff (a crash, a killed test) left behind.
  removeCgroups(host.dir);
  const fd = openSync(consoleLog, "a");
  const startedAt = Date.now();
  let pid: number | undefined;
  try {
    const nspawn = ["systemd-nspawn", ...nspawnArgs(host, opts.netnsPath, opts.extraArgs, opts.systemCallFilter ?? systemCallFilter())];
    // The wrapper execs nspawn: the pid stays the same and becomes systemd-nspawn.
    const child = spawn(CGROUP_SH, inOwnCgroupArgs(host.dir, host.name, nspawn), { detached: true, stdio: ["ignore", fd, fd] });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (!pid) throw new Error("systemd-nspawn did not start");
  writeFileSync(join(host.dir, "nspawn.pid"), `${pid}\n`);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const leader = childNamed(pid, "systemd");
    if (leader) return { host, nspawnPid: pid, leader, console: consoleLog, startedAt };
    if (!alive(pid)) {
      removeCgroups(host.dir);
      throw new Error(`systemd-nspawn exited before the container's systemd started:\n${tail(consoleLog, 40)}`);
    }
    if (Date.now() > deadline) throw new Error(`no systemd under systemd-nspawn (pid ${pid}) after 20 s:\n${tail(consoleLog, 40)}`);
    await sleep(100);
  }
}

/** A host booted by another process (its folder holds nspawn.pid), e.g. for `studyhost local --stop`. */
export function attach(host: PreparedHost): BootedHost | null {
  const f = join(host.dir, "nspawn.pid");
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, "utf8").trim());
  if (!alive(pid) || procComm(pid) !== "systemd-nspawn") return null;
  const leader = childNamed(pid, "systemd");
  return leader ? { host, nspawnPid: pid, leader, console: join(host.dir, "console.log"), startedAt: statSync(f).mtimeMs } : null;
}

function procComm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

function procStat(pid: number): { ppid: number; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

function childNamed(parent: number, comm: string): number | null {
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (procStat(pid)?.ppid === parent && procComm(pid) === comm) return pid;
  }
  return null;
}

function tail(file: string, lines: number): string {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-lines).join("\n") : `(no ${file})`;
}

/** Runs a command inside the booted host (all its namespaces), with a clean environment. */
export function exec(b: BootedHost, cmd: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return run(
    "nsenter",
    ["-t", String(b.leader), "-a", "--", "/usr/bin/env", "-i", `PATH=${PATH_INSIDE}`, "LANG=C.UTF-8", "TERM=dumb", "HOME=/root", ...cmd],
    opts,
  );
}

/** exec(), throwing with the output unless the command exits 0. */
export function execOk(b: BootedHost, cmd: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = exec(b, cmd, opts);
  if (r.status !== 0) throw new Error(`in ${b.host.name}: ${cmd.join(" ")} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface BootResult {
  /** From starting systemd-nspawn to /var/lib/cloud/instance/boot-finished. */
  readonly bootFinishedMs: number;
  /** What `systemctl is-system-running --wait` said: running, degraded, ... */
  readonly systemState: string;
  readonly settledMs: number;
}

/**
 * Waits for cloud-init's boot-finished, then for systemd to settle. (`cloud-init status --wait` can
 * answer "error" early while apt still runs, so it is not what is waited on.)
 */
export async function waitForBoot(b: BootedHost, timeoutMs = 10 * 60_000): Promise<BootResult> {
  const deadline = b.startedAt + timeoutMs;
  for (;;) {
    if (!alive(b.nspawnPid)) throw new Error(`${b.host.name} stopped before cloud-init finished:\n${tail(b.console, 60)}`);
    // cloud-init rewrites boot-finished at the end of every boot: on a second boot of the same root the
    // old file is already there, so only one written since this boot started counts.
    const mtime = Number(exec(b, ["stat", "-c", "%Y", "/var/lib/cloud/instance/boot-finished"]).stdout.trim() || 0);
    if (mtime * 1000 >= b.startedAt - 1000) break;
    if (Date.now() > deadline) throw new Error(`${b.host.name}: no boot-finished after ${timeoutMs / 1000} s:\n${tail(b.console, 60)}`);
    await sleep(500);
  }
  const bootFinishedMs = Date.now() - b.startedAt;
  const left = Math.max(10_000, deadline - Date.now());
  let r = exec(b, ["timeout", String(Math.ceil(left / 1000)), "systemctl", "is-system-running", "--wait"], { timeoutMs: Math.ceil(left) + 5_000 });
  // Early in a boot systemd's bus may not exist yet: ask again until it answers.
  while (!r.stdout.trim() && /Failed to connect to bus/.test(r.stderr) && Date.now() < deadline) {
    await sleep(500);
    r = exec(b, ["timeout", String(Math.ceil((deadline - Date.now()) / 1000)), "systemctl", "is-system-running", "--wait"], {
      timeoutMs: Math.ceil(deadline - Date.now()) + 5_000,
    });
  }
  return { bootFinishedMs, systemState: r.stdout.trim() || `(no answer: ${r.stderr.trim()})`, settledMs: Date.now() - b.startedAt };
}

export interface HostReport {
  readonly systemState: string;
  /** `systemctl --failed`: the failed units' names. */
  readonly failedUnits: readonly string[];
  /** The last journal lines of each failed unit. */
  readonly failedJournals: Readonly<Record<string, string>>;
  /** ActiveState/SubState/Result of the units a studyhost host runs, as far as they exist here. */
  readonly units: Readonly<Record<string, string>>;
  /** This boot's journal at priority warning or worse, repeated lines counted once. */
  readonly journalWarnings: readonly string[];
  readonly cloudInitStatus: string;
  /** `cloud-init analyze blame`: the slowest modules first. */
  readonly cloudInitBlame: string;
  readonly cloudInitOutput: string;
  readonly provisionLog: string;
  /** The steps studyhost-provision started, in order. */
  readonly provisionSteps: readonly string[];
  /** The steps that failed, each with the command that failed. */
  readonly provisionFailures: readonly { readonly step: string; readonly line: string; readonly command: string }[];
  readonly provisionFinished: boolean;
  /** Lines of cloud-init's output log that report a failure, each once, with how often it came. */
  readonly cloudInitFailures: readonly string[];
}

const WATCHED_UNITS = [
  "cloud-init-local.service",
  "cloud-init.service",
  "cloud-config.service",
  "cloud-final.service",
  "ssh.service",
  "nftables.service",
  "fail2ban.service",
  "chrony.service",
  "studyhost-swap.service",
  "nginx.service",
  "postgresql.service",
  "docker.service",
  "studyhost-certificate.service",
  "studyhost-certificate.timer",
  "studyhost-backup.timer",
  "certbot.timer",
  "unattended-upgrades.service",
  "systemd-journald.service",
];

function readIn(b: BootedHost, path: string): string {
  const r = exec(b, ["cat", path]);
  return r.status === 0 ? r.stdout : "";
}

/** Lines once each, in first-seen order, with " (xN)" when repeated. */
export function countedLines(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (x${n})` : l));
}

export function collect(b: BootedHost): HostReport {
  const failedUnits = exec(b, ["systemctl", "--failed", "--plain", "--no-legend", "--no-pager"])
    .stdout.split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
  const failedJournals: Record<string, string> = {};
  for (const u of failedUnits) failedJournals[u] = exec(b, ["journalctl", "-u", u, "-b", "-n", "25", "--no-pager", "-o", "cat"]).stdout;
  const units: Record<string, string> = {};
  for (const u of WATCHED_UNITS) {
    const show = exec(b, [
      "systemctl",
      "show",
      u,
      "-p",
      "LoadState,UnitFileState,ActiveState,SubState,Result,ConditionResult,ConditionTimestampMonotonic",
    ]).stdout;
    const v = Object.fromEntries(
      show
        .split("\n")
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    if (v.LoadState !== "loaded") continue;
    // ConditionResult is "no" for a unit never started too: only a checked condition counts.
    const skipped = v.ConditionResult === "no" && Number(v.ConditionTimestampMonotonic) > 0;
    units[u] = `${v.UnitFileState} ${v.ActiveState}/${v.SubState} (result ${v.Result}${skipped ? ", skipped: condition not met" : ""})`;
  }
  const journalWarnings = countedLines(exec(b, ["journalctl", "-b", "-p", "warning", "--no-pager", "-o", "cat"]).stdout.split("\n").filter(Boolean));
  const provisionLog = readIn(b, "/var/log/studyhost-provision.log");
  const cloudInitOutput = readIn(b, "/var/log/cloud-init-output.log");
  return {
    systemState: exec(b, ["systemctl", "is-system-running"]).stdout.trim(),
    failedUnits,
    failedJournals,
    units,
    journalWarnings,
    cloudInitStatus: exec(b, ["cloud-init", "status", "--long"]).stdout.trim(),
    cloudInitBlame: exec(b, ["cloud-init", "analyze", "blame", "-i", "/var/log/cloud-init.log"]).stdout.split("\n").slice(0, 14).join("\n"),
    cloudInitOutput,
    provisionLog,
    provisionSteps: [...provisionLog.matchAll(/^== step (\S+)$/gm)].map((m) => m[1]),
    provisionFailures: [...provisionLog.matchAll(/^== step (\S+) FAILED at line (\d+): (.*)$/gm)].map((m) => ({ step: m[1], line: m[2], command: m[3] })),
    provisionFinished: /^== studyhost-provision finished/m.test(provisionLog),
    cloudInitFailures: countedLines(cloudInitOutput.split("\n").filter((l) => /\b(FAILED|failed|Failed|ERROR|Error:|Traceback|WARNING)\b|^curl: \(/.test(l))),
  };
}

/** Powers the host off (systemctl poweroff, then SIGTERM, then SIGKILL to systemd-nspawn); returns how long it took. */
export async function powerOff(b: BootedHost, timeoutMs = 30_000): Promise<number> {
  const t = Date.now();
  if (!alive(b.nspawnPid)) return 0;
  exec(b, ["systemctl", "poweroff"], { timeoutMs: 10_000 });
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!alive(b.nspawnPid)) return true;
      await sleep(100);
    }
    return !alive(b.nspawnPid);
  };
  if (!(await gone(timeoutMs))) {
    signal(b.nspawnPid, "SIGTERM");
    if (!(await gone(10_000))) {
      signal(b.nspawnPid, "SIGKILL");
      await gone(5_000);
    }
  }
  rmSync(join(b.host.dir, "nspawn.pid"), { force: true });
  removeCgroups(b.host.dir);
  return Date.now() - t;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Connects from a network namespace to ADDR:PORT (from SOURCE if given): "open" (with the first bytes
 * the server sent, e.g. an SSH banner), "refused", or "timeout" (a firewall dropping it).
 */
export function tcpProbe(netns: string, addr: string, port: number, source?: string, timeoutS = 3): string {
  const py = readFileSync(join(__dirname, "tcp-probe.py"), "utf8");
  return run("ip", ["netns", "exec", netns, "python3", "-c", py, addr, String(port), source ?? "", String(timeoutS)]).stdout.trim();
}

/**
 * tcpProbe for many ports at once (one thread each, so a firewall that drops costs one timeout, not
 * one per port): port -> "open ...", "refused", "timeout" or "error ...".
 */
export function tcpProbeMany(netns: string, addr: string, ports: readonly number[], source?: string, timeoutS = 3): Map<number, string> {
  const py = readFileSync(join(__dirname, "tcp-probe-many.py"), "utf8");
  const r = run("ip", ["netns", "exec", netns, "python3", "-c", py, addr, source ?? "", String(timeoutS), ...ports.map(String)]);
  if (r.status !== 0) throw new Error(`probing ${addr} from ${netns} failed: ${r.stderr}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>).map(([p, v]) => [Number(p), v]));
}

/** An HTTP request from a network namespace: the status code (000 when there was no HTTP answer) and curl's exit code. */
export function httpProbe(netns: string, url: string, extra: readonly string[] = []): { code: string; exit: number | null } {
  const r = run("ip", ["netns", "exec", netns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", ...extra, url]);
  return { code: r.stdout.trim(), exit: r.status };
}
