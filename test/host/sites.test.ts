// Several apps on one host (studyhost:sites) and a staging copy of the app (studyhost:staging), rendered
// (test/support/stacks/sites.ts) and checked with the real programs: nginx -t with every site at once,
// systemd-analyze verify for every app's unit, shellcheck (the provisioning script with stub steps,
// which test/sites.test.ts runs, included), cloud-init schema. The plan and what the hosts hold:
// test/sites.test.ts. Needs Debian's nginx, openssl, systemd, shellcheck and cloud-init.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeRendered, renderHosts, RenderedHost, walk } from "../support/render";
import { runCaptured } from "../support/processes";
import { APPS, NAMES, siteHostStacks, stubbedProvision } from "../support/stacks/sites";
import { verifyUnits } from "../support/verify";
import { writeSelfSigned } from "../support/certificates";

jest.setTimeout(120_000);

let hosts: RenderedHost[];
let appHosts: RenderedHost[];
beforeAll(async () => {
  hosts = await renderHosts(siteHostStacks());
  appHosts = hosts.filter((h) => h.host === "study-app");
});
afterAll(() => {
  removeRendered(hosts);
});

/** Status and output only: what these tests compare whole. */
const run = (...args: Parameters<typeof runCaptured>) => {
  const { status, output } = runCaptured(...args);
  return { status, output };
};

test("every user-data passes cloud-init's schema (on DigitalOcean, over 64 KiB plain, with its files gzipped)", () => {
  expect(hosts.length).toBe(5);
  const doLarge = readFileSync(join(appHosts.find((x) => x.label.startsWith("do-large"))!.dir, "user-data"), "utf8");
  expect(doLarge).toContain("encoding: gz+b64");
  expect(Buffer.byteLength(doLarge)).toBeLessThanOrEqual(64 * 1024);
  for (const h of hosts) {
    const r = run("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")]);
    expect([h.label, r]).toEqual([h.label, { status: 0, output: `Valid cloud-config: ${join(h.dir, "user-data")}` }]);
  }
});

test("every script passes shellcheck, the provisioning and certificate scripts included", () => {
  let scripts = 0;
  for (const h of hosts) {
    for (const rel of walk(h.root)) {
      const file = join(h.root, rel);
      if (/^#!\/bin\/(ba)?sh/.test(readFileSync(file, "utf8"))) {
        expect([h.label, rel, run("shellcheck", [file])]).toEqual([h.label, rel, { status: 0, output: "" }]);
        scripts++;
      }
    }
  }
  // Each app host has a deploy script per app (4), plus provisioning, certificate, backup, restore, ...
  expect(scripts).toBeGreaterThan(appHosts.length * 9);
});

test("one nginx site (and holding page) per app, each with its own names; all of them together pass nginx -t", () => {
  for (const h of appHosts) {
    const root = `${h.dir}-nginx-root`;
    cpSync(h.root, root, { recursive: true });
    const available = join(root, "etc/nginx/sites-available");
    const files = readdirSync(available).sort();
    expect([h.label, files]).toEqual([
      h.label,
      ["studyhost-default.conf", ...APPS.flatMap((a) => [`studyhost-${a}-holding.conf`, `studyhost-${a}.conf`])].sort(),
    ]);
    for (const [app, names] of Object.entries(NAMES)) {
      const text = readFileSync(join(available, `studyhost-${app}.conf`), "utf8");
      expect([h.label, app, [...text.matchAll(/server_name ([^;]+);/g)].map((m) => m[1])]).toEqual([h.label, app, [names.join(" "), names.join(" ")]]);
      expect(text).toContain(`ssl_certificate /etc/letsencrypt/live/${names[0]}/fullchain.pem;`);
    }
    expect(readFileSync(join(available, "studyhost-nextstrain.conf"), "utf8")).toContain("proxy_pass http://127.0.0.1:4001;");
    expect(readFileSync(join(available, "studyhost-study_staging.conf"), "utf8")).toContain("proxy_pass http://127.0.0.1:8001;");

    const relocate = (text: string) => text.replace(/(?<=[\s'"])\/(etc\/nginx|etc\/letsencrypt|var\/www|var\/log\/nginx)\//g, `${root}/$1/`);
    for (const f of files) writeFileSync(join(available, f), relocate(readFileSync(join(available, f), "utf8")));
    mkdirSync(join(root, "var/log/nginx"), { recursive: true });
    for (const names of Object.values(NAMES)) {
      writeSelfSigned(join(root, "etc/letsencrypt/live", names[0]), names[0]);
    }
    // As on the host once every certificate exists: every full site at once (a clash of names or
    // ports between sites would be an error or a warning here), and likewise every holding page.
    for (const kind of ["full", "holding"]) {
      const sites = files.filter((f) => f !== "studyhost-default.conf" && f.endsWith("-holding.conf") === (kind === "holding"));
      expect(sites.length).toBe(APPS.length);
      const conf = join(root, `nginx-${kind}.conf`);
      writeFileSync(
        conf,
        `pid ${root}/nginx.pid;\nerror_log ${root}/error.log;\nevents {}\nhttp {\n  include /etc/nginx/mime.types;\n  include ${available}/studyhost-default.conf;\n${sites.map((s) => `  include ${available}/${s};\n`).join("")}}\n`,
      );
      expect([h.label, kind, run("nginx", ["-t", "-q", "-c", conf])]).toEqual([h.label, kind, { status: 0, output: "" }]);
    }
    rmSync(root, { recursive: true, force: true });
  }
});

test("every unit passes systemd-analyze verify with no output", () => {
  for (const h of appHosts) {
    for (const { unit, output } of verifyUnits(h)) expect([h.label, unit, output]).toEqual([h.label, unit, ""]);
  }
});

test("the provisioning script with stub steps (what test/sites.test.ts runs) passes shellcheck", () => {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-provision-"));
  try {
    const script = stubbedProvision(
      appHosts.find((x) => x.label.startsWith("do-large"))!,
      dir,
    );
    expect(run("shellcheck", [script])).toEqual({ status: 0, output: "" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
