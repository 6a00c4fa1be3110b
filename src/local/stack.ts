// `studyhost local`: a stack's hosts booted on this machine from exactly the user data `studyhost plan`
// renders, with Pebble standing in for Let's Encrypt, left running until `studyhost local --stop`.
// The same harness the end-to-end tests use (boot.ts, net.sh, rootfs.sh); Linux and root only.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { WITH_FILES, writeHostFiles } from "../plan/hostFiles";
import { fromPulumiConfig } from "../config";
import { parseStudyConfig } from "../../stacks/config";
import { parseCidr } from "../config/validators";
import { planProgram, readStackFile } from "../plan";
import {
  attach,
  boot,
  collect,
  ensureImage,
  loadHost,
  missingPrerequisites,
  netDown,
  userDataPackages,
  netUp,
  NetHostSpec,
  powerOff,
  prepareHost,
  removeHost,
  waitForBoot,
} from "./boot";
import { demoRepo, hasPlaceholderSource, PythonAppKey, withDemoApp } from "./demoApp";
import { serveGitRepo, stopServer } from "./gitServe";
import { labInUse } from "./labs";
import { followProvisioning, stepOutput } from "./progress";

/** The lab number `studyhost local` uses unless told otherwise (the end-to-end tests use 1 to 3). */
export const DEFAULT_LAB = 20;

/** A problem the user can fix (missing tools, a stack already running): printed as one message, exit 1. */
export class LocalError extends Error {}

/** Where a local stack keeps its hosts' disks, rendered files and state: STUDYHOST_LOCAL_DIR or /var/lib/studyhost-local. */
export function localRoot(): string {
  return resolve(process.env.STUDYHOST_LOCAL_DIR ?? "/var/lib/studyhost-local");
}

const labDir = (lab: number) => join(localRoot(), `lab-${lab}`);

export interface LocalHost {
  readonly name: string;
  readonly dir: string;
  /** The host's public address in the lab (what DNS would point at). */
  readonly address: string;
  readonly privateAddress: string | null;
}

export interface LocalState {
  readonly stack: string;
  readonly configFile: string;
  readonly lab: number;
  readonly dir: string;
  readonly domain: string;
  readonly url: string;
  readonly hosts: readonly LocalHost[];
  /** Pebble's issuing root, copied here: what a client verifies the study's certificate against. */
  readonly caFile: string;
  /** The internet namespace, and an address in it that the stack's adminCidrs allow (for SSH). */
  readonly internetNetns: string;
  readonly adminAddress: string | null;
  readonly adminUser: string;
  readonly gitServerPid: number | null;
  readonly startedAt: string;
}

export interface LocalStart {
  readonly state: LocalState;
  /** Host name -> failed units and failed provisioning steps (empty when all is well). */
  readonly problems: Readonly<Record<string, readonly string[]>>;
  readonly timings: { readonly imageMs: number; readonly bootToProvisionedMs: number };
}

function readState(lab: number): LocalState | null {
  const f = join(labDir(lab), "state.json");
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as LocalState) : null;
}

function writeState(state: LocalState): void {
  writeFileSync(join(state.dir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
}

/** An IPv4 address inside the first IPv4 admin block, to stand on the lab's internet side as "you". */
function adminAddressOf(cidrs: readonly string[]): string | null {
  for (const c of cidrs) {
    const parsed = parseCidr(c);
    if (!parsed || parsed.version !== 4) continue;
    const octets = parsed.address.split(".").map(Number);
    if (parsed.prefix < 32) octets[3] += 1;
    return octets.join(".");
  }
  return null;
}

/** The plan's databaseHost output when it is a database host's private IPv4 address; anything else is refused. */
function databaseAddressOf(output: unknown): string {
  const address = String(output);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address))
    throw new LocalError(`the plan's databaseHost (${address}) is not a private IPv4 address: cannot build the lab's private network`);
  return address;
}

const lastLines = (text: string, n: number) => text.split("\n").filter(Boolean).slice(-n);

/**
 * Refuses to start lab LAB while any of it exists on this machine (its network namespaces or its
 * containers), whatever folder holds the state of whoever started it, and says how to stop it.
 */
function refuseIfInUse(lab: number): void {
  const use = labInUse(lab);
  const state = readState(lab);
  if (!use.namespaces.length && !use.containers.length) {
    if (state) throw new LocalError(`a stopped local stack (${state.stack}) left its files in ${state.dir}: remove them with ${stopCommand(lab)}`);
    return;
  }
  const what = use.containers.length
    ? `its hosts ${use.containers.map((c) => `${c.name} (pid ${c.pid})`).join(", ")} are running`
    : `its network (${use.namespaces.join(", ")}) exists`;
  // A lab started by `studyhost local` from another STUDYHOST_LOCAL_DIR: its hosts sit in <dir>/lab-N/hosts/<name>.
  const other = use.containers.map((c) => resolve(c.dir, "../../..")).find((d) => d !== localRoot() && existsSync(join(d, `lab-${lab}`, "state.json")));
  const stop = other ? `STUDYHOST_LOCAL_DIR=${other} ${stopCommand(lab)}` : stopCommand(lab);
  throw new LocalError(`lab ${lab} is in use: ${what}${state ? ` (the ${state.stack} stack)` : ""}; stop it with \`${stop}\`, or give another --lab`);
}

const stopCommand = (lab: number) => `studyhost local --stop${lab === DEFAULT_LAB ? "" : ` --lab ${lab}`}`;

/** On two-server, the app host's private address: beside the database host's, in the same /24. */
function appPrivateAddress(dbAddress: string): string {
  const octets = dbAddress.split(".");
  octets[3] = octets[3] === "2" ? "3" : "2";
  return octets.join(".");
}

/**
 * Boots the stack described by CONFIGFILE. `appSource` (a git repository on this machine) replaces the
 * app's source, served to the host from the lab: the way to try an app that is not published, and the
 * only way on a machine that cannot reach the app's real repository.
 */
export async function startLocalStack(opts: { configFile: string; appSource?: string; lab?: number; log?: (line: string) => void }): Promise<LocalStart> {
  const lab = opts.lab ?? DEFAULT_LAB;
  const log = opts.log ?? (() => {});
  const missing = missingPrerequisites({ acme: true });
  if (missing.length) throw new LocalError(`studyhost local needs ${missing.join(", ")}; nothing was started`);
  refuseIfInUse(lab);

  // Every mistake in the stack file is reported before anything starts.
  const file = readStackFile(opts.configFile);
  const config = { ...file.config };
  const stackApp = JSON.parse(config["studyhost:app"] ?? "{}") as PythonAppKey;
  // The app's source served from this machine: the user's repository, or the demo in place of a placeholder.
  const served = opts.appSource ? "app-source" : hasPlaceholderSource(stackApp) ? "demo" : null;
  if (opts.appSource && stackApp.kind !== "python") throw new LocalError("--app-source replaces a python app's git source; studyhost:app.kind is not python");
  if (served) {
    // The ref stays the stack's (a tag, branch or commit the local repository must have); a pip app gets HEAD.
    const app: PythonAppKey = { ...stackApp, source: { git: "http://placeholder.invalid/app.git", ref: stackApp.source?.ref ?? "HEAD" } };
    config["studyhost:app"] = JSON.stringify(served === "demo" ? withDemoApp(app, app.source!.git!) : app);
  }
  const study = parseStudyConfig(fromPulumiConfig(config));

  const dir = labDir(lab);
  mkdirSync(dir, { recursive: true });
  if (served === "demo")
    log(`studyhost local: ${stackApp.source!.git} is an example placeholder: serving studyhost's demo study in its place (--app-source DIR serves your own)`);
  log(`studyhost local: preparing the image (the first time builds it: several minutes, each stage shown)`);
  const imageMs = ensureImage({ progress: true });

  // A first render tells which hosts the stack has and the database host's private address.
  const probe = await planProgram({ stack: file.stack, config, secretKeys: file.secretKeys });
  const probed = writeHostFiles(probe, join(dir, "probe")).map((h) => ({ name: h.host, packages: userDataPackages(readFileSync(join(h.dir, "user-data"))) }));
  rmSync(join(dir, "probe"), { recursive: true, force: true });
  // The app host first: Pebble's DNS answers every name with the first host's address.
  const isDb = (name: string) => Number(name.endsWith("-db"));
  // A private network only for a database host of its own: PostgreSQL on the app host is "localhost".
  const dbAddress = probed.some((h) => isDb(h.name)) ? databaseAddressOf(probe.outputs.databaseHost) : null;
  const specs: NetHostSpec[] = [...probed]
    .sort((a, b) => isDb(a.name) - isDb(b.name))
    .map(({ name, packages }) => ({
      name,
      privateAddress: dbAddress ? `${isDb(name) ? dbAddress : appPrivateAddress(dbAddress)}/24` : undefined,
      // Docker routes its containers' traffic through the host, as on a VM.
      forward: packages.includes("docker.io"),
    }));
  const admin = adminAddressOf(study.adminCidrs);
  let gitServerPid: number | null = null;
  try {
    const net = netUp({ lab, acme: true, admin: admin ?? undefined, hosts: specs });
    if (served) {
      const repo = served === "demo" ? demoRepo(join(dir, "demo-app"), stackApp.source?.ref) : opts.appSource!;
      const server = serveGitRepo(repo, net, dir);
      gitServerPid = server.pid;
      const app = JSON.parse(config["studyhost:app"]);
      config["studyhost:app"] = JSON.stringify({ ...app, source: { ...app.source, git: server.url } });
    }
    const tls = JSON.parse(config["studyhost:tls"] ?? "{}");
    config["studyhost:tls"] = JSON.stringify({ ...tls, acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") });
    const plan = await planProgram({ stack: file.stack, config, secretKeys: file.secretKeys });
    writeHostFiles(plan, join(dir, "plan"));
    const caFile = join(dir, "pebble-root.pem");
    copyFileSync(net.acme!.root, caFile);

    const hosts: LocalHost[] = net.hosts.map((h) => ({ name: h.name, dir: join(dir, "hosts", h.name), address: h.address, privateAddress: h.privateAddress }));
    const state: LocalState = {
      stack: file.stack,
      configFile: resolve(opts.configFile),
      lab,
      dir,
      domain: study.domain,
      url: String(plan.outputs.url),
      hosts,
      caFile,
      internetNetns: net.internet.netns,
      adminAddress: admin,
      adminUser: study.adminUser,
      gitServerPid,
      startedAt: new Date().toISOString(),
    };
    writeState(state);

    const t0 = Date.now();
    const booted = [];
    for (const [i, h] of hosts.entries()) {
      log(`studyhost local: booting ${h.name} at ${h.address}`);
      // An AWS host fetches its files from S3 at first boot; with no S3 here it boots the whole document.
      const planned = join(dir, "plan", h.name);
      const userData = existsSync(join(planned, WITH_FILES)) ? join(planned, WITH_FILES) : join(planned, "user-data");
      const prepared = prepareHost({ name: h.name, userData, dir: h.dir });
      booted.push(await boot(prepared, { netnsPath: net.hosts[i].netnsPath }));
    }
    log(`studyhost local: cloud-init provisions ${hosts.map((h) => h.name).join(" and ")} (about a minute; each step as it starts and ends)`);
    const followers = booted.map((b) => followProvisioning(b.host.name, b.host.root, log));
    try {
      await Promise.all(booted.map((b) => waitForBoot(b, 20 * 60_000)));
    } finally {
      for (const f of followers) f.stop();
    }
    const bootToProvisionedMs = Date.now() - t0;
    const problems: Record<string, string[]> = {};
    for (const b of booted) {
      const r = collect(b);
      problems[b.host.name] = [
        ...r.failedUnits.flatMap((u) => [`unit ${u} failed; its journal ends:`, ...lastLines(r.failedJournals[u] ?? "", 10).map((l) => `  | ${l}`)]),
        ...r.provisionFailures.flatMap((f) => [
          `provisioning step ${f.step} failed at: ${f.command}; its output ends:`,
          ...stepOutput(r.provisionLog, f.step, 10).map((l) => `  | ${l}`),
        ]),
        ...(r.provisionFinished ? [] : ["provisioning did not finish (see /var/log/studyhost-provision.log on the host)"]),
      ];
    }
    return { state, problems, timings: { imageMs, bootToProvisionedMs } };
  } catch (err) {
    // Nothing half-made stays behind when the boot itself failed.
    log(`studyhost local: failed, tearing down: ${(err as Error).message.split("\n")[0]}`);
    await stopLocalStack({ lab }).catch(() => {});
    if (gitServerPid) stopServer(gitServerPid);
    throw err;
  }
}

/** Powers every host off, removes its disk and data, the lab's network and Pebble. What it did, line by line. */
export async function stopLocalStack(opts: { lab?: number } = {}): Promise<string[]> {
  const lab = opts.lab ?? DEFAULT_LAB;
  const missing = missingPrerequisites();
  if (missing.length) throw new LocalError(`studyhost local --stop needs ${missing.join(", ")}`);
  const state = readState(lab);
  const done: string[] = [];
  // The hosts this folder's state names, and any other host running in the lab (started from another
  // STUDYHOST_LOCAL_DIR, or left by an interrupted start), found by its systemd-nspawn process.
  const running = labInUse(lab).containers;
  const hostDirs = [...new Set([...(state?.hosts ?? []).map((h) => h.dir), ...running.map((c) => c.dir)])];
  for (const dir of hostDirs) {
    if (!existsSync(join(dir, "host.json"))) continue;
    const host = loadHost(dir);
    const b = attach(host);
    if (b) done.push(`powered off ${host.name} in ${Math.round((await powerOff(b)) / 100) / 10} s`);
    removeHost(host, { data: true });
    done.push(`removed ${host.name}'s disk and data volume`);
  }
  const other = running.map((c) => resolve(c.dir, "../..")).filter((d) => d !== labDir(lab) && existsSync(join(d, "state.json")));
  for (const d of [...new Set([labDir(lab), ...other])]) {
    const s = existsSync(join(d, "state.json")) ? (JSON.parse(readFileSync(join(d, "state.json"), "utf8")) as LocalState) : null;
    if (s?.gitServerPid) stopServer(s.gitServerPid);
  }
  netDown(lab);
  done.push(`removed lab ${lab}'s network and stopped Pebble`);
  for (const d of [...new Set([labDir(lab), ...other])]) {
    if (!existsSync(d)) continue;
    rmSync(d, { recursive: true, force: true });
    done.push(`removed ${d}`);
  }
  return state || running.length ? done : [`no local stack was running in lab ${lab}`, ...done];
}
