// Layer 3: pure functions from a host's role and the study's config to the files and the one
// #cloud-config document the host needs. No Pulumi: tested with the real programs.
export * from "./document/cloudConfig";
export * from "./hosts";
export * from "./apps/studyApps";
export * from "./system/volume";
export * from "./document/part";
export * from "./document/env";
export * from "./document/shell";
export * from "./system/base";
export * from "./system/firewall";
export * from "./databases/postgres";
export * from "./backups/backup";
export * from "./apps/service";
export * from "./web/nginx";
export * from "./document/provision";
export * from "./schedule";
export * from "./apps/jobs";
export * from "./apps/bucketSync";
export * from "./system/rclone";
export * from "./apps/dockerNetwork";
export * from "./databases/mariadb";
export * from "./databases/mongodb";
export * from "./databases/accessories";
export * from "./analytics/analytics";
