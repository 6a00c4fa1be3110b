// The e-mission preset (seed 002) booted for real (lab 9) from exactly the user data `studyhost plan
// --out` renders for a stack built from Pulumi.emission.yaml (DigitalOcean, as the example is): every
// preset key kept; only the lab's domain, admin address and ACME server change.
//
// STAND-INS (no registry is reachable here and MongoDB is not in Debian; none of this is the real
// software, and nothing here proves MongoDB or e-mission themselves):
// - emission/e-mission-server:v3.2.0 and mongo:7.0 are `docker import`s of one small Debian root
//   (standins/emission-image, on the viewbovis stand-ins' root): a stand-in e-mission server folder in
//   /usr/src/app (the preset's command, port, conf file paths and environment: cfc_webapp.py serving on
//   webserver.conf's host and port, keeping records in db.conf's timeseries.url; intake_multiprocess.py
//   and silent_ios_push.py for the jobs) and a stand-in mongod on 27017 with its own trivial
//   JSON-over-TCP protocol (NOT MongoDB's wire protocol), its data in /data/db, plus stand-in mongosh,
//   mongodump and mongorestore that take exactly the arguments studyhost's scripts pass. Both images
//   are labelled org.studyhost.e2e.standin and told their name in STANDIN_IMAGE. They are imported into
//   the host's Docker during its boot, before cloud-init's final stage, by a unit the test adds to the
//   host's root (never to the user data), as viewbovis.e2e.ts does; the deploys' `docker pull` fails and
//   goes on with the host's copy.
// What this proves is studyhost's plumbing: the private Docker network and the name `mongodb` on it, no
// published database port, the conf files mounted read-only, the data on the data volume, the setup,
// backup (with its --dryRun check) and restore scripts run in the database's container, the scheduled
// jobs as systemd timers whose services run a container of the app's image with their log on the host.
// Everything else (cloud-init, systemd, Docker, nginx, certbot against Pebble) is real.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/emission.e2e.ts
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collect, PreparedHost, tcpProbe } from "../../src/local/boot";
import {
  ADMIN,
  exampleConfig,
  finishRun,
  fromInternet,
  PresetLab,
  provisioning,
  PROVISIONED_CLEANLY,
  renderStack,
  startRun,
  addStandInImages as addStandInImagesTo,
  STANDIN_IMAGES_TAR,
} from "./lab";

const LAB = 9;
const NAME = "emission";
const IMAGES = { server: "emission/e-mission-server:v3.2.0", mongo: "mongo:7.0" };
const LABEL = "test/e2e/standins/emission-image";
/** The private Docker network studyhost makes (src/host/apps/dockerNetwork.ts) and MongoDB's fixed address on it. */
const PRIVATE = /^172\.30\.232\.\d+$/;
const MONGO_ADDRESS = "172.30.232.2";
/** Where Docker picks the other containers' addresses on that network (never MongoDB's). */
const DYNAMIC_RANGE = "172.30.232.128/25";

jest.setTimeout(30 * 60_000);

const lab = new PresetLab(LAB);
const figures: Record<string, number> = {};
let work = "";
/** A value made for this run: a record with it can only have been written by this test. */
const token = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Test harness only, in the host's root (not in the user data): the stand-in images imported into the
 * host's Docker at boot, before cloud-init's final stage runs the provisioning.
 */
function addStandInImages(h: PreparedHost, tarball: string) {
  const common = (image: string) =>
    `--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV STANDIN_IMAGE=${image}' --change 'LABEL org.studyhost.e2e.standin=${LABEL}'`;
  const imports = [
    // The server image's WORKDIR is the server's folder (the preset's serverDir default).
    `docker import ${common(IMAGES.server)} --change 'WORKDIR /usr/src/app' ${STANDIN_IMAGES_TAR} ${IMAGES.server}`,
    // As the mongo image: options alone go to mongod through the entrypoint.
    `docker import ${common(IMAGES.mongo)} --change 'WORKDIR /' --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["mongod"]' ${STANDIN_IMAGES_TAR} ${IMAGES.mongo}`,
  ];
  addStandInImagesTo(h.root, tarball, imports, "test/e2e/emission.e2e.ts");
}

const inside = (cmd: string) => lab.inside(cmd);
/** A JSON request to the e-mission stand-in through nginx over https (the chain checked against Pebble's root). */
function api(path: string): { code: string; json: any } {
  const r = lab.get(path);
  let json: any;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = r.body;
  }
  return { code: r.code, json };
}

async function until(what: string, ms: number, ok: () => boolean): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (ok()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what} not within ${ms} ms`);
}

beforeAll(async () => {
  work = startRun(NAME, figures);
  const t = Date.now();
  const built = spawnSync(join(__dirname, "standins", "emission-image", "build.sh"), { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`standins/emission-image/build.sh: ${built.stderr}`);
  const tarball = built.stdout.trim();
  figures.standInImageMs = Date.now() - t;
  lab.up();
  const { outDir } = renderStack(work, "e2e-emission", lab.config(exampleConfig("Pulumi.emission.yaml"), {}));
  figures.bootToProvisionedMs = await lab.boot(join(work, "study-app"), join(outDir, "study-app", "user-data"), (h) => addStandInImages(h, tarball));
});

afterAll(async () => {
  if (process.env.STUDYHOST_E2E_KEEP !== "1") await lab.down();
  else console.log(`kept: nsenter -t ${lab.booted?.leader} -a bash; stop with src/local/net.sh down --lab ${LAB} after powering off`);
  if (work) finishRun(NAME, figures, work);
});

test("cloud-init finished, the system running with no failed unit, every provisioning step passed", () => {
  const report = collect(lab.booted!);
  writeFileSync(join(work, "report.json"), JSON.stringify(report, null, 2));
  expect(provisioning(report)).toEqual(PROVISIONED_CLEANLY);
  expect(report.provisionSteps).toEqual(expect.arrayContaining(["docker-network", "mongodb", "app", "jobs"]));
});

test("both deploys ran on the host's stand-in images: the pull failed (no registry) and each went on with a warning", () => {
  const log = inside("cat /var/log/studyhost-provision.log").stdout;
  for (const image of Object.values(IMAGES)) expect(log).toContain(`warning: cannot pull ${image}: using the copy already on this host (sha256:`);
  for (const [container, image] of [
    ["emission", IMAGES.server],
    ["studyhost-mongodb", IMAGES.mongo],
  ]) {
    expect(inside(`docker inspect --format '{{.Config.Image}} {{index .Config.Labels "org.studyhost.e2e.standin"}}' ${container}`).stdout.trim()).toBe(
      `${image} ${LABEL}`,
    );
  }
  expect(log).toContain("MongoDB answers on the private network at mongodb (172.30.232.2:27017), no published port");
});

test("https through nginx, the chain verified against Pebble's root: the e-mission stand-in with the preset's auth and database host", () => {
  figures.bootToHttpsMs = Date.now() - lab.bootStartedAt;
  const page = lab.get("/");
  expect(page.code).toBe("200");
  expect(page.body).toContain("<h1>e-mission server STAND-IN</h1>");
  expect(page.body).toContain(`image ${IMAGES.server}`);
  expect(page.body).toContain("auth token_list");
  expect(page.body).toContain("database mongodb:27017/emission");
  // Its log files where the preset puts them (conf/log/webserver.conf), on the data volume.
  expect(inside("cat /var/lib/studyhost/emission/logs/webserver.log").stdout).toContain(
    "e-mission stand-in: serving on 0.0.0.0:8080, auth token_list, database mongodb:27017/emission",
  );
});

test("a write then a read through the server reach the stand-in database by name over the private Docker network; its data lies on the data volume", () => {
  const w = api(`/write?id=${token}&value=written-through-nginx`);
  expect([w.code, w.json.ok, w.json.n]).toEqual(["200", 1, 1]);
  // The database saw the server's container's address on the private network, and answered from its own fixed one.
  expect(w.json).toMatchObject({ database: "mongodb:27017", resolved: MONGO_ADDRESS, server: MONGO_ADDRESS });
  expect(w.json.peer).toMatch(PRIVATE);
  expect(w.json.peer).toBe(inside(`docker inspect --format '{{(index .NetworkSettings.Networks "studyhost").IPAddress}}' emission`).stdout.trim());
  const r = api(`/read?id=${token}`);
  expect([r.code, r.json.docs]).toEqual(["200", [{ _id: token, value: "written-through-nginx" }]]);
  // The app user authenticated on its own database (setup.js made it); the root password is not the app's.
  expect(inside("grep -c '\"emission\"' /var/lib/studyhost/mongodb/standin-mongod.json").stdout.trim()).not.toBe("0");
  expect(inside(`grep -c ${token} /var/lib/studyhost/mongodb/standin-mongod.json`).stdout.trim()).toBe("1");
  expect(inside("findmnt -n -o TARGET -T /var/lib/studyhost/mongodb").stdout.trim()).toBe("/var/lib/studyhost");
  expect(inside("docker inspect --format '{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}' studyhost-mongodb").stdout).toContain(
    "/var/lib/studyhost/mongodb:/data/db",
  );
});

test("the database port is not published: 27017 closed from the internet, nothing listening on it on the host; 8080 only on 127.0.0.1", () => {
  const addr = lab.net.hosts[0].address;
  expect(tcpProbe(lab.net.internet.netns, addr, 443)).toMatch(/^open/);
  for (const port of [27017, 8080]) expect([port, tcpProbe(lab.net.internet.netns, addr, port)]).toEqual([port, expect.stringMatching(/^(timeout|refused)$/)]);
  const listening = inside("ss -ltnH").stdout;
  expect(listening).not.toMatch(/:27017\b/);
  expect(
    listening
      .split("\n")
      .filter((l) => /:8080\b/.test(l))
      .map((l) => l.trim().split(/\s+/)[3]),
  ).toEqual(["127.0.0.1:8080"]);
  expect(inside("docker inspect --format '{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}}' studyhost-mongodb").stdout.trim()).toMatch(
    /^(\{\}|null) \{"27017\/tcp":null\}$|^(\{\}|null) (\{\}|null)$/,
  );
});

test("the conf files are mounted read-only in the server container", () => {
  const mounts = JSON.parse(inside("docker inspect --format '{{json .Mounts}}' emission").stdout) as { Source: string; Destination: string; RW: boolean }[];
  const conf = mounts.filter((m) => m.Destination.startsWith("/usr/src/app/conf/")).map((m) => [m.Source, m.Destination, m.RW]);
  expect(conf.sort()).toEqual(
    [
      ["/etc/emission/db.conf", "/usr/src/app/conf/storage/db.conf", false],
      ["/etc/emission/log-intake.conf", "/usr/src/app/conf/log/intake.conf", false],
      ["/etc/emission/log-webserver.conf", "/usr/src/app/conf/log/webserver.conf", false],
      ["/etc/emission/push.json", "/usr/src/app/conf/net/ext_service/push.json", false],
      ["/etc/emission/webserver.conf", "/usr/src/app/conf/net/api/webserver.conf", false],
    ].sort(),
  );
  // As root in the container (the file's owner): only the mount refuses the write.
  const write = inside("docker exec --user 0 emission sh -c 'echo x >> /usr/src/app/conf/storage/db.conf'");
  expect(write.status).not.toBe(0);
  expect(write.stderr).toContain("Read-only file system");
  // The URL studyhost filled in: the app user's, by name on the private network.
  expect(inside("docker exec emission cat /usr/src/app/conf/storage/db.conf").stdout).toMatch(
    /"url": "mongodb:\/\/emission:[^@"]+@mongodb:27017\/emission\?authSource=emission"/,
  );
});

test("Scheduled jobs: the intake pipeline and the push jobs are systemd timers; started, the intake's service runs a container of the image, its log where studyhost says", async () => {
  const timers = ["intake", "push_60", "push_600", "push_1800", "push_3600"].map((j) => `studyhost-job-${j}.timer`);
  for (const timer of timers)
    expect([timer, inside(`systemctl is-enabled ${timer}; systemctl is-active ${timer}`).stdout]).toEqual([timer, "enabled\nactive\n"]);
  const manifest = JSON.parse(inside("cat /etc/studyhost/manifest.json").stdout);
  const intakeLog = (JSON.stringify(manifest).match(/"log":"([^"]*intake\.log)"/) ?? [])[1];
  expect(intakeLog).toBe("/var/log/emission/intake.log");
  const t0 = Date.now();
  expect(inside("systemctl start studyhost-job-intake.service; systemctl show -p Result --value studyhost-job-intake.service").stdout.trim()).toBe("success");
  figures.intakeJobMs = Date.now() - t0;
  const log = inside(`cat ${intakeLog}`).stdout;
  expect(log).toMatch(/intake stand-in \(not the e-mission pipeline\): run intake-\S+ with 3 processes over \d+ timeseries records in mongodb:27017\/emission/);
  expect(log).toMatch(/== \S+ \/usr\/local\/lib\/studyhost\/jobs\/intake\.sh finished with exit status 0/);
  expect(inside("journalctl -u studyhost-job-intake.service -o cat").stdout).toContain("intake stand-in (not the e-mission pipeline)");
  // Its record reached the database over the private network (the job's container, not the app's).
  const runs = api("/read?coll=pipeline_runs");
  expect(runs.json.docs.length).toBeGreaterThanOrEqual(1);
  expect(runs.json.docs[0]).toMatchObject({ processes: 3 });
  // Its own log file from conf/log/intake.conf, on the data volume; the job's container is gone.
  expect(inside("cat /var/lib/studyhost/emission/logs/intake.log").stdout).toContain("intake stand-in run intake-");
  expect(inside("docker ps -a --format '{{.Names}}'").stdout).not.toContain("studyhost-job-intake");
  // The push job every minute ran by its timer alone (no one started it).
  figures.pushTimerWaitMs = await until("push_60's timer ran it", 150_000, () =>
    /finished with exit status 0/.test(inside("cat /var/log/emission/push_60.log 2>/dev/null").stdout),
  );
  expect(inside("cat /var/log/emission/push_60.log").stdout).toContain(
    "push stand-in (nothing sent): silent push for the 60s interval via firebase, server token set",
  );
});

test("Backup of the stand-in MongoDB: the service writes a dump checked by mongorestore --dryRun; a restore brings back a deleted record", async () => {
  // e-mission keeps everything in MongoDB: studyhost's own database is none, so MongoDB's dump runs on
  // the accessories' own timer. (This boot first found that a failing SQLite backup, of a file e-mission
  // never makes, stopped systemd before MongoDB's dump: every backup of a run now runs,
  // studyhost-backup-each, and the preset refuses engine sqlite.)
  expect(inside("systemctl is-enabled studyhost-accessories-backup.timer").stdout.trim()).toBe("enabled");
  const t0 = Date.now();
  const service = inside(
    "systemctl start studyhost-accessories-backup.service; systemctl show -p Result --value studyhost-accessories-backup.service; journalctl -u studyhost-accessories-backup.service -o cat",
  );
  figures.backupMs = Date.now() - t0;
  expect(service.stdout).toMatch(/^success\n/);
  expect(service.stdout).toContain("== /usr/local/sbin/studyhost-backup-mongodb");
  const dumps = inside("ls /var/lib/studyhost/backups/mongodb/")
    .stdout.trim()
    .split("\n")
    .filter((f) => /^emission-\d{8}T\d{6}Z\.dump$/.test(f));
  expect(dumps).toHaveLength(1);
  const dump = `/var/lib/studyhost/backups/mongodb/${dumps[0]}`;
  expect(inside(`gzip -dc ${dump}`).stdout).toContain(token);
  expect(service.stdout).toContain(`backup written: ${dump}`);
  expect(inside(`stat -c %a ${dump}`).stdout.trim()).toBe("600");

  expect(api(`/delete?id=${token}`).json.n).toBe(1);
  expect(api(`/read?id=${token}`).json.docs).toEqual([]);
  const t1 = Date.now();
  const restored = inside("studyhost-restore-mongodb --yes");
  expect([restored.status, restored.stderr.split("\n").filter((l) => /error|fail/i.test(l) && !/0 document\(s\) failed/.test(l))]).toEqual([0, []]);
  expect(restored.stdout).toContain(`restored emission from ${dump}`);
  await lab.answers(`/read?id=${token}`, 60_000);
  figures.restoreToAnswerMs = Date.now() - t1;
  expect(api(`/read?id=${token}`).json.docs).toEqual([{ _id: token, value: "written-through-nginx" }]);
  // The app user still works after the restore (setup.js ran again), and the app was started again.
  expect(inside("systemctl is-active emission.service").stdout.trim()).toBe("active");
});

/** The folders logsOnDataVolume (the preset's default) puts on the data volume. */
const LOG_FOLDERS = ["journal", "nginx", "emission"];

/** Files in the boot disk's own folder under a log folder's mount, seen from outside the host (its root as this machine has it). */
function filesOnBootDisk(folder: string): string[] {
  const r = spawnSync("find", [join(lab.host!.root, "var/log", folder), "-type", "f"], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean);
}

/** The journal files on the data volume, read from outside the host with this machine's journalctl. */
const journalOnVolume = (args: string[]) =>
  spawnSync("journalctl", ["--directory", join(lab.host!.data, "logs/journal"), "--no-pager", "-o", "cat", ...args], { encoding: "utf8" }).stdout;

test("Configuring logs / cryptfs: the journal, nginx's logs and the jobs' run logs are on the data volume (bind mounts); the boot disk's folders hold no file; Docker keeps no log copy", () => {
  for (const folder of LOG_FOLDERS) {
    expect([folder, inside(`mountpoint /var/log/${folder}; systemctl is-active var-log-${folder}.mount`).stdout]).toEqual([
      folder,
      `/var/log/${folder} is a mountpoint\nactive\n`,
    ]);
    expect([folder, filesOnBootDisk(folder)]).toEqual([folder, []]);
  }
  // What the host writes there is in the data volume's folder (the lab's data folder, seen from outside).
  const volume = join(lab.host!.data, "logs");
  expect(spawnSync("grep", ["-c", `/read?id=${token}`, join(volume, "nginx/emission.access.log")], { encoding: "utf8" }).stdout.trim()).not.toBe("0");
  expect(spawnSync("cat", [join(volume, "emission/intake.log")], { encoding: "utf8" }).stdout).toMatch(/intake\.sh finished with exit status 0/);
  // The containers' output (the server's, MongoDB's) is in the journal on the volume, and nowhere in Docker.
  expect(journalOnVolume(["-u", "emission.service"])).toContain("e-mission server STAND-IN (not e-mission): serving on 0.0.0.0:8080");
  expect(journalOnVolume(["-u", "studyhost-mongodb.service"])).toMatch(/mongod stand-in: 172\.30\.232\.\d+/);
  expect(inside("docker inspect --format '{{.HostConfig.LogConfig.Type}}' emission studyhost-mongodb").stdout).toBe("none\nnone\n");
  expect(inside("find /var/lib/docker/containers -name '*-json.log' | wc -l").stdout.trim()).toBe("0");
  // No text copy of the journal for a syslog daemon on the boot disk (Ubuntu's images run rsyslog; this Debian root has none).
  expect(inside("systemd-analyze cat-config systemd/journald.conf").stdout).toMatch(/^ForwardToSyslog=no$/m);
});

test("fail2ban still reads the journal after it moved to the volume: a login as an unknown user from the admin address is counted", async () => {
  // fail2ban watched the boot disk's journal folder, now under the mount: without its restart in the move
  // it counted nothing until the next reboot.
  const failed = () => Number(/Total failed:\s*(\d+)/.exec(inside("fail2ban-client status sshd").stdout)?.[1] ?? "-1");
  const before = failed();
  expect(before).toBeGreaterThanOrEqual(0);
  fromInternet(lab.net, [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",
    "-b",
    ADMIN,
    `nosuchuser@${lab.net.hosts[0].address}`,
    "true",
  ]);
  await until("fail2ban counted the failed login", 30_000, () => failed() > before);
  expect(inside("journalctl -u ssh.service --since -2min -o cat").stdout).toContain(`Invalid user nosuchuser from ${ADMIN}`);
});

test("chrony is enabled (its start skipped in a container, as studyhost allows)", () => {
  expect(inside("systemctl is-enabled chrony.service").stdout.trim()).toBe("enabled");
  const state = inside("systemctl show -p ActiveState -p ConditionResult chrony.service").stdout;
  expect(/ActiveState=active/.test(state) || /ConditionResult=no/.test(state)).toBe(true);
});

/** The private network's range for containers' own addresses, as Docker reports it. */
const networkRange = () => inside("docker network inspect --format '{{range .IPAM.Config}}{{.IPRange}}{{end}}' studyhost").stdout.trim();

/**
 * The network as studyhost made it before 2026-12-05 (no --ip-range), its containers stopped. Docker may
 * hold a stopped container's endpoint for a moment: the removal is tried for up to 30 s.
 */
const OLD_NETWORK =
  "systemctl stop emission.service studyhost-mongodb.service && for i in $(seq 30); do docker network rm studyhost 2>/dev/null && break; sleep 1; done && docker network create --driver bridge --subnet 172.30.232.0/24 --gateway 172.30.232.1 --opt com.docker.network.bridge.name=studyhost0 studyhost";

test("the app's container started before MongoDB's (as after a reboot, or a job's) cannot take MongoDB's fixed address", async () => {
  // Docker gives containers their own addresses from the network's upper half only; without that range
  // the first container after a boot took .2, and MongoDB's `docker run` failed until it stopped.
  expect(networkRange()).toBe(DYNAMIC_RANGE);
  inside("systemctl stop emission.service studyhost-mongodb.service");
  inside("systemctl start emission.service");
  const address = (container: string) =>
    inside(`docker inspect --format '{{(index .NetworkSettings.Networks "studyhost").IPAddress}}' ${container} 2>/dev/null`).stdout.trim();
  await until("the app's container is on the network", 30_000, () => PRIVATE.test(address("emission")));
  expect(Number(address("emission").split(".")[3])).toBeGreaterThanOrEqual(128);
  inside("systemctl start studyhost-mongodb.service");
  await until("MongoDB's container is at its fixed address", 30_000, () => address("studyhost-mongodb") === MONGO_ADDRESS);
  await lab.answers(`/read?id=${token}`, 60_000);
  expect(api(`/read?id=${token}`).json.docs).toEqual([{ _id: token, value: "written-through-nginx" }]);
  expect(inside("systemctl show -p NRestarts --value studyhost-mongodb.service").stdout.trim()).toBe("0");
  // The network as a host provisioned by an earlier studyhost has it (no range): made again at the next
  // boot, before the containers start (checked after the power-off below).
  const old = inside(OLD_NETWORK);
  expect([old.status, old.stderr]).toEqual([0, ""]);
});

test("power off and boot again: provisioned cleanly, the record and the pipeline's run still there", async () => {
  figures.rebootToRunningMs = await lab.reboot();
  expect(lab.provisioning()).toEqual(PROVISIONED_CLEANLY);
  // Until the server answers from the database (MongoDB's container may still be starting when the
  // server's page answers: the unit is ordered after it, and Type=exec waits for nothing more).
  figures.rebootToAnswerMs = await lab.answers(`/read?id=${token}`, 120_000).catch((e: Error) => {
    // What the host shows when it does not answer, for the CI log.
    const state = inside(
      "systemctl list-units --no-pager --failed; systemctl status --no-pager -n 20 emission.service studyhost-mongodb.service nginx.service 'var-log-*.mount'; findmnt /var/log/nginx /var/log/emission /var/log/journal",
    ).stdout;
    throw new Error(`${e.message}\n${state}\nread: ${JSON.stringify(api(`/read?id=${token}`))}`);
  });
  expect(api(`/read?id=${token}`).json.docs).toEqual([{ _id: token, value: "written-through-nginx" }]);
  expect(api("/read?coll=pipeline_runs").json.docs.length).toBeGreaterThanOrEqual(1);
  expect(inside("ss -ltnH").stdout).not.toMatch(/:27017\b/);
  // The network left without its range before the power-off was made again with it.
  expect(inside("journalctl -b -u studyhost-docker-network.service -o cat").stdout).toContain(
    `removed the Docker network studyhost made without --ip-range ${DYNAMIC_RANGE}`,
  );
  expect(networkRange()).toBe(DYNAMIC_RANGE);
  // The logs' folders were on the volume again before anything wrote there: the boot disk's are still
  // empty, and the journal on the volume holds both boots.
  for (const folder of LOG_FOLDERS) {
    expect([folder, inside(`mountpoint -q /var/log/${folder} && echo mounted`).stdout.trim()]).toEqual([folder, "mounted"]);
    expect([folder, filesOnBootDisk(folder)]).toEqual([folder, []]);
  }
  expect(inside("journalctl --list-boots --no-pager | wc -l").stdout.trim()).not.toMatch(/^[01]$/);
  expect(journalOnVolume(["-b", "-1", "-u", "emission.service"])).toContain("e-mission server STAND-IN");
});

test("the README's one-time command for a running host with an old network makes it again with the range, and everything comes back", async () => {
  // As a host made before the range has it (the network made by hand, as above), the command taken
  // from the README as written, with the app's name for <app>.
  const old = inside(`${OLD_NETWORK} && systemctl start studyhost-mongodb.service emission.service`);
  expect([old.status, old.stderr]).toEqual([0, ""]);
  await lab.answers(`/read?id=${token}`, 60_000);
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const block = /```sh\n(\s*timers=\$\(systemctl list-units[^`]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  // Its lines run as written, stopping at the first that fails.
  const r = inside(`set -e\n${block!.replaceAll("<app>", NAME)}`);
  expect([r.status, r.stderr]).toEqual([0, ""]);
  expect(networkRange()).toBe(DYNAMIC_RANGE);
  expect(inside("systemctl is-active studyhost-job-push_60.timer studyhost-job-intake.timer studyhost-mongodb.service emission.service").stdout).toBe(
    "active\n".repeat(4),
  );
  await lab.answers(`/read?id=${token}`, 60_000);
  expect(api(`/read?id=${token}`).json.docs).toEqual([{ _id: token, value: "written-through-nginx" }]);
});
