export * from "./run";
export * from "./stackFile";
export * from "./mocks";
