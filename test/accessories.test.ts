// The accessory databases (studyhost:accessories), as rendered: MariaDB's and MongoDB's units, scripts,
// settings and firewall rules on each tier (MariaDB on two-server's database host), and the configuration
// errors. MongoDB's image cannot be pulled here (no registry): its unit, run command, scripts and the
// private Docker network are checked statically (its script against a stand-in docker: dockerNetwork.test.ts).
// The same hosts through cloud-init's schema, shellcheck, systemd-analyze verify and nft -c:
// test/host/accessories.test.ts. MariaDB itself runs for real in test/host/mariadb-server.test.ts.
// The backup runner runs under bash with coreutils' true, false, touch and env.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseStudyConfig } from "../stacks/config";
import { BACKUP_EACH, BACKUP_EACH_SH, MARIADB, MONGODB } from "../src/host";
import { planOf, studyConfig } from "./helpers";
import { removeRendered, renderHosts, RenderedHost, walk } from "./support/render";
import { accessoryStacks, PRIVATE_CONTAINER as container } from "./support/stacks/accessories";

const CONFIGS = accessoryStacks();

let hosts: RenderedHost[] = [];
const appHost = (label: string) => hosts.find((h) => h.label === `${label}/study-app`)!;
const file = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");

describe("rendered hosts with accessories", () => {
  beforeAll(async () => {
    hosts = await renderHosts(CONFIGS);
  }, 60_000);
  afterAll(() => {
    removeRendered(hosts);
  });

  test("each accessory's scripts are on the host that runs it", () => {
    for (const label of Object.keys(CONFIGS)) {
      // On two-server MariaDB's scripts are on the database host.
      const mariadbHost = label.startsWith("two-server") ? hosts.find((h) => h.label === `${label}/study-db`)! : appHost(label);
      const scripts = walk(appHost(label).root).filter((f) => f.startsWith("/usr/local/sbin/"));
      if (label.includes("mariadb") || label.includes("both"))
        expect(walk(mariadbHost.root)).toEqual(expect.arrayContaining([MARIADB.setup, MARIADB.users, MARIADB.backup, MARIADB.restore]));
      if (label.includes("mongodb") || label.includes("both"))
        expect(scripts).toEqual(expect.arrayContaining([MONGODB.setup, MONGODB.backup, MONGODB.restore, "/usr/local/sbin/studyhost-docker-network"]));
    }
  });

  test("the host firewall opens no new port: only a forward rule keeps containers off the metadata service", async () => {
    for (const label of Object.keys(CONFIGS)) {
      const h = appHost(label);
      const nft = file(h, "/etc/nftables.conf");
      expect(nft).not.toMatch(/3306|27017/);
      expect(nft).not.toContain("mariadb_clients");
      const usesNetwork = label.includes("mongodb") || label.includes("both");
      expect(nft.includes('iifname "studyhost0" ip daddr 169.254.169.254 reject')).toBe(usesNetwork);
    }
    // The input chain is the same as without accessories.
    const without = await renderHosts({ plain: studyConfig("digitalocean", "small") });
    const chain = (text: string) => text.slice(text.indexOf("chain input"), text.indexOf("chain output"));
    expect(chain(file(appHost("small-postgres-python-both"), "/etc/nftables.conf"))).toBe(
      chain(readFileSync(join(without[0].root, "etc/nftables.conf"), "utf8")),
    );
    rmSync(dirname(dirname(without[0].dir)), { recursive: true, force: true });
  });

  test("MongoDB runs on the private network with no published port, its data on the volume", () => {
    const unit = file(appHost("small-postgres-python-both"), `/etc/systemd/system/${MONGODB.unit}`);
    const start = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(start).toContain("--network studyhost --ip 172.30.232.2 --network-alias mongodb");
    expect(start).toContain("-v /var/lib/studyhost/mongodb:/data/db");
    expect(start).toContain(`mongo:7.0@sha256:${"a".repeat(64)} --wiredTigerCacheSizeGB 0.25`);
    expect(start).not.toMatch(/--publish|\s-p\s|-P\b/);
    expect(unit).toMatch(/^Requires=docker\.service studyhost-docker-network\.service$/m);
    const env = file(appHost("small-postgres-python-both"), "/etc/studyhost/mongodb/mongodb.env");
    expect(env).toMatch(/^MONGO_INITDB_ROOT_USERNAME=studyhost_root$/m);
    expect(env).toMatch(/^STUDYHOST_MONGO_DATABASE=stage_database$/m);
    // The tools read the root password from a root-only file: never on a command line.
    const backup = file(appHost("small-postgres-python-both"), MONGODB.backup);
    expect(backup).toContain(
      'mongodump --config=/etc/studyhost-mongodb/tools.yaml --username=studyhost_root --authenticationDatabase=admin --db="$DATABASE" --archive --gzip',
    );
    expect(backup).not.toMatch(/--password/);
    expect(statSync(join(appHost("small-postgres-python-both").root, "etc/studyhost/mongodb/tools.yaml")).mode & 0o777).toBe(0o600);
  });

  test("a private-network container app joins the network, publishes its port on 127.0.0.1 only, and gets MONGO_URL by name", () => {
    const h = appHost("large-container-private-mongodb");
    const unit = file(h, "/etc/systemd/system/emission.service");
    expect(unit).toContain("--network studyhost");
    expect(unit).toContain("--publish 127.0.0.1:8080:8080");
    expect(unit).not.toContain("--network host");
    expect(file(h, "/etc/emission/docker.env")).toMatch(/^MONGO_URL=mongodb:\/\/emission:[^@\s]+@mongodb:27017\/emission\?authSource=emission$/m);
    // Its scheduled jobs join the network too, but publish nothing (the app holds the port).
    const job = file(h, "/usr/local/lib/studyhost/jobs/intake.sh");
    expect(job).toContain("--network studyhost");
    expect(job).not.toContain("--publish");
  });

  test("the app's env has MARIADB_URL and MONGO_URL; the manifest lists the accessories", () => {
    const h = appHost("small-postgres-python-both");
    const env = file(h, "/etc/study/env");
    expect(env).toMatch(/^MARIADB_URL="mysql\+pymysql:\/\/study:[^@"]+@127\.0\.0\.1:3306\/study\?charset=utf8mb4"$/m);
    expect(env).toMatch(/^MONGO_URL="mongodb:\/\/stage_database:[^@"]+@172\.30\.232\.2:27017\/stage_database\?authSource=stage_database"$/m);
    expect(env).toMatch(/^DATABASE_URL="postgresql:/m);
    const manifest = JSON.parse(file(h, "/etc/studyhost/manifest.rendered.json"));
    expect(manifest.accessories.mariadb).toMatchObject({
      database: "study",
      analystUser: "study_analyst",
      listen: "127.0.0.1:3306",
      data: "/var/lib/studyhost/mariadb",
    });
    expect(manifest.accessories.mongodb).toMatchObject({
      database: "stage_database",
      network: "studyhost",
      published: false,
      data: "/var/lib/studyhost/mongodb",
    });
  });

  test("backups: the shared timer runs the accessories' backups; the two-server hosts each back up what they hold", () => {
    const shared = file(appHost("small-sqlite-mariadb"), "/etc/systemd/system/studyhost-backup.service");
    // Through the runner, after the SQLite backup: a failure of one does not skip the other.
    expect(shared).toContain(`ExecStart=${BACKUP_EACH} "/usr/local/sbin/studyhost-backup" "${MARIADB.backup}"\n`);
    expect(file(appHost("small-sqlite-mariadb"), MARIADB.env)).toContain('BACKUP_DIR="/var/lib/studyhost/backups/mariadb"');
    const own = appHost("two-server-both");
    expect(existsSync(join(own.root, "etc/systemd/system/studyhost-backup.service"))).toBe(false);
    const service = file(own, "/etc/systemd/system/studyhost-accessories-backup.service");
    expect(service).toMatch(new RegExp(`^ExecStart=${BACKUP_EACH} "${MONGODB.backup}"\nNice=`, "m"));
    expect(service).not.toContain(MARIADB.backup);
    expect(existsSync(join(own.root, "usr/local/lib/studyhost/prune_backups.py"))).toBe(true);
    // MariaDB's backup runs where its data is: on the database host, after PostgreSQL's, on its timer.
    const db = hosts.find((h) => h.label === "two-server-both/study-db")!;
    expect(file(db, "/etc/systemd/system/studyhost-backup.service")).toMatch(
      new RegExp(`^ExecStart=${BACKUP_EACH} "/usr/local/sbin/studyhost-backup" "${MARIADB.backup}"\n`, "m"),
    );
    expect(file(db, MARIADB.env)).toContain('BACKUP_DIR="/var/lib/studyhost/backups/mariadb"');
    expect(file(db, MARIADB.env)).toContain('CLIENT_HOST="10.42.1.0/255.255.255.0"');
  });

  test("two-server: MariaDB on the database host beside PostgreSQL, 3306 and 5432 from the private network only; the app host its client", () => {
    const db = hosts.find((h) => h.label === "two-server-both/study-db")!;
    const nft = file(db, "/etc/nftables.conf");
    expect(nft).toContain("ip saddr @postgres_clients_v4 tcp dport 5432 accept");
    expect(nft).toContain("ip saddr @mariadb_clients_v4 tcp dport 3306 accept");
    expect(nft).toMatch(/set mariadb_clients_v4 \{\n\s+type ipv4_addr\n\s+flags interval\n\s+elements = \{ 10\.42\.1\.0\/24 \}/);
    // PostgreSQL's memory is halved beside MariaDB (2 GB host: 1 GB, shared_buffers a quarter of it).
    expect(file(db, "/etc/studyhost/postgresql/studyhost.conf")).toMatch(/^shared_buffers = 256MB$/m);
    const app = appHost("two-server-both");
    expect(file(app, "/etc/study/env")).toMatch(
      /^MARIADB_URL="mysql\+pymysql:\/\/study:[^@"]+@10\.42\.1\.\d+:3306\/study\?charset=utf8mb4&ssl_check_hostname=false"$/m,
    );
    expect(file(app, "/etc/study/env")).toMatch(/^DATABASE_URL="postgresql:\/\/.*\?sslmode=require"$/m);
    const provision = file(app, "/usr/local/sbin/studyhost-provision");
    const order = /^for current in ([a-z0-9 -]+); do$/m.exec(provision)![1].split(" ");
    expect(order.indexOf("database-wait")).toBeLessThan(order.indexOf("mariadb-wait"));
    expect(order.indexOf("mariadb-wait")).toBeLessThan(order.indexOf("app"));
    expect(order).not.toContain("mariadb");
  });

  test("at boot the app starts after the accessory databases whose URLs it gets (CamCOPS refuses to start without its database)", () => {
    const after = (label: string, unit: string) => /^After=(.*)$/m.exec(file(appHost(label), `/etc/systemd/system/${unit}`))![1].split(" ");
    expect(after("small-sqlite-mariadb", "study.service")).toEqual(["network-online.target", "mariadb.service"]);
    expect(after("small-postgres-python-both", "study.service")).toEqual(["network-online.target", "postgresql.service", "mariadb.service", MONGODB.unit]);
    // On two-server MariaDB is on the database host: no mariadb.service here to order after (the app
    // retries until it answers: test/e2e/camcops-two-server.e2e.ts boots the app host before it).
    expect(after("two-server-both", "study.service")).toEqual(["network-online.target", MONGODB.unit]);
    expect(after("large-container-private-mongodb", "emission.service")).toEqual([
      "docker.service",
      "network-online.target",
      "studyhost-docker-network.service",
      MONGODB.unit,
    ]);
  });

  test("a private-network app's job requires the network's unit itself (its timer may fire at boot before the app's unit is queued)", () => {
    const job = file(appHost("large-container-private-mongodb"), "/etc/systemd/system/studyhost-job-intake.service");
    expect(job).toMatch(/^Requires=docker\.service studyhost-docker-network\.service$/m);
    expect(job).toMatch(/^After=docker\.service network-online\.target studyhost-docker-network\.service emission\.service$/m);
  });

  test("the provisioning order: accessories after the firewall and backups, before the app", () => {
    const provision = file(appHost("two-server-both"), "/usr/local/sbin/studyhost-provision");
    const order = /^for current in ([a-z0-9 -]+); do$/m.exec(provision)![1].split(" ");
    expect(order.indexOf("docker-network")).toBeLessThan(order.indexOf("mongodb"));
    expect(order.indexOf("mongodb")).toBeLessThan(order.indexOf("app"));
    expect(order.indexOf("accessories-backups")).toBeGreaterThan(0);
  });
});

// The private Docker network script: test/dockerNetwork.test.ts.

describe("the backup runner (every backup of a timer runs; the run fails at the end if one failed)", () => {
  test("a failing command does not stop the ones after it; the run exits 1 naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "studyhost-backup-each-"));
    writeFileSync(join(dir, "each.sh"), BACKUP_EACH_SH, { mode: 0o755 });
    const r = spawnSync(
      "bash",
      [join(dir, "each.sh"), "/bin/false", `/usr/bin/touch ${dir}/second-ran`, `/usr/bin/env MARK=x /usr/bin/touch ${dir}/third-ran`],
      { encoding: "utf8" },
    );
    expect([r.status, r.stderr]).toEqual([1, "backup failed: /bin/false\n"]);
    expect([existsSync(join(dir, "second-ran")), existsSync(join(dir, "third-ran"))]).toEqual([true, true]);
    const ok = spawnSync("bash", [join(dir, "each.sh"), "/bin/true", "/bin/true"], { encoding: "utf8" });
    expect([ok.status, ok.stderr]).toEqual([0, ""]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("configuration", () => {
  const parse = (overrides: Record<string, unknown>) => () => parseStudyConfig(studyConfig("digitalocean", "small", overrides));
  const message = (overrides: Record<string, unknown>) => {
    try {
      parse(overrides)();
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };

  test("defaults: mongo:7.0 and the app's name; no accessories unless configured", () => {
    expect(parseStudyConfig(studyConfig("digitalocean", "small")).accessories).toEqual({});
    expect(parseStudyConfig(studyConfig("digitalocean", "small", { accessories: { mongodb: {} } })).accessories.mongodb).toEqual({ image: "mongo:7.0" });
  });

  test("mistakes are one line naming the key", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ accessories: { mysql: {} } }, "studyhost:accessories.mysql: unknown key; valid keys here are mariadb, mongodb"],
      [
        { accessories: { mariadb: { database: "Study-DB" } } },
        'studyhost:accessories.mariadb.database: got "Study-DB"; expected a lower-case name of letters, digits and _ (at most 31), starting with a letter',
      ],
      [
        { accessories: { mongodb: { image: "mongo 7" } } },
        'studyhost:accessories.mongodb.image: got "mongo 7"; expected an image reference such as mongo:7.0 or mongo@sha256:...',
      ],
      [{ accessories: { mariadb: { port: 3307 } } }, "studyhost:accessories.mariadb.port: unknown key; valid keys here are database"],
      [
        { app: { ...container }, accessories: { mariadb: {} } },
        'studyhost:app.network: got "private"; MariaDB (accessories.mariadb) listens on the host\'s 127.0.0.1 only, which a container on the private network cannot reach; use network: host',
      ],
      [{ app: { ...container, network: "bridge" } }, 'studyhost:app.network: got "bridge"; expected host or private'],
      [
        { database: { engine: "none" } },
        'studyhost:database.engine: got "none"; none leaves the app without a database: configure accessories.mariadb or accessories.mongodb, or use postgres',
      ],
      [
        { tier: "two-server", database: { engine: "none" }, accessories: { mongodb: {} } },
        'studyhost:database.engine: got "none"; none with mongodb only leaves the two-server tier\'s database host with nothing to run: use small or large, or postgres',
      ],
      [
        {
          database: { engine: "none" },
          accessories: { mariadb: {} },
          sites: [{ domain: "other.example.org", app: { ...container, name: "other", port: 9000, network: "host" }, database: true }],
        },
        "studyhost:sites.0.database: got true; a site's database lives on the study's PostgreSQL or SQLite, and studyhost:database.engine is none: set it to false, or use postgres",
      ],
      [{ database: { engine: "mysql" } }, 'studyhost:database.engine: got "mysql"; expected postgres, sqlite or none'],
    ];
    for (const [overrides, expected] of cases) {
      const m = message(overrides);
      expect(m).toBe(expected);
      expect(m).not.toContain("\n");
    }
  });

  test("valid: engine none with an accessory on every tier; a private-network container with MariaDB on two-server (reached over the private network)", () => {
    for (const tier of ["small", "large", "two-server"]) expect(message({ tier, database: { engine: "none" }, accessories: { mariadb: {} } })).toBe("no error");
    expect(message({ tier: "two-server", app: { ...container }, accessories: { mariadb: {} } })).toBe("no error");
    const parsed = parseStudyConfig(
      studyConfig("digitalocean", "small", { database: { engine: "none" }, accessories: { mongodb: {} }, staging: { domain: "test.example.org" } }),
    );
    expect(parsed.database.engine).toBe("none");
  });

  test("passwords are generated Pulumi secrets, only for configured accessories", async () => {
    const plan = await planOf(studyConfig("digitalocean", "small", { accessories: { mariadb: {}, mongodb: {} } }), "acc");
    const names = plan.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "study-app-mariadb-app-password",
        "study-app-mariadb-analyst-password",
        "study-app-mongodb-root-password",
        "study-app-mongodb-app-password",
      ]),
    );
    const plain = await planOf(studyConfig("digitalocean", "small"), "plain");
    expect(plain.resources.map((r) => r.name).filter((n) => /mariadb|mongodb/.test(n))).toEqual([]);
  });
});
