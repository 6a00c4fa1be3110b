export * from "./schema";
export * from "./load";
export * from "./validators";
export * from "./apps";
