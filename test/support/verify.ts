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

/**
 * Verify every .service and .timer of `h`, and every unit its drop-ins attach to (or those `which`
 * picks, by file name: "certbot.service" for certbot.service.d/); template units as an instance.
 */
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
  const unitFiles = readdirSync(unitDir).filter((u) => /\.(service|timer|mount)$/.test(u));
  // Drop-ins (postgresql@.service.d/, certbot.service.d/, mariadb.service.d/) change units a package
  // installs; verifying only our own files never loads them. Each such unit is verified too, by name,
  // so systemd loads the package's file (copied above from this machine) with our drop-ins applied.
  const dropInUnits = readdirSync(unitDir)
    .filter((d) => /\.(service|timer)\.d$/.test(d))
    .map((d) => d.slice(0, -".d".length));
  const packageUnit = (unit: string) => join(root, "usr/lib/systemd/system", unit);
  const loaded = [
    ...unitFiles.map((u) => join(unitDir, u)),
    ...dropInUnits.flatMap((u) => [packageUnit(u), ...readdirSync(join(unitDir, `${u}.d`)).map((f) => join(unitDir, `${u}.d`, f))]),
  ].filter((f) => existsSync(f));
  // Commands the units run that the distribution provides (/bin/sh, /sbin/swapoff, pg_ctlcluster):
  // stubbed in the scratch root only if this Debian machine really has them at that path, so a wrong
  // path still fails.
  for (const file of loaded) {
    for (const m of readFileSync(file, "utf8").matchAll(/^Exec\w*=[-@:+!]*(\/\S+)/gm)) {
      if (!existsSync(join(root, m[1])) && existsSync(m[1])) stub(m[1]);
      // And the programs pip installs into an app's venv (gunicorn, camcops_server, ...): nothing here
      // has run pip. Only under /srv/<app>/venv/bin/, so any other missing path still fails.
      if (/^\/srv\/[a-z][a-z0-9_]*\/venv\/bin\/[^/]+$/.test(m[1]) && !existsSync(join(root, m[1]))) stub(m[1]);
    }
  }
  const verify = (unit: string, arg: string) => {
    const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, arg], { encoding: "utf8" });
    return { unit, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
  };
  const instance = (unit: string) => unit.replace(/@\.(service|timer)$/, "@check.$1");
  const verdicts = [
    ...unitFiles.filter(which).map((unit) => verify(unit, `/etc/systemd/system/${instance(unit)}`)),
    // Named as "<unit> with its drop-ins"; a template as an instance (postgresql@check.service).
    ...dropInUnits.filter(which).map((unit) => verify(`${unit} + ${unit}.d/`, instance(unit))),
  ];
  rmSync(root, { recursive: true, force: true });
  return verdicts;
}
