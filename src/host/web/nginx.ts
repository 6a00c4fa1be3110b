// nginx in front of the app, and the certificate it serves. Seed 000 (BOFS): TLS reverse proxy with
// security and proxy headers, /static from disk, an allow-list for /admin. TLS settings: Mozilla's
// "intermediate" profile (../shared/notes/server-practice.md). Until the certificate exists, port 80
// serves only ACME challenges and a holding page: the app is never reachable over plain HTTP.
import { configFile, HostPart, PATHS, script } from "../document/part";
import { ALERT_ON_FAILURE } from "../system/base";
import { q } from "../document/shell";
import { assetPart, fillAsset, hostAsset } from "../document/template";

/** One site: a set of server names in front of one app on a local port. */
export interface Site {
  readonly name: string;
  readonly serverNames: readonly string[];
  readonly port: number;
  readonly static?: { readonly urlPath: string; readonly dir: string };
  /**
   * A built single-page front end served from disk at /, with only `apiPaths` (and the admin paths)
   * proxied to the app: seed 004's nginx serving frontscope's files and forwarding /api to backscope.
   */
  readonly frontend?: { readonly dir: string; readonly apiPaths: readonly string[] };
  readonly adminPaths: readonly string[];
  readonly adminCidrs: readonly string[];
  readonly maxBodyMb: number;
}

export interface TlsSettings {
  readonly domains: readonly string[];
  readonly email: string;
  readonly acmeDirectory: string;
  /** Extra CA bundle (PEM) certbot trusts for the ACME server. */
  readonly caBundle?: string;
}

/** Where files go: the defaults are the distribution's; tests move them under a scratch folder. */
export interface NginxPaths {
  readonly nginx: string;
  readonly letsencrypt: string;
  readonly webroot: string;
  readonly holding: string;
  readonly logs: string;
}

export const NGINX_PATHS: NginxPaths = {
  nginx: "/etc/nginx",
  letsencrypt: PATHS.letsencrypt,
  webroot: PATHS.webroot,
  holding: PATHS.holding,
  logs: "/var/log/nginx",
};

export const TLS_SNIPPET = hostAsset(__dirname, "studyhost-tls.conf");

export const HEADERS_SNIPPET = hostAsset(__dirname, "studyhost-headers.conf");

export const PROXY_SNIPPET = hostAsset(__dirname, "studyhost-proxy.conf");

const HOLDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Being set up</title></head>
<body><h1>This study is being set up</h1><p>Please come back in a few minutes.</p></body></html>
`;

/** Answers requests for names we do not serve (or bare addresses) with nothing at all. */
export function defaultServer(p: NginxPaths = NGINX_PATHS): string {
  return fillAsset(__dirname, "studyhost-default.conf", { WEBROOT: p.webroot });
}

/** Port 80 before the certificate exists: ACME challenges and a holding page (503), never the app. */
export function holdingSite(site: Site, p: NginxPaths = NGINX_PATHS): string {
  return fillAsset(__dirname, "site-holding.conf", { SITE: site.name, SERVER_NAMES: site.serverNames.join(" "), WEBROOT: p.webroot, HOLDING: p.holding });
}

/** The site with its certificate: 80 redirects (308) to https, 443 proxies to the app. */
export function fullSite(site: Site, p: NginxPaths = NGINX_PATHS): string {
  const cert = `${p.letsencrypt}/live/${site.serverNames[0]}`;
  const upstream = `http://127.0.0.1:${site.port}`;
  const proxy = (match: string) => assetPart(__dirname, "location-proxy.conf", { MATCH: match, NGINX: p.nginx, UPSTREAM: upstream });
  const admin = site.adminPaths.map((path) =>
    assetPart(__dirname, "location-admin.conf", {
      PATH: path,
      ALLOW: site.adminCidrs.map((c) => `    allow ${c};`).join("\n"),
      NGINX: p.nginx,
      UPSTREAM: upstream,
    }),
  );
  const statics = site.static
    ? [assetPart(__dirname, "location-static.conf", { URL_PATH: site.static.urlPath.replace(/\/?$/, "/"), DIR: site.static.dir.replace(/\/?$/, "/") })]
    : [];
  const api = (site.frontend?.apiPaths ?? []).map((path) => proxy(`^~ ${path}`));
  const root = site.frontend ? assetPart(__dirname, "location-frontend.conf", { DIR: site.frontend.dir }) : proxy("/");
  return fillAsset(__dirname, "site.conf", {
    SITE: site.name,
    SERVER_NAMES: site.serverNames.join(" "),
    WEBROOT: p.webroot,
    CERTIFICATE: cert,
    NGINX: p.nginx,
    MAX_BODY_MB: String(site.maxBodyMb),
    LOGS: p.logs,
    LOCATIONS: [...statics, ...admin, ...api].join("\n\n"),
    ROOT: root,
  });
}

/** certbot's flags for one site's certificate. */
export function certbotArgs(site: Site, tls: TlsSettings, p: NginxPaths = NGINX_PATHS): string[] {
  return [
    "certonly",
    "--webroot",
    "--webroot-path",
    p.webroot,
    "--cert-name",
    site.serverNames[0],
    ...site.serverNames.flatMap((n) => ["-d", n]),
    "--server",
    tls.acmeDirectory,
    "--email",
    tls.email,
    "--agree-tos",
    "--no-eff-email",
    "--non-interactive",
    "--keep-until-expiring",
  ];
}

export const ACME_CA_FILE = `${PATHS.etc}/acme-ca.pem`;

/**
 * One certificate per site (named after the site's first name, holding all of its names), not one
 * for every name on the host: a site whose DNS does not point here yet (a new subdomain) then holds
 * back only its own certificate and stays on its holding page while the others switch to https;
 * adding or removing a site never reissues production's certificate; and one site's names do not
 * appear in another site's certificate. Each is a separate HTTP-01 order, well within Let's Encrypt's
 * limits for a handful of sites.
 *
 * Obtain the certificate (if missing) and switch the site from holding to full. Idempotent: run by
 * provisioning, and retried by a timer until it succeeds (DNS may not point here yet). A site whose
 * certbot fails is named and skipped, never the end of the run: the later sites still get theirs and
 * nginx still reloads for them; the script fails at the end, so the unit fails and the alert fires.
 * `p` moves the paths under a scratch folder for tests.
 */
export function certificateScript(sites: readonly Site[], tls: TlsSettings, p: NginxPaths = NGINX_PATHS): string {
  const perSite = sites.map((site) => {
    const enabled = `${p.nginx}/sites-enabled/studyhost-${site.name}`;
    // certbot runs as an `if` condition: its failure is this site's alone, not the script's (set -e).
    return assetPart(__dirname, "certificate-site.bash", {
      ENABLED: enabled,
      CERTIFICATE: `${p.letsencrypt}/live/${site.serverNames[0]}`,
      CERTBOT_ARGS: certbotArgs(site, tls, p).map(q).join(" "),
      SITE: site.name,
      SERVER_NAMES: site.serverNames.join(" "),
      FAILED: q(`${site.name} (${site.serverNames[0]})`),
    });
  });
  return fillAsset(__dirname, "studyhost-certificate.sh", {
    CA_BUNDLE: tls.caBundle ? `export REQUESTS_CA_BUNDLE=${ACME_CA_FILE}` : "# the ACME server's certificate is checked against the system's CAs",
    SITES: perSite.join("\n"),
  });
}

const CERTIFICATE_SERVICE = fillAsset(__dirname, "studyhost-certificate.service", { ALERT_ON_FAILURE, SBIN: PATHS.sbin });

// Retries until every site has its certificate; after that each run changes nothing (see the script).
const CERTIFICATE_TIMER = hostAsset(__dirname, "studyhost-certificate.timer");

// A post hook, not a deploy hook: certbot runs post hooks after every renewal attempt, `renew --dry-run`
// included, so the dry run proves the reload too (deploy hooks are skipped in dry runs). A dry run goes
// to Let's Encrypt's staging server unless given `--server` (certbot/certbot#9081): with another ACME
// server, run `certbot renew --dry-run --server <acmeDirectory>`.
export const RELOAD_HOOK = `#!/bin/sh
# studyhost: certbot tried to renew certificates; nginx must load whatever it now has.
exec systemctl reload nginx.service
`;
export const RELOAD_HOOK_PATH = `${PATHS.letsencrypt}/renewal-hooks/post/studyhost-reload-nginx`;

export function nginxPart(sites: readonly Site[], tls: TlsSettings): HostPart {
  const p = NGINX_PATHS;
  const siteFiles = sites.flatMap((site) => [
    configFile(`${p.nginx}/sites-available/studyhost-${site.name}.conf`, fullSite(site)),
    configFile(`${p.nginx}/sites-available/studyhost-${site.name}-holding.conf`, holdingSite(site)),
  ]);
  const enableHolding = sites
    .map(
      (s) =>
        `[ -e /etc/nginx/sites-enabled/studyhost-${s.name}.conf ] || ln -sfn ../sites-available/studyhost-${s.name}-holding.conf /etc/nginx/sites-enabled/studyhost-${s.name}-holding.conf`,
    )
    .join("\n");
  return {
    packages: ["nginx", "certbot"],
    files: [
      configFile(`${p.nginx}/snippets/studyhost-tls.conf`, TLS_SNIPPET),
      configFile(`${p.nginx}/snippets/studyhost-headers.conf`, HEADERS_SNIPPET),
      configFile(`${p.nginx}/snippets/studyhost-proxy.conf`, PROXY_SNIPPET),
      configFile(`${p.nginx}/sites-available/studyhost-default.conf`, defaultServer()),
      ...siteFiles,
      configFile(`${p.holding}/holding.html`, HOLDING_PAGE),
      script(`${PATHS.sbin}/studyhost-certificate`, certificateScript(sites, tls)),
      script(RELOAD_HOOK_PATH, RELOAD_HOOK),
      configFile(`${PATHS.units}/studyhost-certificate.service`, CERTIFICATE_SERVICE),
      configFile(`${PATHS.units}/studyhost-certificate.timer`, CERTIFICATE_TIMER),
      ...(tls.caBundle
        ? [
            configFile(ACME_CA_FILE, tls.caBundle.endsWith("\n") ? tls.caBundle : `${tls.caBundle}\n`),
            // certbot's renewal timer must trust the same ACME server.
            configFile(`${PATHS.units}/certbot.service.d/studyhost.conf`, `[Service]\nEnvironment=REQUESTS_CA_BUNDLE=${ACME_CA_FILE}\n`),
          ]
        : []),
    ],
    steps: [
      {
        name: "nginx",
        script: fillAsset(__dirname, "nginx-step.bash", { WEBROOT: p.webroot, ENABLE_HOLDING: enableHolding }),
      },
      {
        name: "certificate",
        script: hostAsset(__dirname, "certificate-step.bash"),
      },
    ],
  };
}
