// The order the end-to-end files start in: the longest first, by the wall time each took in the last
// recorded run (bench/results/e2e-file-times.json, written by test/support/fileTimes.js), so that
// two workers finish together instead of one waiting alone on a long file at the end. Jest's own
// timing cache is not there on a fresh clone, and file size says nothing about boot time.
const { existsSync, readFileSync } = require("node:fs");
const { join, relative } = require("node:path");
const Sequencer = require("@jest/test-sequencer").default;

const TIMES = join(__dirname, "..", "..", "bench", "results", "e2e-file-times.json");

class LongestFirst extends Sequencer {
  sort(tests) {
    const seconds = existsSync(TIMES) ? JSON.parse(readFileSync(TIMES, "utf8")).seconds : {};
    const root = join(__dirname, "..", "..");
    // A file with no recorded time is new: start it early, as if it were the longest.
    const time = (t) => seconds[relative(root, t.path)] ?? Infinity;
    return [...tests].sort((a, b) => time(b) - time(a) || a.path.localeCompare(b.path));
  }
}

module.exports = LongestFirst;
