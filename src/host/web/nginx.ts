// nginx in front of the app, and the certificate it serves. Seed 000 (BOFS): TLS reverse proxy with
// security and proxy headers, /static from disk, an allow-list for /admin. TLS settings: Mozilla's
// "intermediate" profile (../shared/notes/server-practice.md). Until the certificate exists, port 80
// serves only ACME challenges and a holding page: the app is never reachable over plain HTTP.
import { configFile, HostPart, PATHS, script } from "../document/part";
import { ALERT_ON_FAILURE } from "../system/base";
import { bashScript, q } from "../document/shell";

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

export const NGINX_PATHS: NginxPaths = { nginx: "/etc/nginx", letsencrypt: PATHS.letsencrypt, webroot: PATHS.webroot, holding: PATHS.holding, logs: "/var/log/nginx" };

export const TLS_SNIPPET = `# studyhost: Mozilla intermediate TLS (TLS 1.2 and 1.3 only).
ssl_protocols TLSv1.2 TLSv1.3;
ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
ssl_prefer_server_ciphers off;
ssl_session_timeout 1d;
ssl_session_cache shared:MozSSL:10m;
ssl_session_tickets off;
`;

export const HEADERS_SNIPPET = `# studyhost: security headers (seed 000), on every response.
add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
add_header X-Frame-Options SAMEORIGIN always;
add_header X-Content-Type-Options nosniff always;
add_header Referrer-Policy strict-origin-when-cross-origin always;
`;

export const PROXY_SNIPPET = `# studyhost: what the app behind nginx needs to know about the request.
proxy_set_header Host $host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_redirect off;
proxy_read_timeout 60s;
`;

const HOLDING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Being set up</title></head>
<body><h1>This study is being set up</h1><p>Please come back in a few minutes.</p></body></html>
`;

const acme = (p: NginxPaths) => `  location ^~ /.well-known/acme-challenge/ {
    root ${p.webroot};
    default_type text/plain;
  }`;

/** Answers requests for names we do not serve (or bare addresses) with nothing at all. */
export function defaultServer(p: NginxPaths = NGINX_PATHS): string {
  return `# studyhost: requests for other names (scanners hitting the address) get no answer.
server {
  listen 80 default_server;
  listen [::]:80 default_server;
${acme(p)}
  location / { return 444; }
}
server {
  listen 443 ssl default_server;
  listen [::]:443 ssl default_server;
  ssl_reject_handshake on;
}
`;
}

/** Port 80 before the certificate exists: ACME challenges and a holding page (503), never the app. */
export function holdingSite(site: Site, p: NginxPaths = NGINX_PATHS): string {
  return `# studyhost: ${site.name} until its certificate exists.
server {
  listen 80;
  listen [::]:80;
  server_name ${site.serverNames.join(" ")};
${acme(p)}
  location / { return 503; }
  error_page 503 /holding.html;
  location = /holding.html {
    root ${p.holding};
    internal;
  }
}
`;
}

/** The site with its certificate: 80 redirects (308) to https, 443 proxies to the app. */
export function fullSite(site: Site, p: NginxPaths = NGINX_PATHS): string {
  const cert = `${p.letsencrypt}/live/${site.serverNames[0]}`;
  const upstream = `http://127.0.0.1:${site.port}`;
  const admin = site.adminPaths.map(
    (path) => `  location ^~ ${path} {
${site.adminCidrs.map((c) => `    allow ${c};`).join("\n")}
    deny all;
    include ${p.nginx}/snippets/studyhost-proxy.conf;
    proxy_pass ${upstream};
  }`,
  );
  const statics = site.static
    ? [
        `  location ^~ ${site.static.urlPath.replace(/\/?$/, "/")} {
    alias ${site.static.dir.replace(/\/?$/, "/")};
    expires 30d;
    access_log off;
  }`,
      ]
    : [];
  const api = (site.frontend?.apiPaths ?? []).map(
    (path) => `  location ^~ ${path} {
    include ${p.nginx}/snippets/studyhost-proxy.conf;
    proxy_pass ${upstream};
  }`,
  );
  const root = site.frontend
    ? `  root ${site.frontend.dir};
  location / {
    # A client-side route (no such file) gets the app's index.html.
    try_files $uri $uri/ /index.html;
  }`
    : `  location / {
    include ${p.nginx}/snippets/studyhost-proxy.conf;
    proxy_pass ${upstream};
  }`;
  return `# studyhost: ${site.name}, https only.
server {
  listen 80;
  listen [::]:80;
  server_name ${site.serverNames.join(" ")};
${acme(p)}
  location / { return 308 https://$host$request_uri; }
}

server {
  listen 443 ssl http2;
  listen [::]:443 ssl http2;
  server_name ${site.serverNames.join(" ")};
  ssl_certificate ${cert}/fullchain.pem;
  ssl_certificate_key ${cert}/privkey.pem;
  include ${p.nginx}/snippets/studyhost-tls.conf;
  include ${p.nginx}/snippets/studyhost-headers.conf;
  client_max_body_size ${site.maxBodyMb}m;
  access_log ${p.logs}/${site.name}.access.log;
  error_log ${p.logs}/${site.name}.error.log;

${[...statics, ...admin, ...api].join("\n\n")}

${root}
}
`;
}

/** certbot's flags for one site's certificate. */
export function certbotArgs(site: Site, tls: TlsSettings, p: NginxPaths = NGINX_PATHS): string[] {
  return [
    "certonly", "--webroot", "--webroot-path", p.webroot,
    "--cert-name", site.serverNames[0],
    ...site.serverNames.flatMap((n) => ["-d", n]),
    "--server", tls.acmeDirectory,
    "--email", tls.email, "--agree-tos", "--no-eff-email",
    "--non-interactive", "--keep-until-expiring",
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
    const args = certbotArgs(site, tls, p).map(q).join(" ");
    const enabled = `${p.nginx}/sites-enabled/studyhost-${site.name}`;
    // certbot runs as an `if` condition: its failure is this site's alone, not the script's (set -e).
    return `if [ ! -e ${enabled}.conf ]; then
  if [ -f ${p.letsencrypt}/live/${site.serverNames[0]}/fullchain.pem ] || certbot ${args}; then
    ln -sfn ../sites-available/studyhost-${site.name}.conf ${enabled}.conf
    rm -f ${enabled}-holding.conf
    changed=yes
  else
    echo "studyhost-certificate: ${site.name} (${site.serverNames.join(" ")}) got no certificate (certbot's error above); it stays on its holding page" >&2
    failed+=(${q(`${site.name} (${site.serverNames[0]})`)})
  fi
fi`;
  });
  return bashScript(
    "studyhost-certificate: get each site's certificate from the ACME server, then serve the site over https.",
    `
${tls.caBundle ? `export REQUESTS_CA_BUNDLE=${ACME_CA_FILE}` : "# the ACME server's certificate is checked against the system's CAs"}
changed=no
failed=()
${perSite.join("\n")}
# Once every site serves https this is a no-op: renewals are certbot's own timer's job.
if [ "$changed" = yes ]; then
  nginx -t -q
  systemctl reload nginx.service
fi
if [ \${#failed[@]} -gt 0 ]; then
  echo "studyhost-certificate: FAILED for \${failed[*]}; the timer retries" >&2
  exit 1
fi
`,
  );
}

const CERTIFICATE_SERVICE = `[Unit]
Description=studyhost: obtain TLS certificates and switch the sites to https
After=nginx.service network-online.target
Wants=network-online.target
${ALERT_ON_FAILURE}

[Service]
Type=oneshot
ExecStart=${PATHS.sbin}/studyhost-certificate
`;

// Retries until every site has its certificate; after that each run changes nothing (see the script).
const CERTIFICATE_TIMER = `[Unit]
Description=studyhost: retry obtaining TLS certificates

[Timer]
OnBootSec=5min
OnUnitInactiveSec=15min

[Install]
WantedBy=timers.target
`;

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
    .map((s) => `[ -e /etc/nginx/sites-enabled/studyhost-${s.name}.conf ] || ln -sfn ../sites-available/studyhost-${s.name}-holding.conf /etc/nginx/sites-enabled/studyhost-${s.name}-holding.conf`)
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
        script: `install -d ${p.webroot}
rm -f /etc/nginx/sites-enabled/default
ln -sfn ../sites-available/studyhost-default.conf /etc/nginx/sites-enabled/studyhost-default.conf
${enableHolding}
nginx -t -q
systemctl enable nginx.service
systemctl reload-or-restart nginx.service`,
      },
      {
        name: "certificate",
        script: `systemctl daemon-reload
systemctl enable studyhost-certificate.timer
systemctl start studyhost-certificate.timer
# DNS may not point here yet: provisioning goes on (backups matter more), the holding page stays up,
# the alert hook has fired, and the timer retries every 15 minutes.
systemctl start studyhost-certificate.service || echo "no certificate yet: studyhost-certificate.timer retries"`,
      },
    ],
  };
}
