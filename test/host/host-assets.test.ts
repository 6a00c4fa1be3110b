// The hosts' scripts and programs as they lie in src/host (the files src/host/document/template.ts
// reads), checked by their own tools before any host is rendered: shellcheck and bash -n (or sh -n)
// for shell, python's compiler for Python, node --check for the MongoDB shell's JavaScript. The same
// files after rendering, in whole hosts: test/host/host-static.test.ts. Needs Debian's shellcheck and
// python3; no root.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const HOST = join(__dirname, "..", "..", "src", "host");
const assets = readdirSync(HOST, { recursive: true, encoding: "utf8" })
  .filter((rel) => !rel.endsWith(".ts") && statSync(join(HOST, rel)).isFile())
  .sort();
const ofKind = (ext: string) => assets.filter((a) => a.endsWith(ext));

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

/** A shell asset's shell: its shebang's, or POSIX sh for a script run as `sh -c` (no shebang). */
function shellOf(asset: string): "bash" | "sh" {
  const first = readFileSync(join(HOST, asset), "utf8").split("\n")[0];
  if (first === "#!/bin/bash") return "bash";
  if (first.startsWith("#!")) throw new Error(`${asset}: unexpected shebang ${first}`);
  return "sh";
}

test("every asset is of a kind this file checks", () => {
  expect(assets.length).toBeGreaterThanOrEqual(11);
  expect(assets.filter((a) => !/\.(sh|py|sql|js|service|timer|part|logrotate)$/.test(a))).toEqual([]);
});

test("every shell script passes shellcheck and its shell's syntax check, as it lies in src/host", () => {
  for (const asset of ofKind(".sh")) {
    const shell = shellOf(asset);
    const file = join(HOST, asset);
    expect([asset, run("shellcheck", ["-s", shell, file])]).toEqual([asset, { status: 0, output: "" }]);
    expect([asset, run(shell === "bash" ? "bash" : "sh", ["-n", file])]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("every bash script starts with studyhost's header: its purpose, and set -Eeuo pipefail", () => {
  for (const asset of ofKind(".sh").filter((a) => shellOf(a) === "bash")) {
    const [, purpose, written, safety] = readFileSync(join(HOST, asset), "utf8").split("\n");
    expect([asset, purpose.startsWith("# "), written, safety]).toEqual([asset, true, "# Written by studyhost; edits are overwritten at the next provisioning.", "set -Eeuo pipefail"]);
  }
});

test("every Python program compiles, and names the distribution's python3", () => {
  for (const asset of ofKind(".py")) {
    const file = join(HOST, asset);
    expect([asset, readFileSync(file, "utf8").split("\n")[0]]).toEqual([asset, "#!/usr/bin/python3"]);
    // compile() rather than py_compile: no __pycache__ written into src/.
    const r = run("python3", ["-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", file]);
    expect([asset, r]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("the MongoDB shell's JavaScript parses", () => {
  for (const asset of ofKind(".js")) {
    expect([asset, run(process.execPath, ["--check", join(HOST, asset)])]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("the SQL is a psql script that stops at its first error (it runs for real in test/host/postgres.test.ts)", () => {
  expect(ofKind(".sql").length).toBeGreaterThan(0);
  for (const asset of ofKind(".sql")) expect([asset, readFileSync(join(HOST, asset), "utf8").split("\n")[0]]).toEqual([asset, "\\set ON_ERROR_STOP on"]);
});
