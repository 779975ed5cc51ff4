/**
 * How long Azure and Kubernetes take to create one resource of each type, in seconds: the
 * single table the deployment estimate uses. Typical values for a create in a quiet region,
 * rounded; they order the graph, they do not promise a wall-clock time.
 */
export const CREATE_SECONDS: Readonly<Record<string, number>> = {
    "azure-native:resources:ResourceGroup": 5,
    // An AKS cluster with its system pool: 5 to 10 minutes.
    "azure-native:containerservice:ManagedCluster": 480,
    // A further node pool: 3 to 6 minutes.
    "azure-native:containerservice:AgentPool": 300,
    "azure-native:managedidentity:UserAssignedIdentity": 10,
    // One FIC write; writes under one identity are serialised (the chain).
    "azure-native:managedidentity:FederatedIdentityCredential": 10,
    "azuread:index/application:Application": 10,
    "azuread:index/servicePrincipal:ServicePrincipal": 10,
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": 10,
    "azure-native:authorization:RoleAssignment": 15,
    "pulumi:providers:kubernetes": 1,
    "kubernetes:core/v1:Namespace": 2,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:core/v1:ServiceAccountPatch": 1,
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass": 1,
    // Until the rollout is ready: image pull and start.
    "kubernetes:apps/v1:Deployment": 30,
    // The quick-start Job until it completes: the Azure CLI image pull, a login, one Key Vault read.
    "kubernetes:batch/v1:Job": 60,
    // One SelfSubjectAccessReview when the grant works already (an admin group); an Azure RBAC
    // grant made in the same deployment can take up to five minutes (AKS docs, Azure RBAC for
    // Kubernetes authorization), which the check waits out.
    "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness": 30,
};

/** A custom resource of a type the table does not list. */
export const DEFAULT_CREATE_SECONDS = 10;

/** "8m 05s", "45s". */
export function formatDuration(seconds: number): string {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return minutes === 0 ? `${rest}s` : `${minutes}m ${String(rest).padStart(2, "0")}s`;
}
