// Part of `npm run build`: the files src/local runs beside its compiled code (the lab's shell scripts
// and the demo study) copied next to it in dist/src/local, where boot.ts and demoApp.ts look for them.
const { copyFileSync, cpSync } = require("node:fs");
const { join } = require("node:path");

const from = join(__dirname, "..", "src", "local");
const to = join(__dirname, "..", "dist", "src", "local");
for (const script of ["net.sh", "rootfs.sh", "cgroup.sh"]) copyFileSync(join(from, script), join(to, script));
// The demo keeps its symbolic link (app/static -> ../static) as one.
cpSync(join(from, "demo-app"), join(to, "demo-app"), { recursive: true, verbatimSymlinks: true });
