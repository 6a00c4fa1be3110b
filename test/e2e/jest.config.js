// The end-to-end tests: real hosts booted under systemd-nspawn (root, Linux, minutes). A jest config of
// their own (long timeouts); `npm test` runs them last, `npm run test:e2e` alone.
const { availableParallelism } = require("node:os");
const base = require("../../jest.config.js");

// Two labs at a time where the machine has the cores: every file boots its own lab (its own network
// namespaces, Pebble and lab number), every host its own cgroup (src/local/cgroup.sh), so two files
// never share anything but the cached image. Much of a file's time is waiting (reboots, timers,
// retries), which the other file's boot fills. STUDYHOST_E2E_WORKERS=1 boots one at a time.
const workers = Number(process.env.STUDYHOST_E2E_WORKERS || Math.min(2, availableParallelism()));

module.exports = {
  ...base,
  rootDir: "../..",
  testMatch: ["<rootDir>/test/e2e/**/*.e2e.ts"],
  maxWorkers: workers,
  // The longest files first, so the two workers end together (a fresh clone has no timing cache).
  testSequencer: "<rootDir>/test/e2e/sequencer.js",
  reporters: [...base.reporters, "<rootDir>/test/support/fileTimes.js"],
};
