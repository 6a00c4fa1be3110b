// `npm run lint`'s own rules (eslint.config.js, issue 13): an import up the layers of README's Layout
// table, and an import cycle of values or through a type, are errors; an import down the layers is
// not; and every folder of src/ is one of the layers, so none escapes the rule.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";

const ROOT = join(__dirname, "..");
// The config is passed in, not found by ESLint: ESLint loads a config file with import(), which
// Jest's module sandbox does not offer.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require("../eslint.config.js");
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });

/** What the lint says of `text` as if it were the file `file` (relative to the repository). */
async function problems(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe("npm run lint", () => {
  it("refuses an import from a higher layer, naming both layers' numbers", async () => {
    expect(await problems("src/config/probe.ts", 'import { expandPresets } from "../presets";\nexport const expand = expandPresets;\n')).toEqual([
      expect.stringMatching(/^import-x\/no-restricted-paths: .*src\/config is layer 2 and src\/presets layer 4/),
    ]);
    expect(await problems("components/probe.ts", 'import type { Study } from "../stacks/study";\nexport type S = Study;\n')).toEqual([
      expect.stringMatching(/^import-x\/no-restricted-paths: .*components is layer 6 and stacks layer 7/),
    ]);
    expect(await problems("src/cli/probe.ts", 'import * as api from "../../index";\nexport const all = api;\n')).toEqual([
      expect.stringMatching(/src\/cli is layer 10 and index\.ts layer 11/),
    ]);
  });

  it("takes an import from a lower layer", async () => {
    expect(await problems("src/presets/probe.ts", 'import { appPaths } from "../host/app";\nexport const paths = appPaths("study");\n')).toEqual([]);
    expect(await problems("src/local/probe.ts", 'import { writeHostFiles } from "../plan/hostFiles";\nexport const write = writeHostFiles;\n')).toEqual([]);
  });

  // src/config/validators.ts is imported by schema.ts and rules.ts, which load.ts imports.
  it("refuses a cycle of value imports", async () => {
    const cycle = await problems("src/config/validators.ts", 'import { parseExpandedConfig } from "./load";\nexport const parse = parseExpandedConfig;\n');
    expect(cycle).toEqual([expect.stringMatching(/^import-x\/no-cycle: Dependency cycle/)]);
  });

  it("refuses a cycle through a type-only import, naming its files", async () => {
    const cycle = await problems("src/config/validators.ts", 'import type { StudyConfig } from "./load";\nexport type Config = StudyConfig;\n');
    expect(cycle).toEqual([
      expect.stringMatching(
        /^studyhost-type-cycles\/no-type-cycle: .*: src\/config\/validators\.ts -> src\/config\/load\.ts -> src\/config\/(rules|schema)\.ts -> src\/config\/validators\.ts$/,
      ),
    ]);
  });

  it("counts every folder of src/ as a layer", async () => {
    const { rules } = (await eslint.calculateConfigForFile(join(ROOT, "src/config/probe.ts")))!;
    const [, { zones }] = rules!["import-x/no-restricted-paths"] as [unknown, { zones: { target: string; from: string }[] }];
    const folders = new Set(zones.flatMap((z) => [z.target, z.from]));
    const src = readdirSync(join(ROOT, "src"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `src/${e.name}`);
    expect(src.filter((f) => !folders.has(f))).toEqual([]);
    for (const f of ["components", "stacks", "index.ts"]) expect(folders).toContain(f);
  });
});
