// The studyhost package: `import { AppServer, PostgresHost, smallStudy } from "studyhost"`. The top
// layer: README.md's "Layout" section numbers the layers each name below comes from.
export * from "./components";
export { Study } from "./stacks/study";
export { smallStudy, largeStudy, twoServerStudy } from "./stacks/tiers";
export type { PresetApp, StudyInput } from "./stacks/tiers";
export { ConfigError, NAMESPACE } from "./src/config";
export { parseStudyConfig, readStudyConfig } from "./stacks/config";
export type { StudyConfig, StudyConfigInput } from "./src/config";
export type { CostItem, CostSummary } from "./src/tiers/cost";
export * as host from "./src/host";
export * as tiers from "./src/tiers";
