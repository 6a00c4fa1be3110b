// Every tier on DigitalOcean, planned under the mock engine: what is created, how big, what is open,
// what DNS says, which options guard the data, and what it costs.
import { parse } from "yaml";
import { PlanResult } from "../src/plan";
import { inboundRules as inbound, one, ofType, planOf, studyConfig, typeCounts } from "./helpers";

const T = {
  droplet: "digitalocean:index/droplet:Droplet",
  volume: "digitalocean:index/volume:Volume",
  attachment: "digitalocean:index/volumeAttachment:VolumeAttachment",
  firewall: "digitalocean:index/firewall:Firewall",
  record: "digitalocean:index/dnsRecord:DnsRecord",
  reservedIp: "digitalocean:index/reservedIp:ReservedIp",
  ipAssignment: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
  tag: "digitalocean:index/tag:Tag",
  vpc: "digitalocean:index/vpc:Vpc",
  password: "random:index/randomPassword:RandomPassword",
};

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  plans.small = await planOf(studyConfig("digitalocean", "small", { database: { engine: "sqlite" } }));
  plans.smallPostgres = await planOf(studyConfig("digitalocean", "small"));
  plans.large = await planOf(studyConfig("digitalocean", "large", { region: "fra1" }));
  plans.twoServer = await planOf(studyConfig("digitalocean", "two-server"));
  plans.twoServerMariadb = await planOf(studyConfig("digitalocean", "two-server", { database: { engine: "none" }, accessories: { mariadb: {} } }));
  plans.twoServerBoth = await planOf(studyConfig("digitalocean", "two-server", { accessories: { mariadb: {} } }));
});

describe("resources per tier", () => {
  test("small with SQLite: one droplet, its volume, reserved IP, firewall, DNS; no database host", () => {
    expect(typeCounts(plans.small)).toEqual({
      [T.vpc]: 1,
      [T.tag]: 1,
      [T.firewall]: 1,
      [T.password]: 2,
      [T.volume]: 1,
      [T.droplet]: 1,
      [T.attachment]: 1,
      [T.reservedIp]: 1,
      [T.ipAssignment]: 1,
      [T.record]: 6,
    });
    expect(ofType(plans.small, "studyhost:database:DatabaseHost")).toHaveLength(0);
  });

  test("small with PostgreSQL adds the two database roles' passwords and nothing else", () => {
    expect(typeCounts(plans.smallPostgres)[T.password]).toBe(4);
    expect(typeCounts(plans.smallPostgres)[T.droplet]).toBe(1);
    expect(one(plans.smallPostgres, "studyhost:database:DatabaseHost").name).toBe("study-db");
  });

  test("two-server: a second droplet with its own volume and firewall, no second reserved IP", () => {
    const counts = typeCounts(plans.twoServer);
    expect(counts[T.droplet]).toBe(2);
    expect(counts[T.volume]).toBe(2);
    expect(counts[T.attachment]).toBe(2);
    expect(counts[T.firewall]).toBe(2);
    expect(counts[T.reservedIp]).toBe(1);
  });

  test.each([
    ["small", "s-1vcpu-1gb", 10],
    ["large", "s-2vcpu-4gb", 50],
    ["twoServer", "s-2vcpu-2gb", 20],
  ])("%s: app droplet %s on Ubuntu 24.04 with a %d GB data volume", (tier, size, gb) => {
    const droplet = one(plans[tier], T.droplet, "study-app-server");
    expect(droplet.inputs).toMatchObject({ size, image: "ubuntu-24-04-x64", ipv6: true });
    expect(one(plans[tier], T.volume, "study-app-data").inputs.size).toBe(gb);
  });

  test("two-server database host: s-2vcpu-2gb, 50 GB volume, same VPC as the app", () => {
    const db = one(plans.twoServer, T.droplet, "study-db-server");
    const app = one(plans.twoServer, T.droplet, "study-app-server");
    expect(db.inputs.size).toBe("s-2vcpu-2gb");
    expect(one(plans.twoServer, T.volume, "study-db-data").inputs.size).toBe(50);
    expect(db.inputs.vpcUuid).toBe(app.inputs.vpcUuid);
    expect(db.inputs.vpcUuid).toMatch(/-vpc-mock$/);
  });

  test("the region reaches every regional resource", () => {
    for (const type of [T.droplet, T.volume, T.reservedIp, T.vpc]) {
      for (const r of ofType(plans.large, type)) expect(r.inputs.region).toBe("fra1");
    }
  });
});

describe("firewalls", () => {
  test("app host: 80 and 443 from anywhere, 22 from the admin networks only, nothing else", () => {
    const fw = one(plans.twoServer, T.firewall, "study-app-firewall");
    expect(inbound(fw)).toEqual([
      { port: "80", from: ["0.0.0.0/0", "::/0"] },
      { port: "443", from: ["0.0.0.0/0", "::/0"] },
      { port: "22", from: ["203.0.113.0/24", "2001:db8:1::/48"] },
    ]);
  });

  test("database host: 5432 only from droplets carrying the app firewall's tag, 22 from admins", () => {
    const fw = one(plans.twoServer, T.firewall, "study-db-firewall");
    const appTag = (one(plans.twoServer, T.droplet, "study-app-server").inputs.tags as string[])[0];
    expect(inbound(fw)).toEqual([
      { port: "5432", from: [appTag] },
      { port: "22", from: ["203.0.113.0/24", "2001:db8:1::/48"] },
    ]);
    // Each droplet is in its own firewall: the database's tag is not on the app droplet.
    const dbTag = (one(plans.twoServer, T.droplet, "study-db-server").inputs.tags as string[])[0];
    expect(dbTag).not.toBe(appTag);
    expect(fw.inputs.tags as string[]).toEqual([dbTag]);
  });

  test("database host with MariaDB: 3306 only from the app firewall's tag (5432 too with PostgreSQL, not without)", () => {
    const admins = { port: "22", from: ["203.0.113.0/24", "2001:db8:1::/48"] };
    for (const [plan, ports] of [
      [plans.twoServerMariadb, ["3306"]],
      [plans.twoServerBoth, ["5432", "3306"]],
    ] as const) {
      const appTag = (one(plan, T.droplet, "study-app-server").inputs.tags as string[])[0];
      expect(inbound(one(plan, T.firewall, "study-db-firewall"))).toEqual([...ports.map((port) => ({ port, from: [appTag] })), admins]);
    }
    // The database host keeps its name and protection whichever databases it holds.
    expect(one(plans.twoServerMariadb, T.droplet, "study-db-server").options.protect).toBe(true);
  });
});

describe("DNS", () => {
  test("A, AAAA and a Let's Encrypt CAA record for the domain and each extra name, in the parent zone", () => {
    const records = ofType(plans.small, T.record)
      .map((r) => `${r.inputs.domain} ${r.inputs.name} ${r.inputs.type} ${r.inputs.value}`)
      .sort();
    const ip = plans.small.outputs.publicIpv4;
    const v6 = plans.small.outputs.publicIpv6;
    expect(records).toEqual(
      [
        `example.org study A ${ip}`,
        `example.org study AAAA ${v6}`,
        "example.org study CAA letsencrypt.org.",
        `example.org www.study A ${ip}`,
        `example.org www.study AAAA ${v6}`,
        "example.org www.study CAA letsencrypt.org.",
      ].sort(),
    );
  });

  test("manageDns false creates no records but still reports them", async () => {
    const plan = await planOf(studyConfig("digitalocean", "small", { manageDns: false }));
    expect(ofType(plan, T.record)).toHaveLength(0);
    expect((plan.outputs.dnsRecords as unknown[]).length).toBe(6);
  });

  test("a custom ACME directory (a test CA) gets no CAA record that would lock Let's Encrypt out", async () => {
    const plan = await planOf(studyConfig("digitalocean", "small", { tls: { acmeDirectory: "https://10.0.0.1:14000/dir" } }));
    expect(ofType(plan, T.record).filter((r) => r.inputs.type === "CAA")).toHaveLength(0);
  });
});

describe("options that keep data safe", () => {
  test("every volume and the database droplet are protected and retained on delete", () => {
    const dataBearing = [...ofType(plans.twoServer, T.volume), one(plans.twoServer, T.droplet, "study-db-server")];
    expect(dataBearing).toHaveLength(3);
    for (const r of dataBearing) expect(r.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test("droplets ignore user data and SSH key changes; attachments delete before replace", () => {
    for (const d of ofType(plans.twoServer, T.droplet)) expect(d.options.ignoreChanges).toEqual(["userData", "sshKeys"]);
    for (const type of [T.attachment, T.ipAssignment]) {
      for (const a of ofType(plans.twoServer, type)) expect(a.options.deleteBeforeReplace).toBe(true);
    }
  });

  test("user data holds secrets, so it is a secret input (shown as a digest)", () => {
    for (const d of ofType(plans.twoServer, T.droplet)) expect(d.inputs.userData).toMatch(/^\[secret [0-9a-f]{12}\]$/);
  });

  test("the data volume's device path in user data is the attached volume's", () => {
    for (const host of ["study-app", "study-db"]) {
      const droplet = one(plans.twoServer, T.droplet, `${host}-server`);
      const volumeName = one(plans.twoServer, T.volume, `${host}-data`).name;
      const userData = String(plans.twoServer.rawInputs.get(droplet.urn)?.userData);
      const bootcmd = (parse(userData) as { bootcmd: string[][] }).bootcmd[0];
      // The mock gives the volume the autoname `<name>-<hash>`, as Pulumi's engine would.
      expect(bootcmd[bootcmd.length - 2]).toMatch(new RegExp(`^/dev/disk/by-id/scsi-0DO_Volume_${volumeName}-[0-9a-f]{7}$`));
      expect(bootcmd[bootcmd.length - 1]).toBe("/var/lib/studyhost");
    }
  });

  test("droplets wait for their firewall, so none boots unguarded", () => {
    const app = one(plans.twoServer, T.droplet, "study-app-server");
    expect(app.options.dependsOn).toContain(one(plans.twoServer, T.firewall, "study-app-firewall").urn);
    const db = one(plans.twoServer, T.droplet, "study-db-server");
    expect(db.options.dependsOn).toContain(one(plans.twoServer, T.firewall, "study-db-firewall").urn);
  });
});

describe("outputs", () => {
  test.each([
    ["small", 7],
    ["large", 29],
    ["twoServer", 43],
  ])("%s: URL, address, SSH command and a monthly cost of $%d", (tier, usd) => {
    const out = plans[tier].outputs;
    expect(out.url).toBe("https://study.example.org/");
    expect(out.publicIpv4).toMatch(/^198\.51\.100\.\d+$/);
    expect(out.sshCommand).toBe(`ssh studyadmin@${out.publicIpv4}`);
    expect(out.monthlyCostUsd).toBe(usd);
    const cost = out.cost as { items: { monthlyUsd: number }[]; monthlyUsd: number };
    expect(cost.items.reduce((s, i) => s + i.monthlyUsd, 0)).toBeCloseTo(cost.monthlyUsd, 2);
  });

  test("the database host's private address is what the app connects to", () => {
    expect(plans.twoServer.outputs.databaseHost).toMatch(/^10\.116\.0\.\d+$/);
    expect(plans.large.outputs.databaseHost).toBe("localhost");
    expect(plans.small.outputs.databaseHost).toBeUndefined();
    expect(plans.small.outputs.database).toBe("sqlite");
  });
});
