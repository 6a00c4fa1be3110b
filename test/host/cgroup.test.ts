// src/local/cgroup.sh on this machine's real cgroups (root): a command it runs is in a cgroup of its
// own in every hierarchy the machine mounts, under the caller's own cgroup there; `remove` takes them
// all away once the command has ended, and refuses, naming it, while a process is still inside.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(__dirname, "../../src/local/cgroup.sh");
const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? test : test.skip;

/** This process's cgroup in each hierarchy: "cpu" -> "/", "name=systemd" -> "/", "" (unified) -> "/". */
function ownCgroups(pid: number | "self"): Map<string, string> {
  return new Map(
    readFileSync(`/proc/${pid}/cgroup`, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [, controllers, path] = l.split(":");
        return [controllers, path];
      }),
  );
}

rootOnly("the command runs in NAME under the caller's cgroup in every hierarchy; remove takes the folders away", () => {
  const record = join(mkdtempSync(join(tmpdir(), "studyhost-cgroup-")), "cgroups");
  const name = `studyhost-test-${process.pid}`;
  const r = spawnSync(SCRIPT, ["exec", name, record, "--", "cat", "/proc/self/cgroup"], { encoding: "utf8" });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  const mine = ownCgroups("self");
  const inside = new Map(
    r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.split(":")[1], l.split(":")[2]]),
  );
  expect([...inside.keys()].sort()).toEqual([...mine.keys()].sort());
  for (const [h, path] of inside) expect([h, path]).toEqual([h, `${mine.get(h)!.replace(/\/$/, "")}/${name}`]);
  const dirs = readFileSync(record, "utf8").split("\n").filter(Boolean);
  expect(dirs).toHaveLength(inside.size);
  expect(dirs.every((d) => d.endsWith(`/${name}`) && existsSync(d))).toBe(true);

  const removed = spawnSync(SCRIPT, ["remove", record], { encoding: "utf8" });
  expect([removed.status, removed.stderr]).toEqual([0, ""]);
  expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  expect(existsSync(record)).toBe(false);
});

rootOnly("remove refuses while a process is still inside, naming the cgroup, and succeeds once it has ended", async () => {
  const record = join(mkdtempSync(join(tmpdir(), "studyhost-cgroup-")), "cgroups");
  const name = `studyhost-busy-${process.pid}`;
  const child = spawn(SCRIPT, ["exec", name, record, "--", "sleep", "60"], { stdio: "ignore" });
  const deadline = Date.now() + 5_000;
  while (!existsSync(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const busy = spawnSync(SCRIPT, ["remove", record], { encoding: "utf8" });
  expect(busy.status).toBe(1);
  expect(busy.stderr).toMatch(new RegExp(`^cgroup\\.sh: still holds processes: \\S+/${name}: ${child.pid} $`, "m"));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const done = spawnSync(SCRIPT, ["remove", record], { encoding: "utf8" });
  expect([done.status, done.stderr]).toEqual([0, ""]);
});

test("a bad name or usage is refused before anything is made", () => {
  const bad = spawnSync(SCRIPT, ["exec", "../escape", "/tmp/x", "--", "true"], { encoding: "utf8" });
  expect([bad.status, bad.stderr.trim()]).toEqual([1, "cgroup.sh: bad cgroup name ../escape"]);
  expect(spawnSync(SCRIPT, ["exec", "n", "/tmp/x", "true"], { encoding: "utf8" }).status).toBe(1);
});

test("the lab's shell scripts (src/local, the stand-ins' builders, CI) pass shellcheck", () => {
  const repo = join(__dirname, "../..");
  // The hosts' scripts (src/host) are checked by test/host/host-assets.test.ts, each with its shell.
  const scripts = spawnSync("git", ["ls-files", "*.sh", ".ci/run", ":!src/host/"], { cwd: repo, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  expect(scripts).toEqual(expect.arrayContaining(["src/local/cgroup.sh", "src/local/net.sh", "src/local/rootfs.sh", ".ci/run"]));
  const r = spawnSync("shellcheck", scripts, { cwd: repo, encoding: "utf8" });
  expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
});
