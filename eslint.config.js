// `npm run lint`: no import cycles, and no import that points up the layers (issue 13; README,
// "Layout"), plus the recommended rules that the code already keeps.
//
// eslint-plugin-import-x, not eslint-plugin-import: import's releases accept ESLint up to 9, and this is
// ESLint 10; import-x is its maintained fork, with the same rules (no-cycle, no-restricted-paths), and
// resolves TypeScript's extensionless imports itself.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { defineConfig } = require("eslint/config");
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");
const importX = require("eslint-plugin-import-x");
const typeCycles = require("./scripts/eslint-type-cycles");

/**
 * The layers, lowest first, as README.md's Layout table numbers them: the one written list of them,
 * read here so that the documentation and the rule cannot disagree.
 */
function readLayers() {
  const readme = fs.readFileSync(path.join(__dirname, "README.md"), "utf8");
  const layout = readme.split(/^## /m).find((section) => section.startsWith("Layout\n")) ?? "";
  const rows = [...layout.matchAll(/^\| (\d+) \| `([^`]+)` \|/gm)];
  if (rows.length < 2 || rows.some((row, i) => Number(row[1]) !== i + 1)) {
    throw new Error("eslint.config.js: README.md's Layout section must number its layers 1, 2, 3, ... in a table (| 1 | `folder` | ... |)");
  }
  return rows.map((row) => row[2].replace(/\/$/, ""));
}

/** One zone for each pair of layers: the lower may not import the higher. */
function upwardZones(layers) {
  return layers.flatMap((lower, i) =>
    layers.slice(i + 1).map((higher, j) => ({
      target: lower,
      from: higher,
      message: `${lower} is layer ${i + 1} and ${higher} layer ${i + 2 + j}: a layer imports only from lower layers (README.md, "Layout").`,
    })),
  );
}

module.exports = defineConfig([
  { ignores: ["dist/", "node_modules/", "**/*.d.ts"] },
  {
    files: ["index.ts", "{src,components,stacks,test,bench}/**/*.{ts,js}"],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { "import-x": importX, "studyhost-type-cycles": typeCycles },
    languageOptions: {
      parser: tseslint.parser,
      sourceType: "module",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
    },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [importX.createNodeResolver({ extensions: [".ts", ".js", ".json", ".node"] })],
    },
    rules: {
      // Cycles of value imports; the type-only ones below.
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "studyhost-type-cycles/no-type-cycle": "error",
      "import-x/no-restricted-paths": ["error", { basePath: __dirname, zones: upwardZones(readLayers()) }],

      // The recommended rules, but for those the code breaks on purpose:
      // `_name` is how a destructuring leaves a key out (const { region: _region, ...rest } = ...).
      "@typescript-eslint/no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // Walking zod's and Pulumi's internals (the config's error wording, the plan's mock monitor).
      "@typescript-eslint/no-explicit-any": "off",
      // `\/` in a regular expression's character class, written so a path's slashes read as such.
      "no-useless-escape": "off",
      // Rendered files' indentation, matched space for space: "    app)" reads better than " {4}app)".
      "no-regex-spaces": "off",
    },
  },
  {
    // CommonJS (the Jest configs, bench/, test/support's reporters): require is how they import.
    files: ["**/*.js"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Host assets run by the MongoDB shell (src/host/databases/mongodb-*.js), which provides `db`.
    files: ["src/host/**/*.js"],
    languageOptions: { globals: { db: "readonly" } },
  },
]);
