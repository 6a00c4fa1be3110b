// The stacks test/analytics.test.ts reads and test/host/analytics.test.ts checks with the real
// programs: access-log analytics on a study with a staging copy, and the same study without the key.
import { studyConfig } from "../../helpers";

export function analyticsStacks(): Record<string, Record<string, unknown>> {
  return {
    analytics: studyConfig("aws", "small", { database: { engine: "sqlite" }, staging: { domain: "test.study.example.org" }, analytics: { keepDays: 30 } }),
    plain: studyConfig("aws", "small", { database: { engine: "sqlite" } }),
  };
}
