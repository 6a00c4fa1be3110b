// The unit tests alone (`npm run test:unit`): every test/**/*.test.ts but test/host/. They need Node, bash
// and coreutils only (no root, no Debian program, no built dist/), and run in well under a minute.
// `npx jest` (and `npm test`) runs them together with test/host/; test/e2e/ has a config of its own.
const base = require("../jest.config.js");
module.exports = {
  ...base,
  rootDir: "..",
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, "<rootDir>/test/host/"],
};
