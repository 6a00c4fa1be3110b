// Every tier on AWS, planned under the mock engine: VPC, security groups, instances on the pinned
// Ubuntu image, encrypted EBS data volumes, elastic IP, Route 53 records, options and cost.
import { parse } from "yaml";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { unpackUserData } from "../src/clouds/userData";
import { fetchCommandOf, hostFilesKey, HOST_FILES_PREFIX, mergeHostFiles, READ_AT_PACKAGE_INSTALL } from "../src/clouds/hostFilesBundle";
import { mockImageId, mockVolumeId, PlanResult } from "../src/plan";
import { ubuntuImageName } from "../src/clouds/aws";
import { one, ofType, planOf, studyConfig, typeCounts } from "./helpers";

const T = {
  instance: "aws:ec2/instance:Instance",
  volume: "aws:ebs/volume:Volume",
  attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
  group: "aws:ec2/securityGroup:SecurityGroup",
  defaultGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  eip: "aws:ec2/eip:Eip",
  eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
  record: "aws:route53/record:Record",
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
};

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  plans.small = await planOf(studyConfig("aws", "small", { database: { engine: "sqlite" } }));
  plans.large = await planOf(studyConfig("aws", "large", { region: "eu-west-1" }));
  plans.twoServer = await planOf(studyConfig("aws", "two-server"));
  plans.twoServerMariadb = await planOf(studyConfig("aws", "two-server", { database: { engine: "none" }, accessories: { mariadb: {} } }));
  plans.twoServerBoth = await planOf(studyConfig("aws", "two-server", { accessories: { mariadb: {} } }));
});

type Ingress = { fromPort: number; toPort: number; cidrBlocks?: string[]; ipv6CidrBlocks?: string[]; securityGroups?: string[] };
const ingress = (g: { inputs: Record<string, unknown> }) =>
  (g.inputs.ingress as Ingress[]).map((r) => ({
    port: r.fromPort,
    to: r.toPort,
    v4: r.cidrBlocks ?? [],
    v6: r.ipv6CidrBlocks ?? [],
    groups: r.securityGroups ?? [],
  }));

describe("resources per tier", () => {
  const network = {
    [T.vpc]: 1,
    [T.defaultGroup]: 1,
    "aws:ec2/internetGateway:InternetGateway": 1,
    [T.subnet]: 1,
    "aws:ec2/routeTable:RouteTable": 1,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
  };
  /** Per host: the bucket its files travel in, and the role that lets it read them. */
  const hostFiles = (n: number) =>
    Object.fromEntries(
      [
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/instanceProfile:InstanceProfile",
      ].map((t) => [t, n]),
    );
  test.each([
    [
      "small",
      {
        [T.group]: 1,
        "random:index/randomPassword:RandomPassword": 2,
        [T.volume]: 1,
        [T.instance]: 1,
        [T.attachment]: 1,
        [T.eip]: 1,
        [T.eipAssociation]: 1,
        [T.record]: 4,
        ...hostFiles(1),
      },
    ],
    [
      "large",
      {
        [T.group]: 1,
        "random:index/randomPassword:RandomPassword": 4,
        [T.volume]: 1,
        [T.instance]: 1,
        [T.attachment]: 1,
        [T.eip]: 1,
        [T.eipAssociation]: 1,
        [T.record]: 4,
        ...hostFiles(1),
      },
    ],
    [
      "twoServer",
      {
        [T.group]: 2,
        "random:index/randomPassword:RandomPassword": 4,
        [T.volume]: 2,
        [T.instance]: 2,
        [T.attachment]: 2,
        [T.eip]: 1,
        [T.eipAssociation]: 1,
        [T.record]: 4,
        ...hostFiles(2),
      },
    ],
  ])("%s: a VPC with one public subnet, and per host an instance, its volume, its files' bucket and role (one elastic IP for the app)", (tier, hosts) => {
    expect(typeCounts(plans[tier])).toEqual({ ...network, ...hosts });
  });

  test("every regional resource names the study's region, whatever the provider's default", () => {
    // Route 53 and IAM are global services.
    const regional = plans.large.resources.filter((r) => r.custom && r.type.startsWith("aws:") && r.type !== T.record && !r.type.startsWith("aws:iam/"));
    expect(regional.length).toBeGreaterThan(10);
    for (const r of regional) expect([r.name, r.inputs.region]).toEqual([r.name, "eu-west-1"]);
  });

  test("user data goes gzipped (AWS takes 16 KB at most) and unpacks to #cloud-config", () => {
    for (const i of ofType(plans.large, T.instance)) {
      expect(i.inputs.userData).toBeUndefined();
      const packed = Buffer.from(String(plans.large.rawInputs.get(i.urn)?.userDataBase64), "base64");
      expect(packed.length).toBeLessThanOrEqual(16 * 1024);
      expect(unpackUserData(plans.large.rawInputs.get(i.urn)!)!.startsWith("#cloud-config\n")).toBe(true);
    }
  });

  test("each host's files travel in a private S3 object only its instance's role may read; the user data fetches and checks them", () => {
    for (const host of ["study-app", "study-db"]) {
      const plan = plans.twoServer;
      const instance = one(plan, T.instance, `${host}-server`);
      const bucket = one(plan, "aws:s3/bucket:Bucket", `${host}-files`);
      const object = one(plan, "aws:s3/bucketObjectv2:BucketObjectv2", `${host}-files`);
      // The files hold secrets: masked in the plan, gzipped #cloud-config write_files inside.
      expect(object.inputs.contentBase64).toMatch(/^\[secret [0-9a-f]{12}\]$/);
      const bundle = Buffer.from(String(plan.rawInputs.get(object.urn)!.contentBase64), "base64");
      const files = (parse(gunzipSync(bundle).toString("utf8")) as { write_files: { path: string }[] }).write_files;
      expect(files.map((f) => f.path)).toContain("/usr/local/sbin/studyhost-provision");
      // Named by its content, and kept when a newer plan replaces it (a replaced machine keeps its first user data).
      const sha = createHash("sha256").update(bundle).digest("hex");
      expect(object.inputs).toMatchObject({ key: hostFilesKey(sha), serverSideEncryption: "AES256" });
      expect(object.options.retainOnDelete).toBe(true);
      // The user data has no files; its first command fetches this object and checks its sha256.
      const userData = unpackUserData(plan.rawInputs.get(instance.urn)!)!;
      // Only the files a package reads as it is installed stay (PostgreSQL's createcluster setting on the database host).
      const inline = ((parse(userData) as { write_files?: { path: string }[] }).write_files ?? []).map((f) => f.path);
      expect(inline).toEqual(host === "study-db" ? [...READ_AT_PACKAGE_INSTALL] : []);
      const fetch = fetchCommandOf(userData)!;
      expect((parse(userData) as { runcmd: string[][] }).runcmd[0][3]).toBe("studyhost-fetch-host-files");
      expect(fetch.args.slice(1)).toEqual([hostFilesKey(sha), "us-east-1", sha]);
      expect((parse(userData) as { packages: string[] }).packages).toContain("rclone");
      // Private and TLS-only; the role reads this one object, and the instance boots only after both exist.
      expect(one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${host}-files-private`).inputs).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const tlsOnly = JSON.parse(String(one(plan, "aws:s3/bucketPolicy:BucketPolicy", `${host}-files-tls-only`).inputs.policy));
      expect(tlsOnly.Statement).toEqual([expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]);
      const role = JSON.parse(String(one(plan, "aws:iam/role:Role", `${host}-role`).inputs.assumeRolePolicy));
      expect(role.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
      const policy = JSON.parse(String(one(plan, "aws:iam/rolePolicy:RolePolicy", `${host}-read-files`).inputs.policy));
      expect(policy.Statement).toEqual([{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${fetch.args[0]}/${HOST_FILES_PREFIX}*` }]);
      // (The mock engine names a bucket and a profile as the provider does: the resource's name and a suffix.)
      expect(fetch.args[0]).toMatch(new RegExp(`^${host}-files-[0-9a-f]{7}$`));
      expect(bucket.inputs.forceDestroy).toBe(true);
      expect(one(plan, "aws:iam/instanceProfile:InstanceProfile", `${host}-profile`).inputs.role).toMatch(new RegExp(`^${host}-role-`));
      expect(instance.inputs.iamInstanceProfile).toMatch(new RegExp(`^${host}-profile-[0-9a-f]{7}$`));
      expect(instance.options.dependsOn).toEqual(expect.arrayContaining([object.urn, one(plan, "aws:iam/rolePolicy:RolePolicy", `${host}-read-files`).urn]));
      // Put back together, the files make the whole document the host applies.
      expect(mergeHostFiles(userData, bundle)).toContain("write_files:");
    }
  });

  test("the data volume's NVMe device path in user data is the attached volume's", () => {
    for (const host of ["study-app", "study-db"]) {
      const instance = one(plans.twoServer, T.instance, `${host}-server`);
      const volumeId = mockVolumeId(`${host}-data`);
      const bootcmd = (parse(unpackUserData(plans.twoServer.rawInputs.get(instance.urn)!)!) as { bootcmd: string[][] }).bootcmd[0];
      expect(bootcmd[bootcmd.length - 2]).toBe(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`);
    }
  });

  test.each([
    ["small", "t3.micro", 10],
    ["large", "t3.medium", 50],
    ["twoServer", "t3.small", 20],
  ])("%s: app instance %s with an encrypted %d GB gp3 data volume in the subnet's zone", (tier, type, gb) => {
    const instance = one(plans[tier], T.instance, "study-app-server");
    expect(instance.inputs.instanceType).toBe(type);
    expect(instance.inputs.metadataOptions).toMatchObject({ httpTokens: "required" });
    expect(instance.inputs.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3" });
    const volume = one(plans[tier], T.volume, "study-app-data");
    expect(volume.inputs).toMatchObject({ size: gb, type: "gp3", encrypted: true });
    expect(volume.inputs.availabilityZone).toBe(instance.inputs.availabilityZone);
  });

  test("the AMI is the pinned Ubuntu 24.04 build, looked up by name (same id for every host)", () => {
    const amis = ofType(plans.twoServer, T.instance).map((i) => i.inputs.ami);
    expect(new Set(amis)).toEqual(new Set([mockImageId("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251022")]));
    expect(ubuntuImageName("arm64")).toBe("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251022");
  });

  test("two-server: database instance t3.small with a 50 GB volume and no elastic IP", () => {
    expect(one(plans.twoServer, T.instance, "study-db-server").inputs.instanceType).toBe("t3.small");
    expect(one(plans.twoServer, T.volume, "study-db-data").inputs.size).toBe(50);
    expect(ofType(plans.twoServer, T.eip)).toHaveLength(1);
  });

  test("the region picks the zone", () => {
    expect(one(plans.large, T.subnet).inputs.availabilityZone).toBe("eu-west-1a");
  });
});

describe("security groups", () => {
  test("app host: 80 and 443 from anywhere, 22 from the admin networks (v4 and v6 split), nothing else", () => {
    expect(ingress(one(plans.twoServer, T.group, "study-app-firewall"))).toEqual([
      { port: 80, to: 80, v4: ["0.0.0.0/0"], v6: ["::/0"], groups: [] },
      { port: 443, to: 443, v4: ["0.0.0.0/0"], v6: ["::/0"], groups: [] },
      { port: 22, to: 22, v4: ["203.0.113.0/24"], v6: ["2001:db8:1::/48"], groups: [] },
    ]);
  });

  test("database host: 5432 only from the app's security group, 22 from admins", () => {
    const appInstance = one(plans.twoServer, T.instance, "study-app-server");
    const appGroup = (appInstance.inputs.vpcSecurityGroupIds as string[])[0];
    expect(ingress(one(plans.twoServer, T.group, "study-db-firewall"))).toEqual([
      { port: 5432, to: 5432, v4: [], v6: [], groups: [appGroup] },
      { port: 22, to: 22, v4: ["203.0.113.0/24"], v6: ["2001:db8:1::/48"], groups: [] },
    ]);
    const dbGroups = one(plans.twoServer, T.instance, "study-db-server").inputs.vpcSecurityGroupIds as string[];
    expect(dbGroups).toHaveLength(1);
    expect(dbGroups[0]).not.toBe(appGroup);
  });

  test("database host with MariaDB: 3306 only from the app's security group (5432 too with PostgreSQL, not without)", () => {
    const admins = { port: 22, to: 22, v4: ["203.0.113.0/24"], v6: ["2001:db8:1::/48"], groups: [] };
    for (const [plan, ports] of [
      [plans.twoServerMariadb, [3306]],
      [plans.twoServerBoth, [5432, 3306]],
    ] as const) {
      const appGroup = (one(plan, T.instance, "study-app-server").inputs.vpcSecurityGroupIds as string[])[0];
      expect(ingress(one(plan, T.group, "study-db-firewall"))).toEqual([...ports.map((p) => ({ port: p, to: p, v4: [], v6: [], groups: [appGroup] })), admins]);
    }
    // MariaDB's passwords belong to the database host that runs it; the app host makes none of its own.
    const passwords = ofType(plans.twoServerMariadb, "random:index/randomPassword:RandomPassword").map((r) => r.name);
    expect(passwords).toEqual(expect.arrayContaining(["study-db-mariadb-app-password", "study-db-mariadb-analyst-password"]));
    expect(passwords.filter((n) => n.startsWith("study-app-mariadb"))).toEqual([]);
  });

  test("the VPC's default security group is stripped of every rule", () => {
    const d = one(plans.small, T.defaultGroup);
    expect(d.inputs.ingress ?? []).toEqual([]);
    expect(d.inputs.egress ?? []).toEqual([]);
  });
});

describe("DNS in Route 53", () => {
  test.each(["small", "large", "twoServer"])("%s: an A and a CAA record per name, no AAAA (no IPv6 on AWS as configured)", (tier) => {
    const records = ofType(plans[tier], T.record)
      .map((r) => `${r.inputs.name} ${r.inputs.type} ${(r.inputs.records as string[]).join(",")}`)
      .sort();
    const ip = plans[tier].outputs.publicIpv4;
    expect(records).toEqual(
      [
        `study.example.org A ${ip}`,
        'study.example.org CAA 0 issue "letsencrypt.org"',
        `www.study.example.org A ${ip}`,
        'www.study.example.org CAA 0 issue "letsencrypt.org"',
      ].sort(),
    );
    expect(plans[tier].outputs.publicIpv6).toBeUndefined();
    for (const r of ofType(plans[tier], T.record)) expect(r.inputs.zoneId).toMatch(/^Z0/);
  });
});

describe("options that keep data safe", () => {
  test("volumes and the database instance are protected and retained; instances ignore user data and keys", () => {
    const dataBearing = [...ofType(plans.twoServer, T.volume), one(plans.twoServer, T.instance, "study-db-server")];
    for (const r of dataBearing) expect(r.options).toMatchObject({ protect: true, retainOnDelete: true });
    for (const i of ofType(plans.twoServer, T.instance)) expect(i.options.ignoreChanges).toEqual(["userData", "userDataBase64", "keyName"]);
    for (const a of [...ofType(plans.twoServer, T.attachment), ...ofType(plans.twoServer, T.eipAssociation)]) {
      expect(a.options.deleteBeforeReplace).toBe(true);
    }
  });
});

describe("outputs", () => {
  test.each(["small", "large", "twoServer"])("%s: URL, elastic IP, SSH command, database", (tier) => {
    const out = plans[tier].outputs;
    expect(out.url).toBe("https://study.example.org/");
    expect(out.publicIpv4).toMatch(/^198\.51\.100\.\d+$/);
    expect(out.sshCommand).toBe(`ssh studyadmin@${out.publicIpv4}`);
    if (tier !== "twoServer") expect(out.databaseHost).toBe({ small: undefined, large: "localhost" }[tier]);
  });

  test("two-server: the app connects to the database host's private address in the subnet", () => {
    expect(plans.twoServer.outputs.databaseHost).toMatch(/^10\.42\.1\.\d+$/);
  });
});

describe("cost", () => {
  test.each([
    ["small", 13.64],
    ["large", 39.62],
    ["twoServer", 46.46],
  ])("%s costs $%d a month at us-east-1 list prices", (tier, usd) => {
    const cost = plans[tier].outputs.cost as { monthlyUsd: number; note: string; items: { item: string }[] };
    expect(cost.monthlyUsd).toBeCloseTo(usd, 2);
    expect(cost.note).toMatch(/us-east-1/);
    expect(cost.items.map((i) => i.item)).toContain("study-app: public IPv4 address");
  });
});
