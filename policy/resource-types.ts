/**
 * The one table of the resource type tokens this project registers or reads: the policy rules,
 * the plan, the doctor, the mock runner, the bench and the tests look types up here and nowhere
 * else. It lives in the pack because the pack must load on its own (the CLI runs policy/index.ts
 * through ts-node in this folder) and this file imports nothing, so the pack carries no tool code.
 *
 * A key is the class name with a lower-case first letter (`ManagedCluster` -> `managedCluster`),
 * except `genericResource` (`azure-native:resources:Resource`, which would read as any resource)
 * and `kubernetesProvider`. test/resource-types.test.ts checks each token against the class of
 * the provider SDK that registers it, and this project's own against the recorded stacks.
 */
export const TYPES = {
    stack: "pulumi:pulumi:Stack",

    // This project's components and its dynamic resource.
    workloadIdentityCluster: "aks-workload-identity:index:WorkloadIdentityCluster",
    adoptedCluster: "aks-workload-identity:index:AdoptedCluster",
    workloadIdentity: "aks-workload-identity:index:WorkloadIdentity",
    /** components/rbac-readiness-provider.ts (RBAC_READINESS_TOKEN): `pulumi-nodejs:dynamic/<module>:<type>`. */
    kubernetesRbacReadiness: "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness",

    // azure-native
    resourceGroup: "azure-native:resources:ResourceGroup",
    /** An ARM resource written through the generic resource API (how the components write identity bindings). */
    genericResource: "azure-native:resources:Resource",
    managedCluster: "azure-native:containerservice:ManagedCluster",
    agentPool: "azure-native:containerservice:AgentPool",
    /** azure-native's typed identity binding (API 2025-06-02-preview in 3.28). */
    identityBinding: "azure-native:containerservice:IdentityBinding",
    userAssignedIdentity: "azure-native:managedidentity:UserAssignedIdentity",
    federatedIdentityCredential: "azure-native:managedidentity:FederatedIdentityCredential",
    roleAssignment: "azure-native:authorization:RoleAssignment",

    // azuread
    application: "azuread:index/application:Application",
    servicePrincipal: "azuread:index/servicePrincipal:ServicePrincipal",
    applicationFederatedIdentityCredential: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    applicationPassword: "azuread:index/applicationPassword:ApplicationPassword",
    applicationCertificate: "azuread:index/applicationCertificate:ApplicationCertificate",
    servicePrincipalPassword: "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
    servicePrincipalCertificate: "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate",

    // kubernetes
    kubernetesProvider: "pulumi:providers:kubernetes",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    serviceAccountPatch: "kubernetes:core/v1:ServiceAccountPatch",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    job: "kubernetes:batch/v1:Job",
    /** A custom resource of the Secrets Store CSI driver: `kubernetes:<apiVersion>:<kind>`. */
    secretProviderClass: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
} as const;
