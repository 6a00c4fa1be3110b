// Renders hosts exactly as `studyhost plan --out` does (the same plan, the same writer) into a scratch
// folder, for tests that read the files (test/) or check them with the real programs (test/host/).
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHostFiles, WrittenHost } from "../../src/cli/hostFiles";
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
