// The end-to-end tests: real hosts booted under systemd-nspawn (root, Linux, minutes). A jest config of
// their own (one host boot at a time, long timeouts); `npm test` runs them last, `npm run test:e2e` alone.
const base = require("../../jest.config.js");
module.exports = {
  ...base,
  rootDir: "../..",
  testMatch: ["<rootDir>/test/e2e/**/*.e2e.ts"],
  // One host boot at a time: they share the lab's network and the machine's two CPUs.
  maxWorkers: 1,
};
