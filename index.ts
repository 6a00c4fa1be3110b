// The studyhost package: `import { AppServer, DatabaseHost, smallStudy } from "studyhost"`. The top
// layer: README.md's "Layout" section numbers the layers each name below comes from. Every name is
// listed, so that the package exports what it means to promise and nothing a layer exports for another.

// The Pulumi components, with their arguments.
export { AppServer, type AppServerArgs } from "./components/appServer";
export { DatabaseHost, type DatabaseHostArgs, PostgresHost, type PostgresHostArgs } from "./components/databaseHost";
export { Dns, type DnsArgs, type DnsRecordText } from "./components/dns";
export { Firewall, type FirewallArgs, type FirewallRule, databaseRules, webRules } from "./components/firewall";
export { Network, type NetworkArgs } from "./components/network";
export { Tls, type TlsArgs, LETS_ENCRYPT_DIRECTORY } from "./components/tls";

// The tiers composed, and reading a study's configuration as they do.
export { Study } from "./stacks/study";
export { smallStudy, largeStudy, twoServerStudy } from "./stacks/tiers";
export type { PresetApp, StudyInput } from "./stacks/tiers";
export { parseStudyConfig, readStudyConfig } from "./stacks/config";
export { ConfigError, NAMESPACE } from "./src/config";
export type {
  AppConfig,
  ContainerAppConfig,
  PythonAppConfig,
  SiteConfig,
  StagingConfig,
  JobConfig,
  FetchConfig,
  HostPlan,
  StudyConfig,
  StudyConfigInput,
} from "./src/config";
export type { CostItem, CostSummary } from "./src/tiers/cost";

// The offline plan: a program run under Pulumi's mock engine, what it would create and cost.
export { planProgram } from "./src/plan/run";
export type { PlanOptions, PlanResult, PlannedResource, ResourceOptionsSeen } from "./src/plan/run";

// Namespaced: the pure host renderer (its public names: src/host/public.ts) and the tier table.
export * as host from "./src/host/public";
export * as tiers from "./src/tiers";
