// Part of `npm run build`: the files the compiled code reads beside itself, copied next to it in dist/.
// src/local: the lab's shell scripts, its network probes' Python and the demo study (boot.ts and
// demoApp.ts look for them there).
// src/host: every host asset (scripts, SQL, JavaScript, units, nginx files: anything not TypeScript),
// which src/host/document/template.ts reads from the module's own folder.
const { copyFileSync, cpSync, mkdirSync, readdirSync } = require("node:fs");
const { join, relative } = require("node:path");

const src = join(__dirname, "..", "src");
const dist = join(__dirname, "..", "dist", "src");

const local = join(src, "local");
for (const script of ["net.sh", "rootfs.sh", "cgroup.sh", "tcp-probe.py", "tcp-probe-many.py"]) copyFileSync(join(local, script), join(dist, "local", script));
// The demo keeps its symbolic link (app/static -> ../static) as one.
cpSync(join(local, "demo-app"), join(dist, "local", "demo-app"), { recursive: true, verbatimSymlinks: true });

for (const entry of readdirSync(join(src, "host"), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith(".ts")) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(dist, relative(src, from));
  mkdirSync(join(to, ".."), { recursive: true });
  copyFileSync(from, to);
}
