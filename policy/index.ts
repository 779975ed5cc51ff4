import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

// The CrossGuard entry: `pulumi preview --policy-pack policy` runs this file, and constructing the
// pack starts the gRPC server the CLI talks to. Tests import ./policies instead.
new PolicyPack(POLICY_PACK_NAME, {
    description: "Azure Workload Identity on AKS: the cluster baseline, federated credentials, role assignments and ServiceAccount annotations.",
    provider: "azure",
    policies,
});
