// The end-to-end tests: real hosts booted under systemd-nspawn (root, Linux, minutes). Kept apart from
// the default `npm test` (whose testMatch is test/**/*.test.ts). Run them with
//   npm run build && npx jest -c test/e2e/jest.config.js
const base = require("../../jest.config.js");
module.exports = {
  ...base,
  rootDir: "../..",
  testMatch: ["<rootDir>/test/e2e/**/*.e2e.ts"],
  // One host boot at a time: they share the lab's network and the machine's two CPUs.
  maxWorkers: 1,
};
