// @swc/jest strips types without type-checking: one test file starts in about 1.4 s instead of
// 10-12 s with ts-jest. Type-checking is done once, separately, by `tsc --noEmit` in `npm test`.
module.exports = {
  testEnvironment: "node",
  // Pulumi keeps its runtime state on globals; Jest 30 would otherwise wipe them between files.
  testEnvironmentOptions: { globalsCleanup: "off" },
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // test/*.test.ts (unit: `npm run test:unit`, test/unit.jest.config.js) and test/host/*.test.ts
  // (`npm run test:host`); test/README.md says which is which. test/e2e/ has a config of its own.
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  // One worker per core (two here): Jest's default, cores - 1, is one worker on two cores, which runs
  // every file in band. On the 2-core CI machine two took the unit tests from about 60 s to 38 s, and
  // test/ with test/host/ from 400-650 s to 200-220 s (much of a host file's time is waiting on a daemon
  // or a program, which the other worker fills). Files never share a port (freePort), a scratch folder
  // (mkdtemp) or dist/ (no test rebuilds it); test/host/tls.test.ts alone binds 80 and 443.
  maxWorkers: "100%",
  // With two files at a time on two cores a test that plans a few stacks (about 3 s alone) can pass
  // Jest's default 5 s; a hung test still fails, later.
  testTimeout: 30_000,
  // The failed tests listed once more as the last lines, so the tail of a long CI log names them.
  reporters: ["default", "<rootDir>/test/support/failuresLast.js"],
};
