import { TYPES } from "../policy/resource-types";

/**
 * How long Azure and Kubernetes take to create one resource of each type, in seconds: the
 * single table the deployment estimate uses. Typical values for a create in a quiet region,
 * rounded; they order the graph, they do not promise a wall-clock time.
 */
export const CREATE_SECONDS: Readonly<Record<string, number>> = {
    [TYPES.resourceGroup]: 5,
    // An AKS cluster with its system pool: 5 to 10 minutes.
    [TYPES.managedCluster]: 480,
    // A further node pool: 3 to 6 minutes.
    [TYPES.agentPool]: 300,
    [TYPES.userAssignedIdentity]: 10,
    // One FIC write; writes under one identity are serialised (the chain).
    [TYPES.federatedIdentityCredential]: 10,
    [TYPES.application]: 10,
    [TYPES.servicePrincipal]: 10,
    [TYPES.applicationFederatedIdentityCredential]: 10,
    [TYPES.roleAssignment]: 15,
    [TYPES.kubernetesProvider]: 1,
    [TYPES.namespace]: 2,
    [TYPES.serviceAccount]: 1,
    [TYPES.serviceAccountPatch]: 1,
    [TYPES.secretProviderClass]: 1,
    // Until the rollout is ready: image pull and start.
    [TYPES.deployment]: 30,
    // The quick-start Job until it completes: the Azure CLI image pull, a login, one Key Vault read.
    [TYPES.job]: 60,
    // One SelfSubjectAccessReview when the grant works already (an admin group); an Azure RBAC
    // grant made in the same deployment can take up to five minutes (AKS docs, Azure RBAC for
    // Kubernetes authorization), which the check waits out.
    [TYPES.kubernetesRbacReadiness]: 30,
};

/** A custom resource of a type the table does not list. */
export const DEFAULT_CREATE_SECONDS = 10;

/** "8m 05s", "45s". */
export function formatDuration(seconds: number): string {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return minutes === 0 ? `${rest}s` : `${minutes}m ${String(rest).padStart(2, "0")}s`;
}
