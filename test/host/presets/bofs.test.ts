// The bofs preset against its guide, ../shared/seeds/000_bf5bb7d6266ac38a.txt: production.toml as
// Python's own tomllib reads it (an independent parser), rendered from Pulumi.bofs.yaml exactly as
// `plan --out` does. Everything else of the preset: test/presets/bofs.test.ts. Needs Debian's python3.
import { spawnSync } from "node:child_process";
import { AppHostView, example, renderAppHost } from "../../presets/support";

/** A TOML file as Python's own tomllib reads it (an independent parser). */
function tomlAsPython(text: string): unknown {
  const r = spawnSync("/usr/bin/python3", ["-c", "import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))"], {
    input: text,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tomllib refused the file: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

let small: AppHostView;
let large: AppHostView;
beforeAll(async () => {
  small = await renderAppHost(example("bofs"));
  large = await renderAppHost(example("bofs", { tier: "large", database: { engine: "postgres" } }), "aws");
}, 60_000);

const env = (h: AppHostView) => Object.fromEntries([...h.file("etc/bofs/env").matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1], m[2]]));

test("Complete Production Configuration Example: production.toml with generated secrets and the tier's database (SQLite vs Production Databases)", () => {
  const toml = tomlAsPython(small.file("etc/bofs/production.toml")) as Record<string, unknown>;
  expect(toml).toMatchObject({ TITLE: "Memory and Mood Study", PORT: 5000, USE_ADMIN: true, ALLOW_RETAKES: false });
  expect(toml.PAGE_LIST).toEqual([
    { name: "Consent", path: "consent" },
    { name: "Demographics", path: "questionnaire/demographics" },
    { name: "End", path: "end" },
  ]);
  // Strong Admin Password / SECRET_KEY: the generated values, the same the app's env holds.
  expect(toml.SECRET_KEY).toBe(env(small).SECRET_KEY);
  expect(toml.ADMIN_PASSWORD).toBe(env(small).ADMIN_PASSWORD);
  expect(toml.SECRET_KEY).not.toBe(toml.ADMIN_PASSWORD);
  expect(toml.SQLALCHEMY_DATABASE_URI).toBe("sqlite:////var/lib/studyhost/bofs/bofs.sqlite3");
  expect((tomlAsPython(large.file("etc/bofs/production.toml")) as Record<string, string>).SQLALCHEMY_DATABASE_URI).toMatch(
    /^postgresql:\/\/bofs:[^@]+@localhost:5432\/bofs$/,
  );
});

test("System Requirements / SQLite vs Production Databases: SQLite on small, PostgreSQL otherwise, when the study leaves the engine to the preset", async () => {
  const { database: _, ...unset } = example("bofs");
  const uri = (h: AppHostView) => (tomlAsPython(h.file("etc/bofs/production.toml")) as Record<string, string>).SQLALCHEMY_DATABASE_URI;
  expect(uri(await renderAppHost(unset))).toBe("sqlite:////var/lib/studyhost/bofs/bofs.sqlite3");
  expect(uri(await renderAppHost({ ...unset, tier: "large" }))).toMatch(/^postgresql:\/\/bofs:[^@]+@localhost:5432\/bofs$/);
  // The user's own choice wins: PostgreSQL on small is allowed.
  expect(uri(await renderAppHost({ ...unset, database: { engine: "postgres" } }))).toMatch(/^postgresql:/);
}, 60_000);
