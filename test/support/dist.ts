// The built package (dist/) that test/host/cli.test.ts and test/host/package.test.ts run, and that
// `npm test` builds before jest starts. The tests never build it themselves: a build empties dist/
// first, while other test files (jest runs two at a time) and the end-to-end labs run the CLI from it.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** The newest TypeScript source the build compiles, and its modification time. */
function newestSource(repo: string): { file: string; mtimeMs: number } {
  let newest = { file: join(repo, "index.ts"), mtimeMs: statSync(join(repo, "index.ts")).mtimeMs };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        const mtimeMs = statSync(full).mtimeMs;
        if (mtimeMs > newest.mtimeMs) newest = { file: full, mtimeMs };
      }
    }
  };
  for (const dir of ["src", "components", "stacks"]) walk(join(repo, dir));
  return newest;
}

/** Throws, saying what to run, unless dist/ is built and newer than every source it is built from. */
export function assertBuilt(repo: string): void {
  const distIndex = join(repo, "dist", "index.js");
  if (!existsSync(distIndex) || !existsSync(join(repo, "dist", "src", "cli", "main.js")))
    throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  const newest = newestSource(repo);
  if (statSync(distIndex).mtimeMs < newest.mtimeMs)
    throw new Error(`dist/ is older than ${relative(repo, newest.file)}: run \`npm run build\` (npm test does)`);
}
