// The viewbovis preset against its guide, ../shared/seeds/003_3705a38d04715ead.txt ("Production"):
// each assertion names the section it checks. Rendered from Pulumi.viewbovis.yaml as `plan --out` does.
import { EC2_START_TARGET, EC2_STOP_TARGET } from "../../src/clouds/awsPowerSchedule";
import { ofType, planOf } from "../helpers";
import { AppHostView, configError, example, renderAppHost } from "./support";

let aws: AppHostView;
let withStaging: AppHostView;
beforeAll(async () => {
  // The example carries its staging copy (on AWS its files travel in S3: over the user-data limit).
  aws = await renderAppHost(example("viewbovis"), "aws");
  withStaging = await renderAppHost(example("viewbovis"), "digitalocean");
}, 60_000);

const unit = (h: AppHostView, name: string) => h.file(`etc/systemd/system/${name}`);
const execStart = (text: string) => /^ExecStart=(.*)$/m.exec(text)![1];

test("Docker container: the image on the host's network, the data bound read-only at /data, never root", () => {
  const run = execStart(unit(aws, "viewbovis.service"));
  expect(run).toMatch(/^\/usr\/bin\/docker run --rm --name viewbovis --user \$\{APP_UID\}:\$\{APP_GID\} --network host /);
  expect(run).toContain("-v /var/lib/studyhost/viewbovis/data:/data:ro");
  expect(run).toContain(" aphacsubot/viewbovis:prod ");
  expect(unit(aws, "viewbovis.service")).toMatch(/^Restart=always$/m);
});

test("Gunicorn production server: 4 workers on 127.0.0.1:3000, access and error logs kept on the host (Logging)", () => {
  const run = execStart(unit(aws, "viewbovis.service"));
  // $ doubled: systemd passes $PORT and $LOG_DIR through to the container's shell.
  expect(run).toContain(
    'sh -c "exec gunicorn -b \\"127.0.0.1:$$PORT\\" -w 4 deploy:app --log-level=info --access-logfile \\"$$LOG_DIR/access.log\\" --error-logfile \\"$$LOG_DIR/error.log\\""',
  );
  expect(aws.file("etc/viewbovis/docker.env")).toMatch(/^PORT=3000$/m);
  expect(run).toContain("-v /var/log/viewbovis:/var/log/viewbovis --env LOG_DIR=/var/log/viewbovis");
});

test("On startup: the production data pulled from the bucket at every boot, before the app starts", () => {
  const fetch = unit(aws, "studyhost-fetch-viewbovis.service");
  expect(fetch).toMatch(/^Before=viewbovis\.service$/m);
  expect(fetch).toMatch(/^WantedBy=multi-user\.target$/m);
  expect(aws.file("etc/studyhost/fetch-viewbovis.env")).toMatch(/viewbovis-production-data/);
});

test("nginx proxy server: the Auspice dashboard on its own subdomain (port 4001) through the same nginx", () => {
  const site = aws.file("etc/nginx/sites-available/studyhost-nextstrain.conf");
  expect(site).toContain("server_name nextstrain.viewbovis.example.org;");
  expect(site).toContain("proxy_pass http://127.0.0.1:4001;");
  expect(aws.file("etc/nginx/sites-available/studyhost-viewbovis.conf")).toContain("proxy_pass http://127.0.0.1:3000;");
  expect(execStart(unit(aws, "nextstrain.service"))).toMatch(/nextstrain\/auspice:2\.51\.0 auspice view --datasetDir \/data$/);
});

test("Analytics: a daily count of requests per path from each site's nginx log into dated JSON files", () => {
  expect(execStart(unit(aws, "studyhost-analytics.service"))).toBe(
    "/usr/bin/python3 /usr/local/lib/studyhost/analytics.py --out /var/lib/studyhost/analytics --keep-days 90 viewbovis_staging=/var/log/nginx/viewbovis_staging.access.log viewbovis=/var/log/nginx/viewbovis.access.log nextstrain=/var/log/nginx/nextstrain.access.log",
  );
  expect(unit(aws, "studyhost-analytics.timer")).toMatch(/^Persistent=true$/m);
});

test("Automated operational procedures: on at 08:00 and off at 22:00 on AWS; refused on DigitalOcean, which bills a stopped droplet", async () => {
  const base = example("viewbovis");
  const plan = await planOf(base);
  const schedules = ofType(plan, "aws:scheduler/schedule:Schedule").map((r) => r.inputs as Record<string, any>);
  const expressions = Object.fromEntries(schedules.map((s) => [s.target.arn, [s.scheduleExpression, s.scheduleExpressionTimezone]]));
  expect(expressions).toEqual({
    [EC2_START_TARGET]: ["cron(0 8 * * ? *)", "Europe/London"],
    [EC2_STOP_TARGET]: ["cron(0 22 * * ? *)", "Europe/London"],
  });
  expect(configError({ ...base, cloud: "digitalocean", region: "lon1" })).toMatch(/^studyhost:powerSchedule: .*DigitalOcean/);
});

test("Deployment: the testing instance on the test subdomain, its own data, deployed and checked before production", () => {
  const provision = withStaging.file("usr/local/sbin/studyhost-provision");
  const order = /for current in ([^;]+); do/.exec(provision)![1].split(" ");
  expect(order.indexOf("health-viewbovis-staging")).toBeLessThan(order.indexOf("app"));
  expect(provision).toMatch(/app.*needs.*health-viewbovis-staging/s);
  expect(execStart(unit(withStaging, "viewbovis_staging.service"))).toContain(" aphacsubot/viewbovis:prod-test ");
  expect(withStaging.file("etc/viewbovis_staging/docker.env")).toMatch(/^PORT=3001$/m);
  expect(unit(withStaging, "studyhost-fetch-viewbovis_staging.service")).toMatch(/^Before=viewbovis_staging\.service$/m);
  expect(withStaging.file("etc/nginx/sites-available/studyhost-viewbovis_staging.conf")).toContain("server_name test.viewbovis.example.org;");
});

test("bad options stop with one line naming the key", () => {
  const base = example("viewbovis");
  const app = base.app as Record<string, unknown>;
  expect(configError({ ...base, app: { ...app, data: undefined } })).toMatch(/^studyhost:app\.data: missing; expected where the production data comes from/);
  expect(configError({ ...base, app: { ...app, image: "Not An Image!" } })).toMatch(/^studyhost:app\.image: got "Not An Image!"; expected an image reference/);
  expect(configError(base)).toBe("");
});
