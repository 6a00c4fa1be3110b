// The two-server stack booted for real (issue 4): the app host and the PostgreSQL host, each from
// exactly the user data `studyhost plan --out` renders, joined by a private network that neither the
// internet namespace nor the machine can reach. The stand-in app (test/e2e/app/app.py) writes to
// PostgreSQL on the database host through the distribution's psycopg2, over TLS.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/two-server.e2e.ts
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { boot, BootedHost, collect, exec, missingPrerequisites, ensureImage, Net, netDown, netUp, powerOff, prepareHost, PreparedHost, removeHost, tcpProbe, waitForBoot } from "../../src/local/boot";
import { ServedRepo, stopServer } from "../../src/local/gitServe";
import { ADMIN, appAnswers, DOMAIN, https, PLACEHOLDER_KEY, recordFigures, renderStack, serveApp, standInApp } from "./lab";

const LAB = 2;
jest.setTimeout(30 * 60_000);

let work: string;
let net: Net;
const hosts: Record<string, PreparedHost> = {};
const booted: Record<string, BootedHost> = {};
let gitServer: ServedRepo | undefined;
let appAddress: string;
let dbPrivate: string;
const figures: Record<string, number> = {};

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-two-server-");
  ensureImage();

  // The plan decides the database host's private address (it is in the app's DATABASE_URL, and the
  // mock engine derives it from the host's name): read it from a first render, then build the lab's
  // private network with it, then render the stack for real with the lab's ACME server.
  const stack = (app: object, tls: object) => ({
    cloud: "digitalocean",
    tier: "two-server",
    domain: DOMAIN,
    adminEmail: "research-it@example.org",
    adminCidrs: [`${ADMIN}/32`],
    sshKeys: [PLACEHOLDER_KEY],
    app,
    tls,
  });
  const probe = renderStack(join(work, "probe"), "e2e-two-server", stack(standInApp("http://git.invalid/app.git"), {}));
  dbPrivate = String(probe.plan.outputs.databaseHost);
  net = netUp({ lab: LAB, acme: true, admin: ADMIN, hosts: [{ name: "study-app", privateAddress: "10.116.0.2/20" }, { name: "study-db", privateAddress: `${dbPrivate}/20` }] });
  const served = serveApp(work, net);
  gitServer = served;
  const rendered = renderStack(work, "e2e-two-server", stack(standInApp(served.url), { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") }));
  expect(String(rendered.plan.outputs.databaseHost)).toBe(dbPrivate);
  appAddress = net.hosts[0].address;

  const t0 = Date.now();
  for (const [i, name] of ["study-app", "study-db"].entries()) {
    hosts[name] = prepareHost({ name, userData: join(rendered.outDir, name, "user-data"), dir: join(work, name) });
    booted[name] = await boot(hosts[name], { netnsPath: net.hosts[i].netnsPath });
  }
  await Promise.all(Object.values(booted).map((b) => waitForBoot(b, 20 * 60_000)));
  figures.bothProvisionedMs = Date.now() - t0;
});

afterAll(async () => {
  for (const b of Object.values(booted)) await powerOff(b);
  for (const h of Object.values(hosts)) removeHost(h, { data: true });
  if (gitServer) stopServer(gitServer.pid);
  if (net) netDown(LAB);
  console.log(`two-server stack end to end: ${JSON.stringify(figures)} (work folder ${work})`);
  recordFigures("e2e-two-server", figures);
});

test("both hosts: cloud-init finished, every provisioning step passed, no unit failed", () => {
  for (const name of ["study-app", "study-db"]) {
    const r = collect(booted[name]);
    expect({ name, failed: r.failedUnits, steps: r.provisionFailures, finished: r.provisionFinished, state: r.systemState }).toEqual({ name, failed: [], steps: [], finished: true, state: "running" });
  }
});

test("https answers from the app; a write then a read reaches PostgreSQL on the database host", () => {
  expect(https(net, appAddress, "/").stdout).toBe("studyhost e2e app: ok\n");
  expect(https(net, appAddress, "/write?body=across%20the%20network").stdout).toBe("written\n");
  expect(JSON.parse(https(net, appAddress, "/read").stdout)).toEqual(["across the network"]);
  const rows = exec(booted["study-db"], ["runuser", "-u", "postgres", "--", "psql", "-At", "-d", "study", "-c", "SELECT body FROM notes"]);
  expect(rows.stdout.trim()).toBe("across the network");
});

test("the database port answers the app host over the private network, and not the internet", () => {
  const fromApp = exec(booted["study-app"], ["pg_isready", "--host", dbPrivate, "--port", "5432"]);
  expect(fromApp.status).toBe(0);
  const dbPublic = net.hosts[1].address;
  expect(tcpProbe(net.internet.netns, dbPublic, 5432)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, dbPublic, 80)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, dbPublic, 22, ADMIN)).toMatch(/^open SSH-2\.0-OpenSSH/);
});

test("restart PostgreSQL: the app recovers with no one touching it", async () => {
  expect(exec(booted["study-db"], ["systemctl", "restart", "postgresql.service"]).status).toBe(0);
  const t0 = Date.now();
  let rows: unknown = null;
  while (Date.now() - t0 < 30_000) {
    const r = https(net, appAddress, "/read");
    try {
      rows = JSON.parse(r.stdout);
      break;
    } catch {
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  figures.appAfterDatabaseRestartMs = Date.now() - t0;
  expect(rows).toEqual(["across the network"]);
  await appAnswers(net, appAddress, 5_000);
});
