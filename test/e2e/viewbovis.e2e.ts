// The viewbovis preset (seed 003) booted for real (lab 5) from exactly the user data `studyhost plan
// --out` renders for a stack built from Pulumi.viewbovis.yaml on DigitalOcean with a staging copy: the
// example's keys kept except the cloud and region (DigitalOcean's lon1) and officeHours (refused on
// DigitalOcean, which bills a powered-off droplet); the lab's domain, admin address and ACME server; the
// bucket's endpoint pointed at the stand-in below; the Auspice site on nextstrain.<domain>; staging on
// test.<domain> with the image aphacsubot/viewbovis:prod-test.
//
// STAND-INS (no registry and no cloud are reachable here; none of this is the real software):
// - the container images aphacsubot/viewbovis:prod, aphacsubot/viewbovis:prod-test and
//   nextstrain/auspice:2.51.0 are `docker import`s of one small Debian root (standins/viewbovis-image:
//   Debian's REAL gunicorn, a stand-in `deploy:app`, a stand-in `auspice view --datasetDir DIR`), each
//   labelled org.studyhost.e2e.standin and told its name in STANDIN_IMAGE. They are imported into the
//   host's Docker during its boot, before cloud-init's final stage, by a unit the test adds to the host's
//   root (never to the user data): as if the VM's disk already had the images. The deploy's `docker pull`
//   then fails (no registry) and studyhost goes on with the host's copy, with a warning (src/host/apps/service.ts
//   pullImage: a registry outage must not stop a restart);
// - the bucket is standins/s3-standin.py (the read-only S3 calls rclone makes), run in the internet
//   namespace; the host's real rclone syncs from it at boot.
// Everything else (cloud-init, systemd, Docker, nginx, certbot against Pebble, rclone, the analytics
// script) is real.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/viewbovis.e2e.ts
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  boot,
  BootedHost,
  collect,
  ensureImage,
  exec,
  missingPrerequisites,
  Net,
  netDown,
  netUp,
  powerOff,
  prepareHost,
  PreparedHost,
  removeHost,
  waitForBoot,
} from "../../src/local/boot";
import { stopServer } from "../../src/local/gitServe";
import {
  ADMIN,
  DOMAIN,
  exampleConfig,
  fromInternet,
  provisioning,
  reachablePorts,
  PROVISIONED_CLEANLY,
  recordFigures,
  renderStack,
  addStandInImages as addStandInImagesTo,
  STANDIN_IMAGES_TAR,
} from "./lab";

const LAB = 5;
const STANDINS = join(__dirname, "standins");
const S3_PORT = 9000;
const NEXTSTRAIN = `nextstrain.${DOMAIN}`;
const STAGING = `test.${DOMAIN}`;
const IMAGES = { prod: "aphacsubot/viewbovis:prod", staging: "aphacsubot/viewbovis:prod-test", auspice: "nextstrain/auspice:2.51.0" };
const BUCKET = "viewbovis-production-data";

jest.setTimeout(30 * 60_000);

let work: string;
let net: Net;
let host: PreparedHost;
let booted: BootedHost;
let bootStartedAt = 0;
const servers: number[] = [];
const timings: Record<string, number> = {};
/** A value made for this run, in the bucket's data: what the app serves can only have come from there. */
const token = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const cattle = `herd,movement,token\nH0001,2024-03-01,${token}\n`;
/** The requests this test made per site and path, for the analytics check. */
const made: Record<string, Record<string, number>> = {};

function inside(cmd: string, timeoutMs = 120_000) {
  return exec(booted, ["bash", "-c", cmd], { timeoutMs });
}

/** An https request from the internet to NAME (a site of the host), the chain checked against Pebble's root. */
function get(name: string, path: string, site: string): { code: string; body: string } {
  made[site] ??= {};
  made[site][path] = (made[site][path] ?? 0) + 1;
  const r = fromInternet(net, [
    "curl",
    "-sS",
    "--max-time",
    "10",
    "--cacert",
    net.acme!.root,
    "--resolve",
    `${name}:443:${net.hosts[0].address}`,
    "-w",
    "\n%{http_code}",
    `https://${name}${path}`,
  ]);
  const at = r.stdout.lastIndexOf("\n");
  return { code: r.stdout.slice(at + 1), body: r.stdout.slice(0, at) };
}

/** The bucket's objects, in WORK/s3/<bucket>/: the production data, and Auspice's datasets under auspice/. */
function fillBucket(root: string) {
  const b = join(root, BUCKET);
  mkdirSync(join(b, "auspice"), { recursive: true });
  mkdirSync(join(b, "metadata"), { recursive: true });
  writeFileSync(join(b, "cattle_movements.csv"), cattle);
  writeFileSync(join(b, "metadata", "samples.json"), JSON.stringify({ samples: 2, token }) + "\n");
  writeFileSync(join(b, "auspice", "bovis_wgs.json"), JSON.stringify({ meta: { title: "M. bovis WGS (stand-in dataset)" }, token }) + "\n");
}

/** The S3 stand-in in the internet namespace; its request log in WORK/s3.log. */
function serveBucket(root: string): string {
  const log = join(work, "s3.log");
  const out = openSync(log, "a");
  const server = spawn(
    "ip",
    ["netns", "exec", net.internet.netns, "python3", join(STANDINS, "s3-standin.py"), "--bind", net.internet.address, "--port", String(S3_PORT), root],
    { stdio: ["ignore", out, out], detached: true },
  );
  server.unref();
  if (!server.pid) throw new Error("could not start the S3 stand-in");
  servers.push(server.pid);
  return `http://${net.internet.address}:${S3_PORT}`;
}

/**
 * Test harness only, in the host's root (not in the user data): the stand-in images imported into the
 * host's Docker at boot, before cloud-init's final stage runs the provisioning.
 */
function addStandInImages(h: PreparedHost, tarball: string) {
  const imports = Object.values(IMAGES).map(
    (image) =>
      `docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV STANDIN_IMAGE=${image}' --change 'LABEL org.studyhost.e2e.standin=test/e2e/standins/viewbovis-image' --change 'WORKDIR /app' ${STANDIN_IMAGES_TAR} ${image}`,
  );
  addStandInImagesTo(h.root, tarball, imports, "test/e2e/viewbovis.e2e.ts");
}

beforeAll(async () => {
  const missing = missingPrerequisites({ acme: true });
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-viewbovis-");
  timings.imageMs = ensureImage();
  const t = Date.now();
  const built = spawnSync(join(STANDINS, "viewbovis-image", "build.sh"), { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`standins/viewbovis-image/build.sh: ${built.stderr}`);
  const tarball = built.stdout.trim();
  timings.standInImageMs = Date.now() - t;

  net = netUp({ lab: LAB, acme: true, admin: ADMIN, hosts: [{ name: "study-app", forward: true }] });
  const s3 = join(work, "s3");
  fillBucket(s3);
  const endpoint = serveBucket(s3);

  const example = exampleConfig("Pulumi.viewbovis.yaml");
  const { officeHours: _officeHours, ...app } = example.app;
  const { outDir } = renderStack(work, "e2e-viewbovis", {
    ...example,
    cloud: "digitalocean",
    region: "lon1",
    domain: DOMAIN,
    adminCidrs: [`${ADMIN}/32`],
    tls: { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") },
    app: {
      ...app,
      data: { ...app.data, endpoint },
      nextstrain: { ...app.nextstrain, domain: NEXTSTRAIN },
      staging: { domain: STAGING, image: IMAGES.staging },
    },
  });

  host = prepareHost({ name: "study-app", userData: join(outDir, "study-app", "user-data"), dir: join(work, "study-app") });
  addStandInImages(host, tarball);
  bootStartedAt = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  await waitForBoot(booted, 15 * 60_000);
  timings.bootToProvisionedMs = Date.now() - bootStartedAt;
});

afterAll(async () => {
  console.log(`viewbovis end to end: ${JSON.stringify(timings)} (work folder ${work})`);
  if (process.env.STUDYHOST_E2E_KEEP !== "1") {
    if (booted) await powerOff(booted);
    if (host) removeHost(host, { data: true });
    for (const pid of servers) stopServer(pid);
    if (net) netDown(LAB);
  } else {
    console.log(`kept: nsenter -t ${booted?.leader} -a bash; stop with src/local/net.sh down --lab ${LAB} after powering off`);
  }
  recordFigures("e2e-viewbovis", timings);
});

test("cloud-init finished, the system running with no failed unit, every provisioning step passed", () => {
  const report = collect(booted);
  writeFileSync(join(work, "report.json"), JSON.stringify(report, null, 2));
  expect(provisioning(report)).toEqual(PROVISIONED_CLEANLY);
});

test("the deploys ran on the host's stand-in images: the pull failed (no registry) and each went on with a warning", () => {
  const log = inside("cat /var/log/studyhost-provision.log").stdout;
  for (const image of Object.values(IMAGES)) expect(log).toContain(`warning: cannot pull ${image}: using the copy already on this host (sha256:`);
  for (const [unit, image] of [
    ["viewbovis", IMAGES.prod],
    ["viewbovis_staging", IMAGES.staging],
    ["nextstrain", IMAGES.auspice],
  ]) {
    expect(inside(`docker inspect --format '{{.Config.Image}} {{index .Config.Labels "org.studyhost.e2e.standin"}}' ${unit}`).stdout.trim()).toBe(
      `${image} test/e2e/standins/viewbovis-image`,
    );
  }
});

test("Deployment: the staging copy was deployed and found healthy before production's app step", () => {
  const report = collect(booted);
  const steps = report.provisionSteps;
  const at = (s: string) => steps.indexOf(s);
  expect(at("app-viewbovis-staging")).toBeGreaterThanOrEqual(0);
  expect([at("app-viewbovis-staging") < at("health-viewbovis-staging"), at("health-viewbovis-staging") < at("app")]).toEqual([true, true]);
  const log = report.provisionLog;
  expect(log.indexOf("app answers at http://127.0.0.1:3001/")).toBeGreaterThan(0);
  expect(log.indexOf("app answers at http://127.0.0.1:3001/")).toBeLessThan(log.indexOf("== step app\n"));
});

test("ViewBovis (stand-in) answers through nginx on the main domain with the data the boot-time fetch mirrored from the bucket", () => {
  timings.bootToHttpsMs = Date.now() - bootStartedAt;
  const page = get(DOMAIN, "/", "viewbovis");
  expect(page.code).toBe("200");
  expect(page.body).toContain("<h1>ViewBovis STAND-IN</h1>");
  expect(page.body).toContain(`image ${IMAGES.prod}`);
  expect(page.body).toContain("<li>cattle_movements.csv</li>");
  expect(get(DOMAIN, "/data/cattle_movements.csv", "viewbovis")).toEqual({ code: "200", body: cattle });
  expect(get(DOMAIN, "/data/metadata/samples.json", "viewbovis").body).toContain(token);
  // On the host: the fetch's copy, from the S3 stand-in through rclone (its log has the host's GETs).
  expect(inside("cat /var/lib/studyhost/viewbovis/data/cattle_movements.csv").stdout).toBe(cattle);
  expect(inside("journalctl -b -u studyhost-fetch-viewbovis.service -o cat").stdout).toContain(
    `fetch viewbovis: /var/lib/studyhost/viewbovis/data mirrors source:${BUCKET} (3 files)`,
  );
  expect(readFileSync(join(work, "s3.log"), "utf8")).toContain(`s3-standin ${net.hosts[0].address} "GET /${BUCKET}/cattle_movements.csv HTTP/1.1" 200`);
});

test("Gunicorn production server and Logging: 4 workers, access and error logs on the host", () => {
  const error = inside("cat /var/log/viewbovis/error.log").stdout;
  expect(error).toContain("Listening at: http://127.0.0.1:3000");
  expect((error.match(/Booting worker with pid/g) ?? []).length).toBeGreaterThanOrEqual(4);
  expect(inside("cat /var/log/viewbovis/access.log").stdout).toContain('"GET /data/cattle_movements.csv HTTP/1.0" 200');
});

test("Auspice (stand-in) answers on its own subdomain with the datasets from the bucket's auspice/ folder", () => {
  const page = get(NEXTSTRAIN, "/", "nextstrain");
  expect(page.code).toBe("200");
  expect(page.body).toContain("<h1>Auspice STAND-IN</h1>");
  expect(page.body).toContain(`image ${IMAGES.auspice}`);
  const available = get(NEXTSTRAIN, "/charon/getAvailable", "nextstrain");
  expect([available.code, JSON.parse(available.body)]).toEqual(["200", { datasets: [{ request: "bovis/wgs" }] }]);
  expect(inside("cat /var/lib/studyhost/nextstrain/data/bovis_wgs.json").stdout).toContain(token);
  expect(inside("ls /var/lib/studyhost/nextstrain/data").stdout).toBe("bovis_wgs.json\n");
});

test("the staging copy answers on the test subdomain, from its own image and its own copy of the data", () => {
  const page = get(STAGING, "/", "viewbovis_staging");
  expect(page.code).toBe("200");
  expect(page.body).toContain(`image ${IMAGES.staging}`);
  expect(get(STAGING, "/data/cattle_movements.csv", "viewbovis_staging")).toEqual({ code: "200", body: cattle });
  expect(inside("cat /var/lib/studyhost/viewbovis_staging/data/cattle_movements.csv").stdout).toBe(cattle);
});

test("from the internet only 80 and 443 are open: not gunicorn's 3000/3001, not Auspice's 4001", () => {
  const ports = reachablePorts(net, booted, net.hosts[0].address);
  expect(ports.listening).toEqual(expect.arrayContaining([80, 443, 3000, 3001, 4001]));
  expect([ports.fromInternet, ports.fromAdmin]).toEqual([
    [80, 443],
    [22, 80, 443],
  ]);
});

test("`docker kill` of the ViewBovis container: systemd restarts it and it answers again", async () => {
  const id = () => inside("docker inspect --format '{{.Id}}' viewbovis 2>/dev/null").stdout.trim();
  const restarts = () => Number(inside("systemctl show -p NRestarts --value viewbovis.service").stdout.trim());
  const before = { id: id(), restarts: restarts() };
  expect(before.id).toMatch(/^[0-9a-f]{64}$/);
  const t = Date.now();
  expect(inside("docker kill viewbovis").status).toBe(0);
  let answered = false;
  while (Date.now() - t < 60_000) {
    if (id() && id() !== before.id && get(DOMAIN, "/", "viewbovis").code === "200") {
      answered = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  timings.killToAnswerMs = Date.now() - t;
  expect(answered).toBe(true);
  expect(restarts()).toBe(before.restarts + 1);
  expect(inside("systemctl is-active viewbovis.service").stdout.trim()).toBe("active");
});

test("a restart stops the container on SIGTERM (tini as its PID 1: `--init`), not by the kill after `docker stop --time 20`", () => {
  // The Auspice stand-in, like Node, has no SIGTERM handler: as the container's PID 1 it ignored the
  // signal, and every restart, deploy and fetch waited the 20 s out.
  const t = Date.now();
  expect(inside("systemctl restart nextstrain.service").status).toBe(0);
  timings.restartAuspiceMs = Date.now() - t;
  expect(timings.restartAuspiceMs).toBeLessThan(10_000);
  expect(inside("systemctl is-active nextstrain.service").stdout.trim()).toBe("active");
});

test("Analytics: the service runs, and the rendered command writes today's dated JSON with the requests per path", () => {
  get(DOMAIN, "/no-such-page", "viewbovis");
  // The unit as the timer runs it (yesterday's counts: there were none on this new host).
  expect(inside("systemctl start studyhost-analytics.service && systemctl show -p Result --value studyhost-analytics.service").stdout.trim()).toBe("success");
  const yesterday = inside("date -d yesterday +%F").stdout.trim();
  expect(JSON.parse(inside(`cat /var/lib/studyhost/analytics/viewbovis/${yesterday}.json`).stdout)).toMatchObject({
    site: "viewbovis",
    date: yesterday,
    requests: 0,
  });
  // Today's, with the unit's own command line and user (and adm, as the unit's SupplementaryGroups).
  const cmd = /^ExecStart=(.*)$/m.exec(inside("cat /etc/systemd/system/studyhost-analytics.service").stdout)![1];
  const today = inside("date +%F").stdout.trim();
  const r = inside(`runuser -u studyhost-analytics -g studyhost-analytics -G adm -- ${cmd} --date ${today}`);
  expect([r.status, r.stderr]).toEqual([0, ""]);
  for (const [site, paths] of Object.entries(made)) {
    const counted = JSON.parse(inside(`cat /var/lib/studyhost/analytics/${site}/${today}.json`).stdout);
    expect(counted).toMatchObject({ site, date: today });
    // "/" is also asked by the provisioning's health checks: the test's other paths are its own only.
    for (const [path, n] of Object.entries(paths)) if (path !== "/") expect([site, path, counted.paths[path]]).toEqual([site, path, n]);
    expect(counted.paths["/"]).toBeGreaterThanOrEqual(paths["/"] ?? 0);
  }
  expect(JSON.parse(inside(`cat /var/lib/studyhost/analytics/viewbovis/${today}.json`).stdout).statuses["404"]).toBeGreaterThanOrEqual(1);
});

test("On startup: power off, change the bucket, boot again: the app serves the bucket's new data (the sync runs at every boot)", async () => {
  const updated = `herd,movement,token\nH0001,2024-03-01,${token}\nH0002,2024-04-02,${token}-second-boot\n`;
  writeFileSync(join(work, "s3", BUCKET, "cattle_movements.csv"), updated);
  await powerOff(booted);
  const t = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  const second = await waitForBoot(booted, 10 * 60_000);
  expect(second.systemState).toBe("running");
  expect(collect(booted).failedUnits).toEqual([]);
  let served = get(DOMAIN, "/data/cattle_movements.csv", "viewbovis");
  while (served.body !== updated && Date.now() - t < 120_000) {
    await new Promise((r) => setTimeout(r, 1000));
    served = get(DOMAIN, "/data/cattle_movements.csv", "viewbovis");
  }
  timings.rebootToNewDataMs = Date.now() - t;
  expect(served).toEqual({ code: "200", body: updated });
  expect(inside("journalctl -b -u studyhost-fetch-viewbovis.service -o cat").stdout).toContain(
    `fetch viewbovis: /var/lib/studyhost/viewbovis/data mirrors source:${BUCKET} (3 files)`,
  );
});
