// A git repository on this machine, served to the lab's hosts over git's "dumb" HTTP protocol from
// the internet namespace: how a locally booted host fetches an app that lives only in a working copy
// (and how the end-to-end tests give the hosts their stand-in app without reaching the internet).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Net } from "./boot";

export interface ServedRepo {
  /** The URL the hosts clone from. */
  readonly url: string;
  /** The HTTP server's process (group leader): kill -- -PID stops it. */
  readonly pid: number;
}

const GIT_PORT = 8080;

function git(args: readonly string[], cwd: string): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} (in ${cwd}): ${r.stderr.trim() || r.error?.message}`);
  return r.stdout;
}

/**
 * Serves a bare clone of REPO (every branch and tag, as committed: uncommitted changes are not
 * served) at http://<internet gateway>:8080/app.git (or the NAME and PORT given: one server per
 * repository, each in a work folder of its own). The server outlives this process; `stopServer` ends it.
 */
export function serveGitRepo(repo: string, net: Net, workDir: string, opts: { name?: string; port?: number } = {}): ServedRepo {
  const name = opts.name ?? "app";
  const port = opts.port ?? GIT_PORT;
  const source = resolve(repo);
  if (spawnSync("git", ["rev-parse", "--git-dir"], { cwd: source }).status !== 0)
    throw new Error(`${source} is not a git repository (git init, then commit the app)`);
  const served = join(resolve(workDir), "git");
  rmSync(served, { recursive: true, force: true });
  mkdirSync(served, { recursive: true });
  const bare = join(served, `${name}.git`);
  git(["clone", "--quiet", "--bare", "--no-local", source, bare], served);
  // Dumb HTTP needs the refs listed in files, which update-server-info writes.
  git(["update-server-info"], bare);
  const server = spawn(
    "ip",
    ["netns", "exec", net.internet.netns, "python3", "-m", "http.server", "--bind", net.internet.address, String(port), "--directory", served],
    {
      stdio: "ignore",
      detached: true,
    },
  );
  server.unref();
  if (!server.pid) throw new Error("could not start the git HTTP server");
  return { url: `http://${net.internet.address}:${port}/${name}.git`, pid: server.pid };
}

export function stopServer(pid: number): void {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    // already gone
  }
}
