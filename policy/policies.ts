import type { Policies } from "@pulumi/policy";
import { aksPolicies } from "./aks";
import { bindingResourcePolicies, bindingStackPolicies } from "./binding";
import { identityResourcePolicies, identityStackPolicies } from "./identity";
import { kubernetesResourcePolicies, kubernetesStackPolicies } from "./kubernetes";
import { rbacResourcePolicies, rbacStackPolicies } from "./rbac";

/**
 * Every policy of the pack, in the order the docs list them. Importing this starts nothing:
 * `index.ts` is the entry that serves them as a CrossGuard pack.
 */
export const policies: Policies = [
    ...aksPolicies,
    ...identityResourcePolicies,
    ...identityStackPolicies,
    ...rbacResourcePolicies,
    ...rbacStackPolicies,
    ...kubernetesResourcePolicies,
    ...kubernetesStackPolicies,
    ...bindingResourcePolicies,
    ...bindingStackPolicies,
];

export const POLICY_PACK_NAME = "aks-workload-identity";
