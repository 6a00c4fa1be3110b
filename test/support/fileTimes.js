// A jest reporter for the end-to-end run: each file's wall time, merged into
// bench/results/e2e-file-times.json when every file of the run passed (the figures
// test/e2e/sequencer.js orders the next run by), with the whole run's wall time and worker count.
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require("node:fs");
const { join, relative } = require("node:path");

class FileTimes {
  constructor(globalConfig) {
    this.root = globalConfig.rootDir;
    this.workers = globalConfig.maxWorkers;
  }

  onRunComplete(_contexts, results) {
    if (results.numFailedTestSuites > 0 || results.numRuntimeErrorTestSuites > 0) return;
    const out = join(this.root, "bench", "results");
    const file = join(out, "e2e-file-times.json");
    const before = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { seconds: {} };
    const seconds = { ...before.seconds };
    for (const r of results.testResults) seconds[relative(this.root, r.testFilePath)] = Math.round((r.perfStats.end - r.perfStats.start) / 100) / 10;
    const lastRun = {
      measuredAt: new Date().toISOString(),
      files: results.testResults.length,
      workers: this.workers,
      wallSeconds: Math.round((Date.now() - results.startTime) / 1000),
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(file, `${JSON.stringify({ lastRun, seconds }, null, 2)}\n`);
  }
}

module.exports = FileTimes;
