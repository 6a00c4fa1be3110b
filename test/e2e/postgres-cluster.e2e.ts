// The rendered studyhost-postgres-cluster script against a cluster the package made on the boot disk
// (as Debian's postinst does when studyhost's createcluster setting is not yet in place): dropped while
// it holds nothing, and the study's cluster made on the data volume; left alone, with provisioning
// stopped, when something was written to it. Run for real with Debian's PostgreSQL in a root made from
// the test image (not booted: seconds), the data volume a bind mount.
//
// STAND-IN: systemd is not running in that root, so a `systemctl` placed first in PATH does what the
// script asks of it with postgresql-common's own pg_ctlcluster (restart) or nothing (enable).
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/postgres-cluster.e2e.ts
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureImage, missingPrerequisites, prepareHost, PreparedHost, removeHost, runInRoot } from "../../src/local/boot";
import { renderHosts, RenderedHost } from "../support/render";
import { studyConfig } from "../helpers";

jest.setTimeout(10 * 60_000);

const SYSTEMCTL_STANDIN = `#!/bin/sh
# STAND-IN for systemctl in a root that was not booted (test/e2e/postgres-cluster.e2e.ts).
case "$1 $2" in
  "restart postgresql@"*) v=\${2#postgresql@}; v=\${v%-main.service}; exec pg_ctlcluster "$v" main restart ;;
  *) exit 0 ;;
esac
`;

let work: string;
let rendered: RenderedHost;
const roots: PreparedHost[] = [];

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-postgres-cluster-");
  ensureImage();
  rendered = (await renderHosts({ large: studyConfig("digitalocean", "large") })).find((h) => h.host === "study-app")!;
});

afterAll(() => {
  for (const r of roots) removeHost(r, { data: true });
});

/** A fresh root with the host's rendered files in place (what write_files does), then `commands` run in it. */
function inFreshRoot(name: string, commands: string) {
  const root = prepareHost({ name, userData: join(rendered.dir, "user-data"), dir: join(work, name), mode: "overlay" });
  roots.push(root);
  cpSync(rendered.root, root.root, { recursive: true });
  writeFileSync(join(root.root, "usr/local/sbin/systemctl"), SYSTEMCTL_STANDIN, { mode: 0o755 });
  mkdirSync(root.data, { recursive: true });
  const r = runInRoot(root, [`--bind=${root.data}:/var/lib/studyhost`, "bash", "-c", commands], { timeoutMs: 240_000 });
  return { ...r, root };
}

/** The package's cluster, on the boot disk, running; then the rendered script; then what there is. */
const scenario = (writeSomething: boolean) => `
set -u
pg_createcluster 15 main --start >/dev/null
${writeSomething ? `runuser -u postgres -- psql -Xqc "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept');"` : ""}
/usr/local/sbin/studyhost-postgres-cluster; echo "script exit $?"
echo "clusters: $(pg_lsclusters -h | awk '{print $1 "/" $2 " " $6}')"
runuser -u postgres -- psql -XAtc "SELECT datname FROM pg_database WHERE datname NOT LIKE 'template%' ORDER BY 1" | tr '\\n' ' '; echo
pg_ctlcluster 15 main stop 2>/dev/null || true
`;

test("an empty cluster the package made on the boot disk is dropped, and the study's is made on the data volume", () => {
  const r = inFreshRoot("empty-stray", scenario(false));
  expect(r.stdout).toContain("dropping the empty cluster in /var/lib/postgresql/15/main (off the data volume)");
  expect(r.stdout).toContain("script exit 0");
  expect(r.stdout).toContain("clusters: 15/main /var/lib/studyhost/postgresql/15/main");
  expect(r.stdout).toMatch(/^postgres study $/m);
});

test("a cluster off the data volume that holds data is left alone and provisioning stops, saying so", () => {
  const r = inFreshRoot("used-stray", scenario(true));
  expect(r.stderr).toContain(
    "a PostgreSQL cluster in /var/lib/postgresql/15/main, off the data volume, holds data (0 databases, 1 tables in postgres): move it to /var/lib/studyhost/postgresql/15/main by hand; not touching it",
  );
  expect(r.stdout).toContain("script exit 1");
  expect(r.stdout).toContain("clusters: 15/main /var/lib/postgresql/15/main");
  expect(r.stdout).toMatch(/^postgres $/m);
});
