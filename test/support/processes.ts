// Real daemons for tests: each runs in its own process group with its output in a log file, so a
// test can stop it with everything it forked (nginx's workers, gunicorn's) and show its log when
// something goes wrong.
import { spawn, spawnSync, ChildProcess, SpawnSyncReturns } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";

interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

// Jest hands test code a copy of `process` whose exit and signal listeners never fire, so the last
// line of defence is outside Node: a watchdog shell that kills the daemons' groups once the test
// process is gone, however it went (an interrupt, a crash, SIGKILL).
const WATCHDOG = `while kill -0 "$1" 2>/dev/null; do sleep 1; done
while read -r group; do kill -KILL "-$group" 2>/dev/null; done < "$2"`; // dash: no "--" before -group

/** The daemons one test file started; stopAll() ends them, and so does the watchdog if the test process dies first. */
export class Daemons {
  private readonly running: Daemon[] = [];
  private readonly groupsFile: string;
  private readonly watchdog: ChildProcess;

  constructor(private readonly logDir: string) {
    this.groupsFile = join(logDir, "process-groups");
    writeFileSync(this.groupsFile, "");
    this.watchdog = spawn("sh", ["-c", WATCHDOG, "studyhost-test-watchdog", String(process.pid), this.groupsFile], { detached: true, stdio: "ignore" });
  }

  private saveGroups(): void {
    writeFileSync(this.groupsFile, this.running.map((d) => `${d.child.pid}\n`).join(""));
  }

  start(name: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    const log = join(this.logDir, `${name}.log`);
    const fd = openSync(log, "a");
    try {
      // detached: a new process group (and session) whose id is the child's pid.
      const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env: options.env ?? process.env, cwd: options.cwd });
      this.running.push({ name, child, log });
      this.saveGroups();
      return child;
    } finally {
      closeSync(fd);
    }
  }

  /** The log of a daemon, to put in an assertion's message. */
  log(name: string): string {
    const d = this.running.find((x) => x.name === name);
    return d && existsSync(d.log) ? readFileSync(d.log, "utf8") : `(no log for ${name})`;
  }

  /** Throws with the daemon's log if it has already exited (it failed to start). */
  assertAlive(name: string): void {
    const d = this.running.find((x) => x.name === name);
    if (!d || d.child.exitCode !== null || d.child.signalCode !== null) {
      throw new Error(`${name} is not running (exit ${d?.child.exitCode ?? "?"}):\n${this.log(name)}`);
    }
  }

  /** Stops one daemon's group (SIGTERM, then SIGKILL if it has not gone after a few seconds). */
  async stop(name: string): Promise<void> {
    const i = this.running.findIndex((d) => d.name === name);
    if (i < 0) return;
    const [d] = this.running.splice(i, 1);
    await stopGroup(d.child);
    this.saveGroups();
  }

  /** Stops every group, newest first. */
  async stopAll(): Promise<void> {
    for (const d of [...this.running].reverse()) await stopGroup(d.child);
    this.running.length = 0;
    this.saveGroups();
    await stopGroup(this.watchdog);
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  signalGroup(child, "SIGTERM");
  if (!(await until(() => !groupExists(child), 5000))) signalGroup(child, "SIGKILL");
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function groupExists(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls check() until it is true or timeoutMs passes; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

/** Like until(), but throws `what` (with detail()) on timeout. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string = () => ""): Promise<void> {
  if (!(await until(check, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
}

/** A port nothing listens on right now (the kernel picks it; there is a small race, fine on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves if host:port can be bound now, rejects with a clear message if not. */
export function assertCanBind(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${host}:${port} (${e.code}): the test runs nginx on the rendered ports 80 and 443 and needs them free`)),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Whether something accepts TCP connections on host:port. */
export function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => (socket.destroy(), resolve(false)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.connect(port, host);
  });
}

/** Runs a program to completion; never throws on a non-zero exit (the test asserts on it). */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", env: options.env ?? process.env, input: options.input, timeout: options.timeoutMs ?? 60_000 });
}

/** Runs a program and throws with its output unless it exits 0. */
export function runOk(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): string {
  const r = run(command, args, options);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error}` : ""}`);
  return r.stdout;
}

/** A command run to completion for assertions: its exit status, stdout and stderr, and both together (trimmed). */
export function runCaptured(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}) {
  const r = spawnSync(command, args, { encoding: "utf8", ...options });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}
