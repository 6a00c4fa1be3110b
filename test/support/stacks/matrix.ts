// The matrix of rendered hosts that test/host-static.test.ts checks statically and
// test/host/host-static.test.ts checks with the real programs: every tier, cloud and app kind, the
// presets' example stacks on both clouds, and CamCOPS on two-server.
import { onCloud, presetExamples, studyConfig } from "../../helpers";

const container = {
  kind: "container",
  name: "dashboard",
  image: "ghcr.io/example/dashboard:2.3.1",
  port: 3000,
  volumes: [{ name: "uploads", containerPath: "/app/uploads" }],
  env: { LOG_LEVEL: "info" },
};
const pip = { kind: "python", name: "experiment", source: { pip: "bride-of-frankensystem==1.2" }, start: "BOFS production.toml", port: 5000 };
const git = {
  kind: "python",
  name: "study",
  source: { git: "https://git.example.org/lab/study.git", ref: "v1.0.0" },
  packages: ["gunicorn", "psycopg2-binary"],
  start: "gunicorn --bind 127.0.0.1:${PORT} wsgi:app",
  static: { urlPath: "/static", dir: "app/static" },
  setup: ["flask init-db"],
  migrate: ["flask db upgrade"],
  healthPath: "/healthz",
};
// Scheduled jobs and boot-time fetches (seeds 002 and 003), so that every check covers their units and scripts.
const gitJobs = {
  jobs: [
    { name: "intake", schedule: "@daily", command: "python bin/intake_multiprocess.py 3" },
    { name: "silent_push", schedule: "*/10 * * * *", command: "python bin/push/silent_ios_push.py 600", timeoutMinutes: 5 },
    { name: "weekly_report", schedule: "Mon *-*-* 06:00:00", command: 'flask report --out "$STATE_DIR/reports"' },
  ],
  fetch: [
    {
      name: "exports",
      bucket: "study-exports",
      prefix: "latest",
      endpoint: "https://fra1.digitaloceanspaces.com",
      accessKeyId: "KEYID",
      dest: "exports",
      every: "0 4 * * *",
    },
  ],
  fetchSecretAccessKeys: { exports: "fetch-secret" },
};
const containerJobs = {
  jobs: [{ name: "analytics", schedule: "30 22 * * 1-5", command: "python parse_nginx_log.py --out /var/log/dashboard/analytics.json" }],
  fetch: [{ name: "production", bucket: "open-study-data", region: "eu-west-2", dest: "uploads" }],
};
const offsite = {
  backups: { offsite: { bucket: "study-backups", endpoint: "https://fra1.digitaloceanspaces.com", accessKeyId: "KEYID" } },
  offsiteSecretAccessKey: "secret",
};

/**
 * Any PEM certificate will do: only certbot's drop-in naming the bundle is checked. A fixed one
 * (self-signed, CN "studyhost test ACME CA"), so that rendering the matrix needs no openssl.
 */
export const TEST_CA =
  [
    "-----BEGIN CERTIFICATE-----",
    "MIIDJTCCAg2gAwIBAgIUONUGg/ikULAs+AXVvhB7OoJj2g8wDQYJKoZIhvcNAQEL",
    "BQAwITEfMB0GA1UEAwwWc3R1ZHlob3N0IHRlc3QgQUNNRSBDQTAgFw0yNjEyMDcx",
    "OTUwMTVaGA8yMTI2MTExMzE5NTAxNVowITEfMB0GA1UEAwwWc3R1ZHlob3N0IHRl",
    "c3QgQUNNRSBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKMijwfr",
    "ciq4GpJODrQ0iHJ4/IH7W5dx+E3Zua5cibEUqSGswDOAufTtLQnq2T3e11Q8VpBQ",
    "VIV1EXydrJ/XzH5mmp7EXOMs6VQ6Eo06pJhNr/O/8hBf0qroIaiHT74jb7nYXttX",
    "T7aD28ahj8ADzQyJ60GpBXcs++4H1bl+bbrl0Vi9ZiEi7Q+WI3U3qlw2N3x8hOMJ",
    "lnfkPA3yY+3Ctc4+BQ45n0g9RL1+Rnf+w9dRmrSCWeqFut5Tkjn2pMzKshjvcPyD",
    "PcNQTIFlX0bOj+qgHcUsYjcg7omeignm/9dYSpL+py+KO1HEmXyhOiLSAOFhPR3C",
    "/WhezBdoWVZCaRkCAwEAAaNTMFEwHQYDVR0OBBYEFHjdlUQKlxRT4EkzYBaGr1yZ",
    "YSDuMB8GA1UdIwQYMBaAFHjdlUQKlxRT4EkzYBaGr1yZYSDuMA8GA1UdEwEB/wQF",
    "MAMBAf8wDQYJKoZIhvcNAQELBQADggEBAG8rVRGaxXf0ifBUa+MuSwXCfVdzuPhL",
    "E23HkcATqHX+knbkvFqrPRccxOGYjmXTJ9Kq7cqJuNaXoIDfid04iOQ+VRaZ4v3Y",
    "/PVniKem7DfghEqHQa4v9zzVUDnahs/X/VrcyWTiv/sWn2y2Mx+LOdlebEYiQKjn",
    "hycNlnknrxc+Po3UloodQ7DxyVGKL+/LesHVWXhKr0ZXR+zl7Tn0Dd/QGdg2z5Ku",
    "V9Zv4NSj1rVr+l5JQROmPLIv3I/lwaym20P45zs9kqbaNFlxo4cFVoVUVrpGzYqj",
    "zhr8LO1rJIdUf500AuBADuxz8IZ+3cIc0uGEdosiOUS9Vfl3Z6EDmLo=",
    "-----END CERTIFICATE-----",
  ].join("\n") + "\n";

export function hostMatrix(): Record<string, Record<string, unknown>> {
  const configs: Record<string, Record<string, unknown>> = {};
  for (const cloud of ["digitalocean", "aws"] as const) {
    // With an ACME server of its own (as the harness uses), so certbot.service gets its drop-in.
    configs[`${cloud}-small-sqlite-pip`] = studyConfig(cloud, "small", {
      database: { engine: "sqlite" },
      app: pip,
      tls: { acmeDirectory: "https://acme.example.org/dir", caBundle: TEST_CA },
    });
    configs[`${cloud}-small-postgres-container`] = studyConfig(cloud, "small", { app: container, ...containerJobs });
    configs[`${cloud}-large-git-offsite`] = studyConfig(cloud, "large", { app: git, ...offsite, ...gitJobs });
    configs[`${cloud}-two-server-container`] = studyConfig(cloud, "two-server", { app: container });
    // With the logs on the data volume: the mount units and nginx's drop-in, on both hosts.
    configs[`${cloud}-two-server-git`] = studyConfig(cloud, "two-server", { app: git, logsOnDataVolume: true });
  }
  // The example stacks of the presets (Pulumi.<preset>.yaml), on both clouds; CamCOPS on two-server too
  // (MariaDB alone on the database host, the app host its client).
  for (const [name, config] of Object.entries(presetExamples())) {
    for (const cloud of ["digitalocean", "aws"] as const) configs[`${cloud}-preset-${name}`] = onCloud(config, cloud);
  }
  for (const cloud of ["digitalocean", "aws"] as const)
    configs[`${cloud}-preset-camcops-two-server`] = onCloud({ ...presetExamples().camcops, tier: "two-server" }, cloud);
  return configs;
}
