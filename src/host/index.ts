// Layer 3: pure functions from a host's role and the study's config to the files and the one
// #cloud-config document the host needs. No Pulumi: tested with the real programs.
export * from "./cloudConfig";
export * from "./roles";
export * from "./apps";
export * from "./volume";
export * from "./part";
export * from "./env";
export * from "./shell";
export * from "./base";
export * from "./firewall";
export * from "./postgres";
export * from "./backup";
export * from "./app";
export * from "./nginx";
export * from "./provision";
export * from "./schedule";
export * from "./jobs";
export * from "./fetch";
export * from "./rclone";
export * from "./dockerNetwork";
export * from "./mariadb";
export * from "./mongodb";
export * from "./accessories";
export * from "./analytics";
