// The sizing formulas of src/host against the worked figures of ../shared/notes/server-practice.md
// (pgtune's "web" profile, gunicorn's (2 x cores) + 1, swap on small hosts), then the figures each tier
// actually renders, since the RAM each formula is given (half a shared host's, all of a database
// host's) is decided elsewhere.
import { gunicornWorkers, POSTGRES_ETC, postgresMemory, swapSizeMb } from "../src/host";
import type { PlanResult } from "../src/plan";
import { hostFilesOf, planOf, studyConfig } from "./helpers";

describe("PostgreSQL memory: pgtune's web profile", () => {
  // The notes' worked figures: 0.5 GB -> 128MB/384MB/32MB/4MB; 2 GB -> 512MB/1.5GB/128MB/~4.7MB;
  // 4 GB -> 1GB/3GB/256MB/~9.5MB. work_mem = (RAM - shared_buffers) / ((100 connections + 8 workers) * 3).
  test.each([
    [512, { sharedBuffersMb: 128, effectiveCacheSizeMb: 384, maintenanceWorkMemMb: 32, workMemKb: 4096 }],
    [2048, { sharedBuffersMb: 512, effectiveCacheSizeMb: 1536, maintenanceWorkMemMb: 128, workMemKb: 4854 }],
    [4096, { sharedBuffersMb: 1024, effectiveCacheSizeMb: 3072, maintenanceWorkMemMb: 256, workMemKb: 9709 }],
  ])("%d MB of RAM", (memoryMb, expected) => {
    expect(postgresMemory(memoryMb)).toMatchObject(expected);
  });

  test("work_mem is 4 MB at least, however little RAM", () => {
    // (512 - 128) MB / 324 is about 1.2 MB: the floor applies.
    expect(postgresMemory(512).workMemKb).toBe(4096);
    expect(postgresMemory(256).workMemKb).toBe(4096);
  });

  test("maintenance_work_mem stops at 8 GB; wal_buffers is 3% of shared_buffers, at most 16 MB", () => {
    expect(postgresMemory(64 * 1024).maintenanceWorkMemMb).toBe(4096);
    expect(postgresMemory(256 * 1024).maintenanceWorkMemMb).toBe(8192);
    expect(postgresMemory(512).walBuffersKb).toBe(3932); // 3% of 128 MB
    expect(postgresMemory(2048).walBuffersKb).toBe(15728); // 3% of 512 MB
    expect(postgresMemory(4096).walBuffersKb).toBe(16384); // 3% of 1 GB is 30 MB: capped
  });
});

describe("gunicorn workers: (2 x cores) + 1, fewer when PostgreSQL shares the host", () => {
  test.each([
    [1, "alone", 3],
    [2, "alone", 5],
    [4, "alone", 9],
    // Sharing the cores with PostgreSQL: cores + 1.
    [1, "beside PostgreSQL", 2],
    [2, "beside PostgreSQL", 3],
    [4, "beside PostgreSQL", 5],
  ])("%d cores, %s: %d workers", (cores, placement, workers) => {
    expect(gunicornWorkers(cores, placement !== "alone")).toBe(workers);
  });
});

describe("swap: on hosts of 2 GB or less, as much as the RAM and at least 1 GB", () => {
  test.each([
    [0.5, 1024],
    [1, 1024],
    [2, 2048],
    [4, 0],
    [8, 0],
  ])("%d GB of RAM: %d MB of swap", (memoryGb, mb) => {
    expect(swapSizeMb(memoryGb)).toBe(mb);
  });
});

describe("what each tier renders (DigitalOcean sizes: small 1 vCPU / 1 GB, large 2 / 4 GB, two-server 2 / 2 GB each)", () => {
  const plans: Record<string, PlanResult> = {};
  beforeAll(async () => {
    for (const tier of ["small", "large", "two-server"]) plans[tier] = await planOf(studyConfig("digitalocean", tier));
  });
  const files = (tier: string, host: "app" | "db") => hostFilesOf(plans[tier], `study-${host}`);
  const postgresSettings = (tier: string, host: "app" | "db") => files(tier, host)[`${POSTGRES_ETC}/studyhost.conf`];
  const workers = (tier: string) => {
    const units = Object.entries(files(tier, "app")).filter(([path, text]) => path.endsWith(".service") && text.includes("WEB_CONCURRENCY="));
    expect(units).toHaveLength(1);
    return Number(/^Environment=WEB_CONCURRENCY=(\d+)$/m.exec(units[0][1])?.[1]);
  };
  const swapUnit = (tier: string, host: "app" | "db") => files(tier, host)["/etc/systemd/system/studyhost-swap.service"];

  test("PostgreSQL gets half of a shared host's RAM and all of a database host's", () => {
    // small: 512 MB of 1 GB; large: 2 GB of 4 GB; two-server's database host: all its 2 GB.
    const expected = {
      small: ["128MB", "384MB", "32MB", "4096kB"],
      large: ["512MB", "1536MB", "128MB", "4854kB"],
      "two-server": ["512MB", "1536MB", "128MB", "4854kB"],
    };
    for (const [tier, [shared, cache, maintenance, work]] of Object.entries(expected)) {
      const text = postgresSettings(tier, tier === "two-server" ? "db" : "app");
      for (const line of [`shared_buffers = ${shared}`, `effective_cache_size = ${cache}`, `maintenance_work_mem = ${maintenance}`, `work_mem = ${work}`]) {
        expect([tier, text]).toEqual([tier, expect.stringContaining(`\n${line}\n`)]);
      }
    }
    expect(postgresSettings("two-server", "app")).toBeUndefined();
  });

  test("gunicorn: fewer workers beside PostgreSQL (small 2, large 3), the full (2 x 2) + 1 on two-server's app host", () => {
    expect([workers("small"), workers("large"), workers("two-server")]).toEqual([2, 3, 5]);
  });

  test("swap: 1 GB on the small host, 2 GB on each two-server host, none on the 4 GB large host", () => {
    expect(swapUnit("small", "app")).toMatch(/fallocate -l 1024M /);
    expect(swapUnit("two-server", "app")).toMatch(/fallocate -l 2048M /);
    expect(swapUnit("two-server", "db")).toMatch(/fallocate -l 2048M /);
    expect(swapUnit("large", "app")).toBeUndefined();
  });
});
