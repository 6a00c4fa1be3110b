// The small stack booted for real (issue 4): its one host from exactly the user data
// `studyhost plan --out` renders, under systemd in a container, a certificate from Pebble, then checked
// from the "internet" namespace and hurt on purpose.
//
// The stack is the small tier with a stand-in app (test/e2e/app/app.py: WSGI under the distribution's
// gunicorn, SQLite through DATABASE_URL), fetched with git from a server in the internet namespace:
// PyPI cannot be reached here. Everything else is what a user's small stack renders.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/small.e2e.ts
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  boot,
  BootedHost,
  collect,
  exec,
  Net,
  netDown,
  netUp,
  powerOff,
  prepareHost,
  PreparedHost,
  removeHost,
  tcpProbe,
  waitForBoot,
  missingPrerequisites,
  ensureImage,
} from "../../src/local/boot";
import { ServedRepo, stopServer } from "../../src/local/gitServe";
import {
  ADMIN,
  appAnswers as appAnswersOf,
  DOMAIN,
  fromInternet as fromInternetOf,
  https as httpsOf,
  PLACEHOLDER_KEY,
  provisioning,
  PROVISIONED_CLEANLY,
  reachablePorts,
  recordFigures,
  renderStack,
  serveApp,
  sshWithPassword,
  standInApp,
} from "./lab";

const LAB = 1;

jest.setTimeout(25 * 60_000);

let work: string;
let net: Net;
let host: PreparedHost;
let booted: BootedHost | undefined;
let gitServer: ServedRepo | undefined;
const timings: Record<string, number> = {};
let bootStartedAt = 0;

const fromInternet = (cmd: string[]) => fromInternetOf(net, cmd);
const https = (path: string, extra: string[] = []) => httpsOf(net, net.hosts[0].address, path, extra);
const appAnswers = (ms: number) => appAnswersOf(net, net.hosts[0].address, ms);

function inside(cmd: string) {
  return exec(booted!, ["bash", "-c", cmd], { timeoutMs: 120_000 });
}

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-small-");
  timings.imageMs = ensureImage();

  net = netUp({ lab: LAB, acme: true, admin: ADMIN, hosts: [{ name: "study-app" }] });
  const served = serveApp(work, net);
  gitServer = served;
  const { outDir } = renderStack(work, "e2e-small", {
    cloud: "digitalocean",
    tier: "small",
    domain: DOMAIN,
    adminEmail: "research-it@example.org",
    adminCidrs: [`${ADMIN}/32`],
    sshKeys: [PLACEHOLDER_KEY],
    database: { engine: "sqlite" },
    app: standInApp(served.url),
    tls: { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") },
  });

  host = prepareHost({ name: "study-app", userData: join(outDir, "study-app", "user-data"), dir: join(work, "study-app") });
  const t1 = Date.now();
  bootStartedAt = t1;
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  await waitForBoot(booted);
  timings.bootToProvisionedMs = Date.now() - t1;
});

afterAll(async () => {
  if (booted) await powerOff(booted);
  if (host) removeHost(host, { data: true });
  if (gitServer) stopServer(gitServer.pid);
  if (net) netDown(LAB);
  console.log(`small stack end to end: ${JSON.stringify(timings)} (work folder ${work})`);
  // Figures, not assertions: boot to a provisioned host answering over https, and the faults' recovery.
  recordFigures("e2e-small", timings);
});

test("cloud-init finished, every provisioning step passed, no unit failed", () => {
  expect(provisioning(collect(booted!))).toEqual(PROVISIONED_CLEANLY);
});

test("https answers from the app through nginx, with a chain Pebble's root verifies; http redirects", () => {
  timings.bootToHttpsMs = Date.now() - bootStartedAt;
  const page = https("/");
  expect([page.status, page.stdout]).toEqual([0, "studyhost e2e app: ok\n"]);
  const redirect = fromInternet([
    "curl",
    "-sS",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code} %{redirect_url}",
    "--resolve",
    `${DOMAIN}:80:${net.hosts[0].address}`,
    `http://${DOMAIN}/x?y=1`,
  ]);
  expect(redirect.stdout).toBe(`308 https://${DOMAIN}/x?y=1`);
});

test("a write then a read through the app reaches the database on the data volume", () => {
  expect(https("/write?body=first%20participant").stdout).toBe("written\n");
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
  expect(readFileSync(join(host.data, "study", "study.sqlite3")).length).toBeGreaterThan(0);
});

test("from the internet only 80 and 443 are open; 22 only from the admin address, and it refuses passwords", () => {
  const ports = reachablePorts(net, booted!, net.hosts[0].address);
  // What listens: sshd, nginx, and the app on its local port (nothing else was expected to).
  expect(ports.listening).toEqual(expect.arrayContaining([22, 80, 443, 8000]));
  expect(ports.fromInternet).toEqual([80, 443]);
  expect(ports.fromAdmin).toEqual([22, 80, 443]);
  expect(tcpProbe(net.internet.netns, net.hosts[0].address, 22, ADMIN)).toMatch(/^open SSH-2\.0-OpenSSH/);
  const ssh = sshWithPassword(net, net.hosts[0].address);
  expect(ssh.status).not.toBe(0);
  expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
});

test("kill the app's main process: it serves again within 15 s", async () => {
  const pid = inside("systemctl show -p MainPID --value study.service").stdout.trim();
  expect(inside(`kill -9 ${pid}`).status).toBe(0);
  timings.appRecoveredMs = await appAnswers(15_000);
  expect(inside("systemctl show -p MainPID --value study.service").stdout.trim()).not.toBe(pid);
});

test("backup, delete the row, restore: the row is back", async () => {
  expect(inside("systemctl start studyhost-backup.service").status).toBe(0);
  expect(inside("sqlite3 /var/lib/studyhost/study/study.sqlite3 'DELETE FROM notes'").status).toBe(0);
  expect(JSON.parse(https("/read").stdout)).toEqual([]);
  const restore = inside("studyhost-restore --yes");
  expect([restore.status, restore.stderr]).toEqual([0, ""]);
  await appAnswers(15_000); // the restore stopped and started the app
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
});

test("certbot renew --dry-run against Pebble succeeds and reloads nginx", () => {
  const before = inside(
    "systemctl show -p ExecMainStartTimestampMonotonic --value nginx.service; journalctl -u nginx.service --no-pager | grep -c Reload || true",
  ).stdout;
  const renew = inside(`REQUESTS_CA_BUNDLE=/etc/studyhost/acme-ca.pem certbot renew --dry-run --no-random-sleep-on-renew --server ${net.acme!.directory}`);
  expect(renew.status).toBe(0);
  expect(renew.stdout + renew.stderr).toMatch(/Congratulations, all simulated renewals succeeded/);
  const after = inside("journalctl -u nginx.service --no-pager | grep -c Reload || true").stdout;
  expect(Number(after.trim().split("\n").pop())).toBeGreaterThan(Number(before.trim().split("\n").pop()));
  expect(https("/").status).toBe(0);
});

test("power off, boot the same root again: everything comes back, the data intact, the volume not reformatted", async () => {
  const marker = inside("stat -c %W /var/lib/studyhost/study/study.sqlite3").stdout.trim();
  await powerOff(booted!);
  const t0 = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  const second = await waitForBoot(booted);
  timings.rebootMs = Date.now() - t0;
  expect(second.systemState).toBe("running");
  expect(collect(booted).failedUnits).toEqual([]);
  expect(inside("stat -c %W /var/lib/studyhost/study/study.sqlite3").stdout.trim()).toBe(marker);
  timings.rebootToAppMs = timings.rebootMs + (await appAnswers(60_000));
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
});
