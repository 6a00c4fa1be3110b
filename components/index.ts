// Layer 4: the Pulumi components, cloud-neutral; the per-cloud resources live in src/clouds.
export * from "./network";
export * from "./firewall";
export * from "./tls";
export * from "./dns";
export * from "./databaseHost";
export * from "./appServer";
