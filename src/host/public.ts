// The host renderer's public names, which the package exports as `host` (index.ts): a host's files
// and #cloud-config from a validated configuration and its secrets, for a program that builds its
// servers without studyhost's components. Listed by name, so that what the package promises does not
// grow with every helper, script text or constant that src/host/index.ts exports for the layers above.
export { renderAppHost, renderDatabaseHost, renderCloudConfig, sqlitePath, appSqlitePath } from "./index";
export type { AppHostInput, DatabaseHostInput, HostDocument, HostFile, AccessorySecrets, AppSecrets, DatabaseLink, PostgresRoles, TlsSettings } from "./index";
