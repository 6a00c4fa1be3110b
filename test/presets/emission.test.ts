// The emission preset against its guide, ../shared/seeds/002_c95effa649e2b542.txt ("Deploying Your Own
// Server to Production"): each assertion names the section it checks. Rendered from
// Pulumi.emission.yaml as `plan --out` does, on DigitalOcean (the example's cloud) and on AWS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { one, onCloud, planOf } from "../helpers";
import { AppHostView, configError, example, renderAppHost } from "./support";

let digitalocean: AppHostView;
let aws: AppHostView;
let ownSchedules: AppHostView;
beforeAll(async () => {
  digitalocean = await renderAppHost(example("emission"), "digitalocean");
  aws = await renderAppHost(example("emission"), "aws");
  const app = example("emission").app as Record<string, unknown>;
  ownSchedules = await renderAppHost(
    example("emission", { app: { ...app, intake: { schedule: "30 2 * * *", processes: 2 }, push: { schedules: { "600": "*/15 * * * *" } } } }),
  );
}, 90_000);

const unit = (h: AppHostView, name: string) => h.file(`etc/systemd/system/${name}`);
const execStart = (text: string) => /^ExecStart=(.*)$/m.exec(text)![1];
const dockerEnv = (h: AppHostView) => Object.fromEntries([...h.file("etc/emission/docker.env").matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
const onCalendar = (h: AppHostView, job: string) => [...unit(h, `studyhost-job-${job}.timer`).matchAll(/^OnCalendar=(.*)$/gm)].map((m) => m[1]);

test("The webserver: cfc_webapp.py from the pinned image, restarted by its watchdog (systemd Restart=always for supervisord's autorestart)", () => {
  const service = unit(digitalocean, "emission.service");
  const run = execStart(service);
  expect(run).toMatch(/^\/usr\/bin\/docker run --rm --name emission --user \$\{APP_UID\}:\$\{APP_GID\} --network studyhost /);
  expect(run).toContain(' emission/e-mission-server:v3.2.0 bash -c ". setup/activate.sh && exec ./e-mission-py.bash emission/net/api/cfc_webapp.py"');
  expect(service).toMatch(/^Restart=always$/m);
  expect(service).toMatch(/^WantedBy=multi-user\.target$/m);
});

test("Configure the server: conf/storage/db.conf holds the MongoDB URL, root-only as written, mounted read-only where the image reads it", () => {
  const db = JSON.parse(digitalocean.file("etc/emission/db.conf"));
  expect(db.timeseries.url).toBe(dockerEnv(digitalocean).MONGO_URL);
  // Running the database on a different server: here MongoDB by name on the private network, with the app user's password.
  expect(db.timeseries.url).toMatch(/^mongodb:\/\/emission:[^@]+@mongodb:27017\/emission\?authSource=emission$/);
  expect(digitalocean.permissions("/etc/emission/db.conf")).toBe("0600");
  expect(execStart(unit(digitalocean, "emission.service"))).toContain("-v /etc/emission/db.conf:/usr/src/app/conf/storage/db.conf:ro");
  expect(digitalocean.file("usr/local/sbin/studyhost-deploy-emission")).toContain("chgrp emission /etc/emission/db.conf && chmod 0640 /etc/emission/db.conf");
});

test("Configuring the webserver / authentication: conf/net/api/webserver.conf with the port, 0.0.0.0 inside the container and the auth method; only nginx reaches the port", () => {
  const conf = JSON.parse(digitalocean.file("etc/emission/webserver.conf"));
  expect(conf.server).toEqual({ host: "0.0.0.0", port: "8080", timeout: "3600", auth: "token_list" });
  const run = execStart(unit(digitalocean, "emission.service"));
  expect(run).toContain("-v /etc/emission/webserver.conf:/usr/src/app/conf/net/api/webserver.conf:ro");
  // Running behind a reverse proxy: published on 127.0.0.1 only; nginx terminates TLS and proxies.
  expect(run).toContain("--publish 127.0.0.1:8080:8080 ");
  expect(digitalocean.file("etc/nginx/sites-available/studyhost-emission.conf")).toContain("proxy_pass http://127.0.0.1:8080;");
  expect(digitalocean.file("etc/nftables.conf")).not.toMatch(/8080|27017/);
});

test("Running the database on a different server (optional): MongoDB on the app host's private network, data on the volume, no published port", () => {
  const run = execStart(unit(digitalocean, "studyhost-mongodb.service"));
  expect(run).toContain("--network studyhost");
  expect(run).toContain("--network-alias mongodb");
  expect(run).toContain("-v /var/lib/studyhost/mongodb:/data/db");
  expect(run).not.toMatch(/--publish|-p /);
  const manifest = JSON.parse(digitalocean.file("etc/studyhost/manifest.rendered.json"));
  expect(manifest.accessories.mongodb).toMatchObject({ published: false, network: "studyhost", data: "/var/lib/studyhost/mongodb" });
});

test("The analysis pipeline: intake_multiprocess.py 3 @daily in a container of the image with the conf files, its log kept, loud on failure", () => {
  expect(onCalendar(digitalocean, "intake")).toEqual(["*-*-* 00:00:00"]);
  const script = digitalocean.file("usr/local/lib/studyhost/jobs/intake.sh");
  expect(script).toContain("--network studyhost");
  expect(script).toContain("-v /etc/emission/db.conf:/usr/src/app/conf/storage/db.conf:ro");
  expect(script).toContain(`'emission/e-mission-server:v3.2.0' -c 'bash -c ". setup/activate.sh && PYTHONPATH=. python bin/intake_multiprocess.py 3"'`);
  const service = unit(digitalocean, "studyhost-job-intake.service");
  expect(service).toContain("ExecStart=/usr/local/lib/studyhost/run-job /var/log/emission/intake.log /usr/local/lib/studyhost/jobs/intake.sh");
  expect(service).toMatch(/^OnFailure=studyhost-alert@%n\.service$/m);
  expect(unit(digitalocean, "studyhost-job-intake.timer")).toMatch(/^Persistent=true$/m);
  // The schedule and process count are options ("You can customize the frequency of the cronjob").
  expect(onCalendar(ownSchedules, "intake")).toEqual(["*-*-* 02:30:00"]);
  expect(ownSchedules.file("usr/local/lib/studyhost/jobs/intake.sh")).toContain("bin/intake_multiprocess.py 2");
});

test("The iOS silent push: silent_ios_push.py for 60, 600, 1800 and 3600 s on the guide's crons; push.json from the app's env (Configuring push)", () => {
  expect(onCalendar(digitalocean, "push_60")).toEqual(["*-*-* *:*:00"]);
  expect(onCalendar(digitalocean, "push_600")).toEqual(["*-*-* *:00/10:00"]);
  expect(onCalendar(digitalocean, "push_1800")).toEqual(["*-*-* *:00,30:00"]);
  expect(onCalendar(digitalocean, "push_3600")).toEqual(["*-*-* *:00:00"]);
  expect(digitalocean.file("usr/local/lib/studyhost/jobs/push_600.sh")).toContain("PYTHONPATH=. python bin/push/silent_ios_push.py 600");
  expect(unit(digitalocean, "studyhost-job-push_60.service")).toContain("/var/log/emission/push_60.log");
  expect(JSON.parse(digitalocean.file("etc/emission/push.json"))).toEqual({
    provider: "firebase",
    server_auth_token: "replace-with-your-firebase-server-token",
  });
  expect(execStart(unit(digitalocean, "emission.service"))).toContain("-v /etc/emission/push.json:/usr/src/app/conf/net/ext_service/push.json:ro");
  // Schedules are options; the ones given replace the guide's.
  expect(onCalendar(ownSchedules, "push_600")).toEqual(["*-*-* *:00/15:00"]);
  expect(() => unit(ownSchedules, "studyhost-job-push_60.timer")).toThrow();
});

test("Configuring logs / cryptfs: e-mission's log files on the data volume, not /var/tmp; on AWS the data volume and boot disk are EBS-encrypted", async () => {
  for (const name of ["webserver", "intake"]) {
    const conf = JSON.parse(digitalocean.file(`etc/emission/log-${name}.conf`));
    expect(Object.values(conf.handlers).flatMap((h) => ((h as { filename?: string }).filename ? [(h as { filename: string }).filename] : []))).toEqual([
      `/var/emission/logs/${name}.log`,
      `/var/emission/logs/${name}-errors.log`,
    ]);
    expect(execStart(unit(digitalocean, "emission.service"))).toContain(`-v /etc/emission/log-${name}.conf:/usr/src/app/conf/log/${name}.conf:ro`);
  }
  expect(execStart(unit(digitalocean, "emission.service"))).toContain("-v /var/lib/studyhost/emission/logs:/var/emission/logs ");
  const plan = await planOf(onCloud(example("emission"), "aws"), "aws-emission");
  expect(one(plan, "aws:ebs/volume:Volume", "study-app-data").inputs).toMatchObject({ encrypted: true });
  expect(one(plan, "aws:ec2/instance:Instance", "study-app-server").inputs.rootBlockDevice).toMatchObject({ encrypted: true });
});

test("Configuring logs / cryptfs: the journal, nginx's logs and the jobs' run logs on the data volume too (logsOnDataVolume, the preset's default); no container keeps a log copy on the boot disk", async () => {
  const script = digitalocean.file("usr/local/sbin/studyhost-provision");
  for (const [folder, unitName] of [
    ["journal", "var-log-journal.mount"],
    ["nginx", "var-log-nginx.mount"],
    ["emission", "var-log-emission.mount"],
  ]) {
    const mount = unit(digitalocean, unitName);
    expect(mount).toContain(`What=/var/lib/studyhost/logs/${folder}\nWhere=/var/log/${folder}\nType=none\nOptions=bind\n`);
    // After the volume, before every ordinary service (local-fs.target), so no writer finds the boot disk's folder.
    expect(mount).toMatch(/^RequiresMountsFor=\/var\/lib\/studyhost$/m);
    expect(mount).toMatch(/^Before=local-fs\.target$/m);
    expect(mount).toMatch(/^WantedBy=local-fs\.target$/m);
    expect(script).toContain(`systemctl enable ${unitName}`);
  }
  // Each writer requires its folder's mount: nginx by a drop-in, the app and its jobs in their units
  // (the journal's flush to /var has RequiresMountsFor=/var/log/journal in systemd itself).
  // (Each site's access log is in nginx's folder too.)
  expect(digitalocean.file("etc/nginx/sites-available/studyhost-emission.conf")).toContain("access_log /var/log/nginx/emission.access.log;");
  expect(digitalocean.file("etc/systemd/system/nginx.service.d/studyhost-logs.conf")).toBe("[Unit]\nRequiresMountsFor=/var/log/nginx\n");
  for (const name of ["emission.service", "studyhost-job-intake.service", "studyhost-job-push_60.service"])
    expect([name, unit(digitalocean, name)]).toEqual([name, expect.stringMatching(/^RequiresMountsFor=\/var\/lib\/studyhost \/var\/log\/emission$/m)]);
  // The folders move before anything is set up that writes there (the app, nginx's sites).
  const order = /^for current in (.*); do$/m.exec(script)![1].split(" ");
  const at = (step: string) => order.indexOf(step);
  expect(at("logs-on-volume")).toBeGreaterThan(0);
  for (const later of ["mongodb", "app", "nginx"]) expect([later, at(later) > at("logs-on-volume")]).toEqual([later, true]);
  // No text copy of the journal on the boot disk (Ubuntu's images run rsyslog): journald does not forward to syslog.
  expect(digitalocean.file("etc/systemd/journald.conf.d/studyhost-logs.conf")).toMatch(/^\[Journal\]\nForwardToSyslog=no$/m);
  // Docker's own log store is on the boot disk (/var/lib/docker): every container's output goes to its unit's journal only.
  expect(execStart(unit(digitalocean, "emission.service"))).toContain(" --log-driver none ");
  expect(execStart(unit(digitalocean, "studyhost-mongodb.service"))).toContain(" --log-driver none ");
  expect(digitalocean.file("usr/local/lib/studyhost/jobs/intake.sh")).toContain(" --log-driver none ");
  // The manifest tells operators where the logs are.
  expect(JSON.parse(digitalocean.file("etc/studyhost/manifest.rendered.json")).paths).toMatchObject({
    logs: "/var/log/emission",
    logsOnVolume: "/var/lib/studyhost/logs",
  });
  // A stack can still keep them on the boot disk (false): no mount units then.
  const onBootDisk = await renderAppHost(example("emission", { logsOnDataVolume: false }));
  expect(() => unit(onBootDisk, "var-log-journal.mount")).toThrow();
  expect(onBootDisk.file("usr/local/sbin/studyhost-provision")).not.toContain("logs-on-volume");
});

test("Upgrade to production: NTP (chrony) installed and enabled, so tokens do not expire from clock drift", () => {
  for (const h of [digitalocean, aws]) {
    const cloudConfig = parse(readFileSync(join(h.host.dir, "user-data"), "utf8")) as { packages: string[] };
    expect(cloudConfig.packages).toContain("chrony");
    expect(h.file("usr/local/sbin/studyhost-provision")).toMatch(/^systemctl enable --now chrony\.service/m);
  }
});

test("bad options stop with one line naming the key", () => {
  const base = example("emission");
  const app = base.app as Record<string, unknown>;
  // e-mission never creates studyhost's SQLite file: its backup would fail every night (found by the boot).
  expect(configError({ ...base, database: { engine: "sqlite" } })).toBe(
    "studyhost:database.engine: emission keeps its data in MongoDB (seed 002) and never creates studyhost's SQLite file: use none (the preset's default) or postgres",
  );
  expect(configError({ ...base, app: { ...app, image: undefined } })).toBe(
    "studyhost:app.image: missing; expected the e-mission server image, e.g. emission/e-mission-server:v3.2.0 (a pinned tag or digest) (the emission preset)",
  );
  expect(configError({ ...base, app: { ...app, image: "emission/e-mission-server:latest" } })).toBe(
    'studyhost:app.image: got "emission/e-mission-server:latest"; expected a pinned tag or digest, such as emission/e-mission-server:v3.2.0 (not latest, not untagged) (the emission preset)',
  );
  expect(configError({ ...base, app: { ...app, image: "emission/e-mission-server" } })).toMatch(
    /^studyhost:app\.image: got "emission\/e-mission-server"; expected a pinned tag or digest/,
  );
  expect(configError({ ...base, app: { ...app, auth: "skip" } })).toBe(
    'studyhost:app.auth: skip lets anybody who knows a user\'s email read their timeline (seed 002, "Running behind a reverse proxy"); expected a real auth method such as token_list',
  );
  // A preset's own options speak like every other key: no "Too big: expected number to be <=64".
  expect(configError({ ...base, app: { ...app, intake: { processes: 100 } } })).toBe(
    "studyhost:app.intake.processes: got 100; expected a whole number from 1 to 64, such as 3 (the emission preset)",
  );
  expect(configError({ ...base, app: { ...app, push: "hourly" } })).toMatch(
    /^studyhost:app\.push: got "hourly"; expected a map of keys and values: .* \(the emission preset\)$/,
  );
  expect(configError({ ...base, app: { ...app, intake: { schedule: "@reboot" } } })).toMatch(
    /^studyhost:app\.intake\.schedule: got "@reboot"; .*@reboot is not a schedule/,
  );
  expect(configError({ ...base, app: { ...app, push: { schedules: { "1m": "* * * * *" } } } })).toBe(
    "studyhost:app.push.schedules.1m: expected a sync interval in seconds such as 600 (silent_ios_push.py's argument)",
  );
  // push.json's token comes from the app's env: without it, the file names a variable that is not there.
  const { env: _env, ...withoutToken } = app;
  expect(configError({ ...base, app: withoutToken })).toBe(
    "studyhost:app.configFiles.4.content: got a value of 81 characters (not shown); ${PUSH_SERVER_AUTH_TOKEN} is not in the app's env; expected one of PORT, SECRET_KEY, ADMIN_PASSWORD, DATABASE_URL, MONGO_URL",
  );
  expect(configError(base)).toBe("");
});
