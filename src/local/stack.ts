// `studyhost local`: a stack's hosts booted on this machine from exactly the user data `studyhost plan`
// renders, with Pebble standing in for Let's Encrypt, left running until `studyhost local --stop`.
// The same harness the end-to-end tests use (boot.ts, net.sh, rootfs.sh); Linux and root only.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { WITH_FILES, writeHostFiles } from "../cli/hostFiles";
import { fromPulumiConfig, parseStudyConfig } from "../config";
import { parseCidr } from "../config/validators";
import { planProgram, readStackFile } from "../plan";
import { attach, boot, collect, ensureImage, loadHost, missingPrerequisites, netDown, userDataPackages, netUp, NetHostSpec, powerOff, prepareHost, removeHost, waitForBoot } from "./boot";
import { serveGitRepo, stopServer } from "./gitServe";

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
  const running = readState(lab);
  if (running) {
    const alive = running.hosts.some((h) => existsSync(join(h.dir, "host.json")) && attach(loadHost(h.dir)));
    const stop = `\`studyhost local --stop${lab === DEFAULT_LAB ? "" : ` --lab ${lab}`}\``;
    throw new LocalError(
      alive
        ? `a local stack (${running.stack}) is already running in lab ${lab}: stop it with ${stop}`
        : `a stopped local stack (${running.stack}) left its files in ${running.dir}: remove them with ${stop}`,
    );
  }

  // Every mistake in the stack file is reported before anything starts.
  const file = readStackFile(opts.configFile);
  const config = { ...file.config };
  if (opts.appSource) {
    const app = JSON.parse(config["studyhost:app"] ?? "{}") as { kind?: string; source?: { git?: string; ref?: string } };
    if (app.kind !== "python") throw new LocalError("--app-source replaces a python app's git source; studyhost:app.kind is not python");
    // The ref stays the stack's (a tag, branch or commit the local repository must have); a pip app gets HEAD.
    app.source = { git: "http://placeholder.invalid/app.git", ref: app.source?.ref ?? "HEAD" };
    config["studyhost:app"] = JSON.stringify(app);
  }
  const study = parseStudyConfig(fromPulumiConfig(config));

  const dir = labDir(lab);
  mkdirSync(dir, { recursive: true });
  log(`studyhost local: preparing the image (the first time builds it: several minutes)`);
  const imageMs = ensureImage();

  // A first render tells which hosts the stack has and the database host's private address.
  const probe = await planProgram({ stack: file.stack, config, secretKeys: file.secretKeys });
  const probed = writeHostFiles(probe, join(dir, "probe")).map((h) => ({ name: h.host, packages: userDataPackages(readFileSync(join(h.dir, "user-data"))) }));
  rmSync(join(dir, "probe"), { recursive: true, force: true });
  const dbAddress = probe.outputs.databaseHost === undefined ? null : String(probe.outputs.databaseHost);
  // The app host first: Pebble's DNS answers every name with the first host's address.
  const isDb = (name: string) => Number(name.endsWith("-db"));
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
    if (opts.appSource) {
      const served = serveGitRepo(opts.appSource, net, dir);
      gitServerPid = served.pid;
      const app = JSON.parse(config["studyhost:app"]);
      config["studyhost:app"] = JSON.stringify({ ...app, source: { ...app.source, git: served.url } });
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
    log(`studyhost local: waiting for cloud-init to provision ${hosts.map((h) => h.name).join(" and ")}`);
    await Promise.all(booted.map((b) => waitForBoot(b, 20 * 60_000)));
    const bootToProvisionedMs = Date.now() - t0;
    const problems: Record<string, string[]> = {};
    for (const b of booted) {
      const r = collect(b);
      problems[b.host.name] = [
        ...r.failedUnits.map((u) => `unit ${u} failed`),
        ...r.provisionFailures.map((f) => `provisioning step ${f.step} failed at: ${f.command}`),
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
  for (const h of state?.hosts ?? []) {
    if (!existsSync(join(h.dir, "host.json"))) continue;
    const host = loadHost(h.dir);
    const b = attach(host);
    if (b) done.push(`powered off ${h.name} in ${Math.round((await powerOff(b)) / 100) / 10} s`);
    removeHost(host, { data: true });
    done.push(`removed ${h.name}'s disk and data volume`);
  }
  if (state?.gitServerPid) stopServer(state.gitServerPid);
  netDown(lab);
  done.push(`removed lab ${lab}'s network and stopped Pebble`);
  if (existsSync(labDir(lab))) {
    rmSync(labDir(lab), { recursive: true, force: true });
    done.push(`removed ${labDir(lab)}`);
  }
  return state ? done : [`no local stack was running in lab ${lab}`, ...done];
}
