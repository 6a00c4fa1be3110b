// The hosts' files are the product: a reorganisation of src/ must not change one byte of them. Every
// file `studyhost plan --out` writes (user data and every installed file, with its mode) for the eight
// example stacks on both clouds and for the host matrix (test/support/stacks/matrix.ts), compared by
// SHA-256 with test/fixtures/rendered-snapshot.json. A deliberate change to what hosts get updates the
// snapshot in the same commit (STUDYHOST_UPDATE_SNAPSHOT=1 npx jest test/rendered-snapshot.test.ts)
// and says why (the commit's message names the files and the reason); `madeAt` is the HEAD it was
// written on, so that commit's tree renders the bytes before the change.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromPulumiConfig } from "../src/config";
import { readStackFile } from "../src/plan/stackFile";
import { onCloud } from "./helpers";
import { removeRendered, renderHosts, RenderedHost, walk } from "./support/render";
import { hostMatrix } from "./support/stacks/matrix";

const ROOT = join(__dirname, "..");
const SNAPSHOT = join(__dirname, "fixtures", "rendered-snapshot.json");

interface Snapshot {
  readonly madeAt: string;
  /** "<label>/<host>:<path>" -> "<mode> <sha256>" */
  readonly files: Record<string, string>;
}

/** The eight example stacks (Pulumi.<name>.yaml), each on both clouds. */
function exampleStacks(): Record<string, Record<string, unknown>> {
  const configs: Record<string, Record<string, unknown>> = {};
  for (const f of readdirSync(ROOT)
    .filter((x) => /^Pulumi\.[a-z-]+\.yaml$/.test(x))
    .sort()) {
    const config = fromPulumiConfig(readStackFile(join(ROOT, f)).config);
    for (const cloud of ["digitalocean", "aws"] as const) configs[`example-${f.replace(/^Pulumi\.|\.yaml$/g, "")}-${cloud}`] = onCloud(config, cloud);
  }
  return configs;
}

function fingerprints(hosts: readonly RenderedHost[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const h of hosts) {
    for (const rel of walk(h.dir)) {
      const full = join(h.dir, rel);
      const mode = (statSync(full).mode & 0o777).toString(8);
      files[`${h.label}:${rel}`] = `${mode} ${createHash("sha256").update(readFileSync(full)).digest("hex")}`;
    }
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

let hosts: RenderedHost[];
beforeAll(async () => {
  hosts = await renderHosts({ ...exampleStacks(), ...hostMatrix() });
}, 120_000);

afterAll(() => removeRendered(hosts));

test("the eight example stacks render on both clouds", () => {
  expect(Object.keys(exampleStacks())).toHaveLength(16);
});

test("every rendered file is byte for byte the snapshot's (user data and installed files, with their modes)", () => {
  const now = fingerprints(hosts);
  if (process.env.STUDYHOST_UPDATE_SNAPSHOT === "1") {
    const madeAt = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    writeFileSync(SNAPSHOT, JSON.stringify({ madeAt, files: now } satisfies Snapshot, null, 1) + "\n");
  }
  const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Snapshot;
  const changed = Object.keys({ ...snapshot.files, ...now }).filter((k) => snapshot.files[k] !== now[k]);
  // The names first (a short list), so a failure says which files moved before any hash.
  expect(changed).toEqual([]);
  expect(Object.keys(now).length).toBeGreaterThan(1000);
});
