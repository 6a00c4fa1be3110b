// @swc/jest strips types without type-checking: one test file starts in about 1.4 s instead of
// 10-12 s with ts-jest. Type-checking is done once, separately, by `tsc --noEmit` in `npm test`.
module.exports = {
  testEnvironment: "node",
  // Pulumi keeps its runtime state on globals; Jest 30 would otherwise wipe them between files.
  testEnvironmentOptions: { globalsCleanup: "off" },
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  // The failed tests listed once more as the last lines, so the tail of a long CI log names them.
  reporters: ["default", "<rootDir>/test/support/failuresLast.js"],
};
