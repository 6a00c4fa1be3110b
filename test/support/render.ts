// Renders hosts exactly as `studyhost plan --out` does (the same plan, the same writer) into a scratch
// folder, for tests that read the files (test/) or check them with the real programs (test/host/).
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeHostFiles, WrittenHost } from "../../src/plan/hostFiles";
import { planOf } from "../helpers";

export interface RenderedHost extends WrittenHost {
  /** Which configuration it came from, for test names. */
  readonly label: string;
  /** The host's files, laid out as on the machine: DIR/files/etc/..., DIR/files/usr/... */
  readonly root: string;
}

export async function renderHosts(configs: Record<string, Record<string, unknown>>): Promise<RenderedHost[]> {
  const out = mkdtempSync(join(tmpdir(), "studyhost-render-"));
  const hosts: RenderedHost[] = [];
  for (const [label, config] of Object.entries(configs)) {
    const plan = await planOf(config, label);
    for (const h of writeHostFiles(plan, join(out, label))) hosts.push({ ...h, label: `${label}/${h.host}`, root: join(h.dir, "files") });
  }
  return hosts;
}

/** Every file under `dir`, as paths relative to it, each starting with "/". */
export function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full, `${prefix}/${name}`) : [`${prefix}/${name}`];
  });
}

/** A rendered file's text, by its path on the host ("etc/...", no leading slash). */
export function readRendered(h: RenderedHost, path: string): string {
  return readFileSync(join(h.root, path), "utf8");
}

/** A rendered file copied out to DIR as NAME, executable, optionally edited (to run it outside a host). */
export function copyOut(h: RenderedHost, path: string, dir: string, name: string, edit: (text: string) => string = (t) => t): string {
  const file = join(dir, name);
  writeFileSync(file, edit(readRendered(h, path)));
  chmodSync(file, 0o755);
  return file;
}

/** Removes what renderHosts wrote for these hosts (its scratch folder): for afterAll, before or after a failed render. */
export function removeRendered(hosts: readonly RenderedHost[] | undefined): void {
  for (const h of hosts ?? []) rmSync(dirname(dirname(h.dir)), { recursive: true, force: true });
}
