// The (for now minimal) host documents: valid #cloud-config YAML, the env file with the generated
// secrets readable only by root, the database URL for each placement, nothing of the app on the
// database host. The next issue proves them with cloud-init, systemd and the real services.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseStudyConfig } from "../stacks/config";
import { databaseUrl, envFile, renderAppHost, renderCloudConfig, renderDatabaseHost, DATA_MOUNT, DATA_VOLUME_SCRIPT } from "../src/host";
import { studyConfig, PLACEHOLDER_KEY } from "./helpers";

type CloudConfig = {
  users: { name: string; ssh_authorized_keys: string[] }[];
  write_files: { path: string; content: string; permissions: string }[];
  bootcmd: string[][];
};

const tls = { domains: ["study.example.org"], email: "it@example.org", acmeDirectory: "https://acme.example/dir" };
const secrets = { secretKey: 'k"ey\\with$odd:chars', adminPassword: "admin-pass" };

function appHost(tier: string, database: Parameters<typeof renderAppHost>[0]["database"]) {
  const config = parseStudyConfig(studyConfig("digitalocean", tier, tier === "small" ? { database: { engine: "sqlite" } } : {}));
  const text = renderCloudConfig(renderAppHost({ config, hostname: "study-app", dataDevice: "/dev/disk/by-id/scsi-0DO_Volume_x", secrets, database, tls }));
  return { text, doc: parse(text) as CloudConfig };
}

test("an app host document is #cloud-config YAML with the admin user's keys and the data volume", () => {
  const { text, doc } = appHost("small", { engine: "sqlite", path: `${DATA_MOUNT}/study/study.sqlite3` });
  expect(text.startsWith("#cloud-config\n")).toBe(true);
  expect(doc.users[0]).toMatchObject({ name: "studyadmin", ssh_authorized_keys: [PLACEHOLDER_KEY] });
  // The data volume is prepared by bootcmd, before packages: device and mount point are arguments.
  expect(doc.bootcmd).toEqual([["sh", "-c", DATA_VOLUME_SCRIPT, "studyhost-data-volume", "/dev/disk/by-id/scsi-0DO_Volume_x", DATA_MOUNT]]);
});

test("the env file is 0600 and holds the secrets and database URL, quoted so odd characters survive", () => {
  const { doc } = appHost("small", { engine: "sqlite", path: `${DATA_MOUNT}/study/study.sqlite3` });
  const env = doc.write_files.find((f) => f.path === "/etc/study/env")!;
  expect(env.permissions).toBe("0600");
  expect(env.content).toContain('SECRET_KEY="k\\"ey\\\\with\\$odd:chars"');
  expect(env.content).toContain(`DATABASE_URL="sqlite:///${DATA_MOUNT}/study/study.sqlite3"`);
  expect(env.content).toContain('PORT="8000"');
});

test("database URLs: local PostgreSQL without TLS, a database host with sslmode=require, passwords URL-encoded", () => {
  const pg = { engine: "postgres" as const, host: "localhost", port: 5432, name: "study", user: "study", password: "p@ss/word", tls: false };
  expect(databaseUrl(pg)).toBe("postgresql://study:p%40ss%2Fword@localhost:5432/study");
  expect(databaseUrl({ ...pg, host: "10.116.0.5", tls: true })).toBe("postgresql://study:p%40ss%2Fword@10.116.0.5:5432/study?sslmode=require");
});

test("envFile escapes quotes, backslashes and dollars: bash reads back exactly the values written", () => {
  const values = { A: 'x"y', B: "a\\b", C: "$HOME and `id`", D: "it's" };
  const dir = mkdtempSync(join(tmpdir(), "studyhost-env-"));
  try {
    writeFileSync(join(dir, "env"), envFile(values));
    const out = execFileSync("bash", ["-c", 'set -a; . "$0"; set +a; printf "%s\\0" "$A" "$B" "$C" "$D"', join(dir, "env")], { encoding: "utf8" });
    expect(out.split("\0").slice(0, 4)).toEqual(Object.values(values));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the database host gets the roles' passwords in a root-only file and nothing of the app", () => {
  const config = parseStudyConfig(studyConfig("digitalocean", "two-server"));
  const roles = { database: "study", appUser: "study", appPassword: "app-pw", analystUser: "study_analyst", analystPassword: "analyst-pw" };
  const text = renderCloudConfig(renderDatabaseHost({ config, hostname: "study-db", dataDevice: "/dev/x", roles, clientCidr: "10.116.0.0/20" }));
  const doc = parse(text) as CloudConfig;
  const rolesFile = doc.write_files.find((f) => f.path === "/etc/studyhost/postgres-roles.env")!;
  expect(rolesFile.permissions).toBe("0600");
  expect(rolesFile.content).toContain('APP_PASSWORD="app-pw"');
  expect(text).not.toContain("SECRET_KEY");
  expect(text).not.toContain("v1.0.0");
  expect(text).toContain("10.116.0.0/20");
});
