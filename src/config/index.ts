export * from "./schema";
export * from "./errors";
export * from "./load";
export * from "./validators";
export * from "./apps";
export * from "./analytics";
export * from "./powerSchedule";
export * from "./schedule";
