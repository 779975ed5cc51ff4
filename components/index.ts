export * from "./cluster";
export * from "./constants";
export * from "./kubeconfig";
export * from "./names";
export * from "./roles";
export * from "./validation";
export * from "./workload-identity";
export * from "./suggest";
