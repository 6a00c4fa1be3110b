// The machinery behind test/host/tls.test.ts: a scratch folder laid out like a host's /etc/nginx,
// /etc/letsencrypt and /var/www, a local ACME server (Pebble) with a DNS server that sends every
// name to 127.0.0.1, a small WSGI app under gunicorn, and nginx on the rendered ports 80 and 443.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultServer,
  fullSite,
  holdingSite,
  nginxPart,
  NginxPaths,
  PATHS,
  Site,
  TlsSettings,
  HEADERS_SNIPPET,
  PROXY_SNIPPET,
  TLS_SNIPPET,
} from "../../src/host";
import { accepts, assertCanBind, Daemons, freePort, run, runOk, waitFor } from "./processes";

export const NAME = "study.example.org";
export const NGINX = "/usr/sbin/nginx";

export interface Lab {
  readonly dir: string;
  readonly paths: NginxPaths;
  readonly site: Site;
  readonly tls: TlsSettings;
  readonly daemons: Daemons;
  /** The CA that signed Pebble's own HTTPS certificate: what certbot must trust to talk to it. */
  readonly acmeCa: string;
  /** dnsManagement: pebble-challtestsrv's API, which can make a name fail to resolve (/set-servfail). */
  readonly ports: { readonly app: number; readonly acme: number; readonly acmeManagement: number; readonly dns: number; readonly dnsManagement: number };
  readonly nginxConf: string;
  /** nginx's arguments: the scratch config, and (-e) where to log before that config is read. */
  readonly nginxArgs: readonly string[];
  readonly nginxErrorLog: string;
  /** certbot's state folders (config = paths.letsencrypt) as flags. */
  readonly certbotDirs: readonly string[];
}

/** Builds the scratch folder and starts Pebble, its DNS server and the app. nginx comes after. */
export async function startLab(): Promise<Lab> {
  // Fail before starting anything if the rendered ports are taken (nothing here may pick others).
  for (const port of [80, 443]) {
    await assertCanBind(port, "0.0.0.0");
    await assertCanBind(port, "::");
  }
  const dir = mkdtempSync(join(tmpdir(), "studyhost-tls-"));
  // nginx's workers run as www-data, as on a host: they must be able to walk to the webroot,
  // the holding page and the static files.
  chmodSync(dir, 0o755);
  const sub = (name: string) => {
    const p = join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const paths: NginxPaths = {
    nginx: sub("etc/nginx"),
    letsencrypt: sub("etc/letsencrypt"),
    webroot: sub("var/www/letsencrypt"),
    holding: sub("var/www/studyhost"),
    logs: sub("var/log/nginx"),
  };
  const daemons = new Daemons(sub("daemon-logs"));
  try {
    const ports = { app: await freePort(), acme: await freePort(), acmeManagement: await freePort(), dns: await freePort(), dnsManagement: await freePort() };
    const acmeCa = await startPebble(dir, ports, daemons);
    const staticDir = sub("srv/static");
    writeFileSync(join(staticDir, "style.css"), "body { color: #333; }\n");
    await startApp(sub("srv/app"), ports.app, daemons);
    const site: Site = {
      name: "study",
      serverNames: [NAME, `www.${NAME}`],
      port: ports.app,
      static: { urlPath: "/static", dir: staticDir },
      adminPaths: ["/admin"],
      adminCidrs: ["127.0.0.1/32"],
      maxBodyMb: 1,
    };
    const tls: TlsSettings = {
      domains: site.serverNames,
      email: "it@example.org",
      acmeDirectory: `https://127.0.0.1:${ports.acme}/dir`,
      caBundle: readFileSync(acmeCa, "utf8"),
    };
    const nginxErrorLog = join(paths.logs, "error.log");
    const nginxConf = writeNginxConf(dir, paths, nginxErrorLog);
    const certbotDirs = ["--config-dir", paths.letsencrypt, "--work-dir", sub("var/lib/letsencrypt"), "--logs-dir", sub("var/log/letsencrypt")];
    return { dir, paths, site, tls, daemons, acmeCa, ports, nginxConf, nginxArgs: ["-c", nginxConf, "-e", nginxErrorLog], nginxErrorLog, certbotDirs };
  } catch (e) {
    await daemons.stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function startPebble(dir: string, ports: Lab["ports"], daemons: Daemons): Promise<string> {
  // Debian's pebble ships no certificates for its own HTTPS endpoint: make a CA and a leaf for 127.0.0.1.
  const d = join(dir, "pebble");
  mkdirSync(d);
  const f = (name: string) => join(d, name);
  runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=studyhost test ACME endpoint CA",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
  ]);
  runOk("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f("key.pem"), "-out", f("cert.csr")]);
  writeFileSync(f("cert.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n");
  runOk("openssl", [
    "x509",
    "-req",
    "-in",
    f("cert.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    f("cert.ext"),
    "-out",
    f("cert.pem"),
  ]);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${ports.acme}`,
      managementListenAddress: `127.0.0.1:${ports.acmeManagement}`,
      certificate: f("cert.pem"),
      privateKey: f("key.pem"),
      // HTTP-01 validation connects to the name on this port: nginx's rendered `listen 80`.
      httpPort: 80,
      tlsPort: await freePort(), // TLS-ALPN-01 is never offered by certbot --webroot
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  };
  writeFileSync(f("config.json"), JSON.stringify(config, null, 2));
  // Every name resolves to 127.0.0.1, so validating study.example.org reaches our nginx.
  daemons.start("challtestsrv", "pebble-challtestsrv", [
    "-dns01",
    `127.0.0.1:${ports.dns}`,
    "-http01",
    "",
    "-https01",
    "",
    "-tlsalpn01",
    "",
    "-management",
    `127.0.0.1:${ports.dnsManagement}`,
    "-defaultIPv4",
    "127.0.0.1",
    "-defaultIPv6",
    "",
  ]);
  // NOSLEEP: no random validation delay; NONCEREJECT=0: none of Pebble's deliberate bad-nonce errors.
  daemons.start("pebble", "pebble", ["-config", f("config.json"), "-dnsserver", `127.0.0.1:${ports.dns}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
  });
  await waitFor(
    "pebble-challtestsrv's DNS server",
    async () => (daemons.assertAlive("challtestsrv"), accepts(ports.dns)),
    15_000,
    () => daemons.log("challtestsrv"),
  );
  await waitFor(
    "Pebble's ACME directory",
    () => (daemons.assertAlive("pebble"), run("curl", ["-sf", "--max-time", "2", "--cacert", f("ca.pem"), `https://127.0.0.1:${ports.acme}/dir`]).status === 0),
    15_000,
    () => daemons.log("pebble"),
  );
  return f("ca.pem");
}

// A stand-in for a study app: just enough to see what nginx passes on to it and what it keeps to itself.
const APP = `import json

seen = []   # every path this worker was asked for: the test proves /static never gets here
notes = []  # a write then a read, through nginx

def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ["REQUEST_METHOD"]
    if path == "/_seen":  # asked directly on the app's port, never through nginx
        return reply(start_response, "200 OK", json.dumps(seen), "application/json")
    seen.append(path)
    if path == "/":
        return reply(start_response, "200 OK", "studyhost test app: hello\\n")
    if path == "/echo-headers":
        names = ["HTTP_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_FOR"]
        return reply(start_response, "200 OK", json.dumps({n: environ.get(n) for n in names}), "application/json")
    if path.startswith("/admin/"):
        return reply(start_response, "200 OK", "admin area\\n")
    if path == "/notes" and method == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        notes.append(environ["wsgi.input"].read(size).decode())
        return reply(start_response, "201 Created", "saved\\n")
    if path == "/notes":
        return reply(start_response, "200 OK", json.dumps(notes), "application/json")
    return reply(start_response, "404 Not Found", "not found\\n")

def reply(start_response, status, body, kind="text/plain"):
    data = body.encode()
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]
`;

async function startApp(dir: string, port: number, daemons: Daemons): Promise<void> {
  writeFileSync(join(dir, "app.py"), APP);
  // One worker, so the app's memory (seen, notes) is one list.
  daemons.start("gunicorn", "/usr/bin/gunicorn", ["--bind", `127.0.0.1:${port}`, "--workers", "1", "--chdir", dir, "app:application"]);
  await waitFor(
    `gunicorn on 127.0.0.1:${port}`,
    async () => (daemons.assertAlive("gunicorn"), accepts(port)),
    15_000,
    () => daemons.log("gunicorn"),
  );
}

/**
 * The host's nginx.conf, moved under the scratch folder. The http-level TLS lines are those of Debian's
 * stock /etc/nginx/nginx.conf, which the rendered sites run under on a host: they allow TLS 1.0 and 1.1,
 * so the TLS test also proves that the rendered snippet overrides them.
 */
function writeNginxConf(dir: string, p: NginxPaths, errorLog: string): string {
  const temp = join(dir, "var/lib/nginx");
  mkdirSync(temp, { recursive: true });
  mkdirSync(join(p.nginx, "sites-available"));
  mkdirSync(join(p.nginx, "sites-enabled"));
  mkdirSync(join(p.nginx, "snippets"));
  const conf = join(p.nginx, "nginx.conf");
  writeFileSync(
    conf,
    `user www-data;
worker_processes 1;
pid ${dir}/nginx.pid;
# notice: so the log shows each reload (SIGHUP), which the renewal test looks for.
error_log ${errorLog} notice;
events { worker_connections 256; }
http {
  sendfile on;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
  ssl_prefer_server_ciphers on;
  access_log ${p.logs}/access.log;
  gzip on;
${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${temp}/${t};`).join("\n")}
  include ${p.nginx}/sites-enabled/*;
}
`,
  );
  return conf;
}

/** Writes what nginxPart writes (snippets, default server, both site files, holding page), under the scratch paths. */
export function writeRenderedNginx(lab: Lab): void {
  const { paths: p, site } = lab;
  writeFileSync(join(p.nginx, "snippets/studyhost-tls.conf"), TLS_SNIPPET);
  writeFileSync(join(p.nginx, "snippets/studyhost-headers.conf"), HEADERS_SNIPPET);
  writeFileSync(join(p.nginx, "snippets/studyhost-proxy.conf"), PROXY_SNIPPET);
  writeFileSync(join(p.nginx, "sites-available/studyhost-default.conf"), defaultServer(p));
  writeSiteFiles(lab, site);
  // The holding page is not exported on its own: take it from what the host part writes.
  const page = nginxPart([site], lab.tls).files!.find((f) => f.path === `${PATHS.holding}/holding.html`)!;
  writeFileSync(join(p.holding, "holding.html"), page.content);
}

/** A site's full and holding files, as nginxPart writes them, under the scratch paths. */
export function writeSiteFiles(lab: Lab, site: Site): void {
  writeFileSync(join(lab.paths.nginx, `sites-available/studyhost-${site.name}.conf`), fullSite(site, lab.paths));
  writeFileSync(join(lab.paths.nginx, `sites-available/studyhost-${site.name}-holding.conf`), holdingSite(site, lab.paths));
}

/**
 * A stand-in for systemd's systemctl in `bin` (this machine has no systemd; issue 4 boots real
 * systemd): it records how it was called in the returned file and, for a reload of nginx, does what
 * nginx.service's ExecReload does, so a script's effect on nginx is real.
 */
export function systemctlShim(lab: Lab, bin: string): string {
  const record = join(bin, "systemctl-calls");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "systemctl"),
    `#!/bin/sh
echo "$*" >> ${record}
[ "$*" = "reload nginx.service" ] && exec ${NGINX} ${lab.nginxArgs.join(" ")} -s reload
echo "systemctl shim: unexpected call: $*" >&2
exit 1
`,
  );
  chmodSync(join(bin, "systemctl"), 0o755);
  return record;
}

/** Which site files are enabled, as the provisioning step and the certificate script link them. */
export function enableSites(lab: Lab, names: readonly string[]): void {
  const enabled = join(lab.paths.nginx, "sites-enabled");
  for (const f of ["studyhost-default.conf", `studyhost-${lab.site.name}.conf`, `studyhost-${lab.site.name}-holding.conf`]) {
    try {
      unlinkSync(join(enabled, f));
    } catch {
      // not enabled
    }
  }
  for (const n of names) symlinkSync(`../sites-available/${n}`, join(enabled, n));
}

/** `nginx -t`, with its output in the error if the rendered config does not load. */
export function nginxTest(lab: Lab): void {
  runOk(NGINX, ["-t", ...lab.nginxArgs]);
}

export async function startNginx(lab: Lab): Promise<void> {
  nginxTest(lab);
  // daemon off: nginx stays in the process group the test started, so stopping the group stops it.
  lab.daemons.start("nginx", NGINX, [...lab.nginxArgs, "-g", "daemon off;"]);
  await waitFor(
    "nginx on 80 and 443",
    async () => (lab.daemons.assertAlive("nginx"), (await accepts(80)) && (await accepts(443))),
    10_000,
    () => lab.daemons.log("nginx") + readFileSync(lab.nginxErrorLog, "utf8"),
  );
}

/** The pids of nginx's worker processes (the master's children). */
export function nginxWorkers(lab: Lab): string[] {
  const master = readFileSync(join(lab.dir, "nginx.pid"), "utf8").trim();
  return run("pgrep", ["-P", master]).stdout.split(/\s+/).filter(Boolean);
}

/**
 * Waits until a reload has taken effect. Until the old workers exit they still accept connections on
 * the shared sockets, so one answer from the new config does not mean the next comes from it too.
 */
export async function waitForNewWorkers(lab: Lab, old: readonly string[]): Promise<void> {
  await waitFor(
    "nginx's workers to be replaced after a reload",
    () => {
      const now = nginxWorkers(lab);
      return now.length > 0 && !now.some((p) => old.includes(p));
    },
    10_000,
    () => readFileSync(lab.nginxErrorLog, "utf8"),
  );
}

/** What `systemctl reload nginx.service` does on a host, after checking the config. */
export async function reloadNginx(lab: Lab): Promise<void> {
  nginxTest(lab);
  const old = nginxWorkers(lab);
  runOk(NGINX, [...lab.nginxArgs, "-s", "reload"]);
  await waitForNewWorkers(lab, old);
}
