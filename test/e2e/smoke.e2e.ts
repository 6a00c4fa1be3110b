// Smoke run of the end-to-end harness: the small example stack's one host booted from exactly the user
// data `studyhost plan --out` renders, in a lab network with Pebble, then powered off and removed.
// It reports how far provisioning got rather than asserting that it all worked: the small stack's app
// is a pip install from PyPI, which cannot be reached here, so its app step is expected to fail.
//
//   npm run build && npx jest -c test/e2e/jest.config.js
//
// Needs root, systemd-nspawn, debootstrap, zstd, pebble. STUDYHOST_E2E_WORK keeps the run's folder
// (default: a new folder under /var/tmp); the logs and report.json stay there after the run.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { boot, BootedHost, collect, countedLines, E2E_DIR, httpProbe, tcpProbe, missingPrerequisites, Net, netDown, netUp, powerOff, prepareHost, PreparedHost, removeHost, waitForBoot } from "./boot";

const REPO = resolve(E2E_DIR, "../..");
const LAB = 0;

jest.setTimeout(20 * 60_000);

let work: string;
let net: Net | undefined;
let host: PreparedHost | undefined;
let booted: BootedHost | undefined;
let kept = false;

beforeAll(() => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = process.env.STUDYHOST_E2E_WORK ? resolve(process.env.STUDYHOST_E2E_WORK) : mkdtempSync("/var/tmp/studyhost-e2e-");
  mkdirSync(work, { recursive: true });
});

afterAll(async () => {
  // Whatever happened: the host off, its root gone (its logs were copied out), the lab's network down.
  if (booted) await powerOff(booted);
  if (host) removeHost(host);
  if (!kept) netDown(LAB);
});

test("the small stack's host boots from its rendered user data", async () => {
  const t0 = Date.now();
  const plan = join(work, "plan");
  const r = spawnSync("node", [join(REPO, "bin/studyhost.js"), "plan", "--config", join(REPO, "Pulumi.small.yaml"), "--out", plan], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`studyhost plan failed:\n${r.stdout}${r.stderr}`);
  const names = readdirSync(plan).filter((n) => existsSync(join(plan, n, "user-data")));
  expect(names).toEqual(["study-app"]);
  const name = names[0];

  const tImage = Date.now();
  const image = spawnSync(join(E2E_DIR, "rootfs.sh"), ["base"], { encoding: "utf8" });
  if (image.status !== 0) throw new Error(`rootfs.sh base failed:\n${image.stderr}`);
  const imageMs = Date.now() - tImage;

  net = netUp({ lab: LAB, acme: true, admin: "203.0.113.10", hosts: [{ name }] });
  host = prepareHost({ name, userData: join(plan, name, "user-data"), dir: join(work, name) });
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  const waited = await waitForBoot(booted);
  const report = collect(booted);
  // A first look from the internet namespace at what the host answers (the full checks come later).
  const inet = net.internet.netns;
  const addr = net.hosts[0].address;
  const domain = "small-study.example.org";
  const probes = {
    [`http://${addr}/ with Host ${domain}`]: JSON.stringify(httpProbe(inet, `http://${addr}/`, ["-H", `Host: ${domain}`])),
    [`http://${addr}/ with no known name`]: JSON.stringify(httpProbe(inet, `http://${addr}/`)),
    [`tcp ${addr}:443`]: tcpProbe(inet, addr, 443),
    [`tcp ${addr}:22 from ${net.internet.address}`]: tcpProbe(inet, addr, 22),
    [`tcp ${addr}:22 from the admin address ${net.internet.admin}`]: tcpProbe(inet, addr, 22, net.internet.admin ?? undefined),
    [`tcp ${addr}:5000 (the app's port)`]: tcpProbe(inet, addr, 5000),
  };
  if (process.env.STUDYHOST_E2E_KEEP === "1") {
    console.log(`kept running: nsenter -t ${booted.leader} -a bash; stop with: nsenter -t ${booted.leader} -a systemctl poweroff; umount ${host.root}; ${join(E2E_DIR, "net.sh")} down --lab ${LAB}`);
    kept = true;
    booted = undefined;
    host = undefined;
    return;
  }
  const offMs = await powerOff(booted);
  booted = undefined;

  for (const f of ["var/log/cloud-init-output.log", "var/log/cloud-init.log", "var/log/studyhost-provision.log"]) {
    if (existsSync(join(host.root, f))) copyFileSync(join(host.root, f), join(work, name, f.split("/").pop()!));
  }
  const timings = { imageMs, rootMs: host.timings.rootMs, bootFinishedMs: waited.bootFinishedMs, settledMs: waited.settledMs, powerOffMs: offMs, totalMs: Date.now() - t0 };
  writeFileSync(join(work, "report.json"), `${JSON.stringify({ host: name, address: addr, timings, probes, ...report, cloudInitOutput: undefined, provisionLog: undefined }, null, 2)}\n`);
  console.log(
    [
      `${name} (${addr}), logs in ${join(work, name)}`,
      `timings: image ${imageMs} ms, root ${host.timings.rootMs} ms, boot-finished ${waited.bootFinishedMs} ms, settled (${waited.systemState}) ${waited.settledMs} ms, power-off ${offMs} ms`,
      `not pre-installed in the image: ${host.notPreinstalled.join(" ") || "(none)"}`,
      `cloud-init: ${report.cloudInitStatus}`,
      `provisioning steps: ${report.provisionSteps.join(", ")}; ${report.provisionFinished ? "finished" : "NOT finished"}`,
      ...report.provisionFailures.map((f) => `  step ${f.step} FAILED at line ${f.line}: ${f.command}`),
      `systemctl --failed: ${report.failedUnits.join(", ") || "(none)"}`,
      "units:",
      ...Object.entries(report.units).map(([u, v]) => `  ${u}: ${v}`),
      "from the internet namespace:",
      ...Object.entries(probes).map(([k, v]) => `  ${k}: ${v}`),
      `--- cloud-init analyze blame:\n${report.cloudInitBlame}`,
      ...Object.entries(report.failedJournals).map(([u, j]) => `--- journal of ${u}:\n${j.split("\n").slice(-12).join("\n")}`),
      `--- journal, priority warning and worse:\n${report.journalWarnings.join("\n")}`,
      `--- studyhost-provision.log:\n${countedLines(report.provisionLog.split("\n")).join("\n")}`,
      `--- failure lines of cloud-init-output.log:\n${report.cloudInitFailures.join("\n")}`,
    ].join("\n"),
  );

  // What the harness itself must have achieved; the host's own failures are reported above.
  expect(waited.bootFinishedMs).toBeGreaterThan(0);
  expect(["running", "degraded"]).toContain(waited.systemState);
  expect(report.provisionSteps[0]).toBe("base");
  expect(offMs).toBeLessThan(30_000);
});
