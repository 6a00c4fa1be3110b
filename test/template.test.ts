// src/host/document/template.ts: the host assets are read from the module's folder, and a placeholder
// can neither be left in a host's file nor be dropped silently.
import { fill, fillAsset, hostAsset } from "../src/host/document/template";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_ADDRESS_SH } from "../src/host/document/shell";

const JOBS = join(__dirname, "..", "src", "host", "apps");

test("fill replaces every @@NAME@@, as often as it appears, and nothing else", () => {
  expect(fill("a=@@A@@ b=@@B@@ again=@@A@@ not=@@lower@@ @ @@ {{A}}", { A: "1", B: "'two words'" }, "t")).toBe(
    "a=1 b='two words' again=1 not=@@lower@@ @ @@ {{A}}",
  );
});

test("fill refuses a placeholder it has no value for, and a value no placeholder uses, naming the template", () => {
  expect(() => fill("x=@@X@@ y=@@Y@@", { X: "1" }, "unit.service")).toThrow("unit.service: no value for placeholder(s) @@Y@@");
  expect(() => fill("x=@@X@@", { X: "1", Z: "2" }, "unit.service")).toThrow("unit.service: value(s) for Z, which the template never uses");
});

test("a value is inserted as it is: a $ or @@ in it is not read again", () => {
  expect(fill("@@A@@ @@B@@", { A: "$& @@B@@", B: "b" }, "t")).toBe("$& @@B@@ b");
});

test("hostAsset reads the file beside the module; fillAsset fills it", () => {
  expect(hostAsset(JOBS, "run-job.sh")).toMatch(/^#!\/bin\/bash\n/);
  expect(() => fillAsset(JOBS, "run-job.sh", { UNUSED: "x" })).toThrow("run-job.sh: value(s) for UNUSED");
  expect(() => hostAsset(JOBS, "no-such-asset.sh")).toThrow(/ENOENT/);
});

test("the lines that find the host's private address are the same in every asset that carries them", () => {
  // Copied rather than filled in (shellcheck must see $private assigned where the script uses it):
  // PRIVATE_ADDRESS_SH is their one reference, and each copy must match it exactly.
  const carriers = [
    join(__dirname, "..", "src", "host", "databases", "mariadb-datadir.sh"),
    join(__dirname, "..", "src", "host", "databases", "studyhost-postgres-cluster.sh"),
  ];
  for (const file of carriers) expect([file, readFileSync(file, "utf8").includes(PRIVATE_ADDRESS_SH)]).toEqual([file, true]);
});
