#!/usr/bin/env node
// Runs the compiled CLI. `npm install` compiles it (the package's `prepare` script).
let main;
try {
  ({ main } = require("../dist/src/cli/main.js"));
} catch (err) {
  if (err && err.code === "MODULE_NOT_FOUND" && /dist\/src\/cli\/main/.test(err.message)) {
    process.stderr.write("studyhost is not built yet: run `npm install` (or `npm run build`) in its folder first\n");
    process.exit(2);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  // exitCode, not exit(): exit() would cut off output still queued for a pipe.
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`studyhost: ${err && err.stack ? err.stack : err}\n`);
    process.exit(3);
  },
);
