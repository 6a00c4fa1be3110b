// `systemd-analyze verify` over a rendered host's units, inside a scratch root: systemd's own units
// copied from this machine, and stand-ins for what the host's packages and deploy step install (docker,
// the app's venv). It exits 0 on typos, so a unit is good only when it prints nothing at all.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { RenderedHost } from "./render";

export interface UnitVerdict {
  readonly unit: string;
  /** What systemd-analyze printed: "" for a good unit. */
  readonly output: string;
}

/** Verify every .service and .timer of `h` (or those `which` picks); template units as an instance. */
export function verifyUnits(h: RenderedHost, which: (unit: string) => boolean = () => true): UnitVerdict[] {
  const root = `${h.dir}-verify-root`;
  rmSync(root, { recursive: true, force: true });
  cpSync(h.root, root, { recursive: true });
  cpSync("/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  const stub = (path: string, content = "#!/bin/sh\n", mode = 0o755) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    chmodSync(join(root, path), mode);
  };
  stub("/usr/bin/docker");
  stub("/usr/lib/systemd/system/docker.service", "[Unit]\nDescription=stand-in for docker.io's unit\n[Service]\nExecStart=/usr/bin/docker\n", 0o644);
  const unitDir = join(root, "etc/systemd/system");
  const unitFiles = readdirSync(unitDir).filter((u) => /\.(service|timer)$/.test(u));
  // Commands the units run that the distribution provides (/bin/sh, /sbin/swapoff): stubbed in the
  // scratch root only if this Debian machine really has them at that path, so a wrong path still fails.
  for (const unit of unitFiles) {
    for (const m of readFileSync(join(unitDir, unit), "utf8").matchAll(/^Exec\w*=[-@:+!]*(\/\S+)/gm)) {
      if (!existsSync(join(root, m[1])) && existsSync(m[1])) stub(m[1]);
      // And the programs pip installs into an app's venv (gunicorn, camcops_server, ...): nothing here
      // has run pip. Only under /srv/<app>/venv/bin/, so any other missing path still fails.
      if (/^\/srv\/[a-z][a-z0-9_]*\/venv\/bin\/[^/]+$/.test(m[1]) && !existsSync(join(root, m[1]))) stub(m[1]);
    }
  }
  const verdicts = unitFiles.filter(which).map((unit) => {
    const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, `/etc/systemd/system/${unit.replace("@.service", "@check.service")}`], { encoding: "utf8" });
    return { unit, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
  });
  rmSync(root, { recursive: true, force: true });
  return verdicts;
}
