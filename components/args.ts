import type * as pulumi from "@pulumi/pulumi";

/**
 * The arguments of the components: the one contract of the package. Other languages see these
 * types through the schema Pulumi's analyzer derives from them (components/schema.json), so they
 * hold only inputs of strings, numbers, booleans, arrays, maps and interfaces of those; enums are
 * `as const` objects (the analyzer refuses string-literal unions). The JSDoc of every field is
 * the description a reader of a generated SDK gets, defaults included ("Default: ...").
 */

// ---- Clusters: admins and what a workload needs of a cluster

/** Entra ID principal type of a cluster admin: the role assignment's `principalType`. */
export const AdminPrincipalType = {
    User: "User",
    Group: "Group",
    ServicePrincipal: "ServicePrincipal",
} as const;

export type AdminPrincipalType = (typeof AdminPrincipalType)[keyof typeof AdminPrincipalType];

/** An extra principal granted "Azure Kubernetes Service RBAC Cluster Admin" on the cluster. */
export interface ClusterAdminArgs {
    /** Entra ID object ID of the user, group or service principal. */
    objectId: pulumi.Input<string>;
    /** The principal's type; Azure rejects an assignment whose type does not match the principal. */
    principalType: AdminPrincipalType;
}

/**
 * A `kubernetes.Provider` resource, as a component argument. Typed `any` on purpose: Pulumi's
 * component analyzer (3.276) writes a `@pulumi/kubernetes` Provider as the schema reference
 * `/kubernetes/v<version>/schema.json#/resources/kubernetes`, which the schema binder cannot
 * resolve (pkg/codegen/schema/bind.go only maps `#/provider` to `pulumi:providers:kubernetes`),
 * so SDK generation would fail. `any` becomes `pulumi.json#/Any`; every SDK still sends the
 * provider as a resource reference, and the component checks at run time that it is one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the only type the analyzer passes through for a provider.
export type KubernetesProviderReference = any;

/** What a WorkloadIdentity needs to federate with a cluster and annotate a ServiceAccount in it. */
export interface WorkloadClusterBinding {
    /** The cluster's OIDC issuer URL (`oidcIssuerUrl` of the cluster), the issuer of its federated credentials. */
    oidcIssuerUrl: pulumi.Input<string>;
    /**
     * A `kubernetes.Provider` for the cluster, created once per cluster and shared by every
     * workload on it. From another language: a Provider whose `kubeconfig` is the cluster
     * component's `kubeconfig` output, which resolves only once the deployer may create objects
     * in the cluster (its Azure RBAC grants have propagated) and its namespaces exist.
     */
    kubernetesProvider: KubernetesProviderReference;
    /** Resource group of the managed cluster, where its identity bindings live. Required with `identityBinding`. Default: none. */
    clusterResourceGroupName?: pulumi.Input<string>;
    /** Azure name of the managed cluster (the cluster's `name` output), the parent of its identity bindings. Required with `identityBinding`. Default: none. */
    clusterName?: pulumi.Input<string>;
}

// ---- WorkloadIdentityCluster

// Enums as `as const` objects: Pulumi's component analyzer refuses string-literal unions and
// turns these into schema enums (the generated SDKs get an enum type with these values).

/** AKS cluster auto-upgrade channel (`autoUpgradeProfile.upgradeChannel`). */
export const UpgradeChannel = {
    Rapid: "rapid",
    Stable: "stable",
    Patch: "patch",
    NodeImage: "node-image",
    None: "none",
} as const;

export type UpgradeChannel = (typeof UpgradeChannel)[keyof typeof UpgradeChannel];

/** AKS node OS upgrade channel (`autoUpgradeProfile.nodeOSUpgradeChannel`). */
export const NodeOsUpgradeChannel = {
    None: "None",
    Unmanaged: "Unmanaged",
    NodeImage: "NodeImage",
    SecurityPatch: "SecurityPatch",
} as const;

export type NodeOsUpgradeChannel = (typeof NodeOsUpgradeChannel)[keyof typeof NodeOsUpgradeChannel];

/** AKS pricing tier (`sku.tier`). */
export const ClusterSkuTier = {
    Free: "Free",
    Standard: "Standard",
    Premium: "Premium",
} as const;

export type ClusterSkuTier = (typeof ClusterSkuTier)[keyof typeof ClusterSkuTier];

/** Network policy engine (`networkProfile.networkPolicy`). */
export const NetworkPolicy = {
    Cilium: "cilium",
    Calico: "calico",
    Azure: "azure",
} as const;

export type NetworkPolicy = (typeof NetworkPolicy)[keyof typeof NetworkPolicy];

/** An autoscaled node pool. */
export interface NodePoolArgs {
    /** VM size of the nodes, e.g. `Standard_D4ds_v5`. A change replaces the pool. */
    vmSize: pulumi.Input<string>;
    /** Autoscaler lower bound; also the node count the pool is created with. */
    minCount: number;
    /** Autoscaler upper bound. */
    maxCount: number;
    /** Availability zones (`availabilityZones`), e.g. `["1", "2", "3"]`. Default: no zones (regional placement). */
    zones?: pulumi.Input<pulumi.Input<string>[]>;
    /** OS disk size in GB. Default: the VM size's default. */
    osDiskSizeGB?: pulumi.Input<number>;
    /** Kubernetes node labels (`nodeLabels`). Default: none. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Kubernetes node taints (`nodeTaints`), each `key=value:Effect`. Default: none. */
    taints?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * AKS pool mode of a pool in `nodePools`: `"User"` or `"System"`. A second System pool is how
     * the inline system pool is rotated (add it, move the system workloads, then remove the old
     * one); `systemPool` is always System. Default: "User".
     */
    mode?: string;
}

/** Bring-your-own network: the subnet the nodes join, and the cluster's address ranges. */
export interface ClusterNetworkArgs {
    /**
     * ARM ID of the subnet the nodes join (`agentPoolProfiles[].vnetSubnetID`). Required for a
     * private cluster: the runner that deploys must reach the API server through this VNet.
     */
    vnetSubnetId: pulumi.Input<string>;
    /** Overlay pod CIDR (`networkProfile.podCidr`). A change replaces the cluster. Default: AKS's 10.244.0.0/16. */
    podCidr?: pulumi.Input<string>;
    /** Service CIDR (`networkProfile.serviceCidr`); must not overlap the VNet. Default: AKS's 10.0.0.0/16. */
    serviceCidr?: pulumi.Input<string>;
    /** Cluster DNS service IP inside `serviceCidr` (`networkProfile.dnsServiceIP`). Default: AKS's 10.0.0.10. */
    dnsServiceIp?: pulumi.Input<string>;
    /**
     * Private DNS zone of a private cluster (`apiServerAccessProfile.privateDNSZone`): `"system"`,
     * `"none"`, or the ARM ID of your own `privatelink.<region>.azmk8s.io` zone. Default: "system".
     */
    privateDnsZone?: pulumi.Input<string>;
}

/** Microsoft Defender for Containers on a cluster. */
export interface DefenderArgs {
    /** ARM ID of the Log Analytics workspace Defender reports to (`securityProfile.defender.logAnalyticsWorkspaceResourceId`). */
    logAnalyticsWorkspaceResourceId: pulumi.Input<string>;
}

export interface WorkloadIdentityClusterArgs {
    /** Resource group the cluster is created in. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. Default: the provider's `azure-native:location`. */
    location?: pulumi.Input<string>;
    /** Azure name of the managed cluster (`resourceName`). Default: the component name. */
    clusterName?: pulumi.Input<string>;
    /**
     * Kubernetes version (`major.minor`). Ignored after creation under the `rapid` and `stable`
     * channels, which move the minor version themselves; under `patch`, `node-image` and `none` a
     * change is a real upgrade. Default: the AKS default version.
     */
    kubernetesVersion?: pulumi.Input<string>;
    /** AKS pricing tier (`sku.tier`); Standard or Premium give the uptime SLA. Default: "Free". */
    sku?: ClusterSkuTier;
    /** Cluster auto-upgrade channel (`autoUpgradeProfile.upgradeChannel`). Default: "stable". */
    upgradeChannel?: UpgradeChannel;
    /** Node OS upgrade channel (`autoUpgradeProfile.nodeOSUpgradeChannel`). Default: "NodeImage". */
    nodeOsUpgradeChannel?: NodeOsUpgradeChannel;
    /** The system node pool, declared inline on the cluster as `system`. */
    systemPool: NodePoolArgs;
    /**
     * Further user node pools, keyed by pool name (lower-case letters and digits, at most 12).
     * Each is its own AgentPool resource: adding pools inline is refused by AKS. Default: none.
     */
    nodePools?: Record<string, NodePoolArgs>;
    /** Entra ID groups whose members are cluster admins (`aadProfile.adminGroupObjectIDs`). Default: none. */
    adminGroupObjectIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Extra principals granted "Azure Kubernetes Service RBAC Cluster Admin", keyed by a stable key. Default: none. */
    clusterAdmins?: Record<string, ClusterAdminArgs>;
    /** CIDRs allowed to reach the API server (`apiServerAccessProfile.authorizedIPRanges`). Default: none. */
    authorizedIpRanges?: pulumi.Input<pulumi.Input<string>[]>;
    /** A private API server (`apiServerAccessProfile.enablePrivateCluster`). Default: false. */
    private?: boolean;
    /**
     * Allow an API server that is open to the internet (neither authorized ranges nor private).
     * An explicit, visible override of the baseline. Default: false.
     */
    allowPublicApiServer?: boolean;
    /** Disable local (certificate) accounts; needs managed Entra ID, which this component always enables. Default: true. */
    disableLocalAccounts?: boolean;
    /** Network policy engine; Azure CNI overlay with the Cilium dataplane for `cilium`. Default: "cilium". */
    networkPolicy?: NetworkPolicy;
    /**
     * Bring your own subnet and address ranges. Required with `private`: without it AKS
     * creates its own VNet inside the same deployment, which no runner can be in. Default: an
     * AKS-managed VNet.
     */
    network?: ClusterNetworkArgs;
    /**
     * Namespaces this component creates and owns, declared once per cluster so that removing a
     * workload never deletes a namespace others use. `default`, `kube-system`, `kube-public` and
     * `kube-node-lease` are refused. Default: none.
     */
    namespaces?: string[];
    /**
     * The Key Vault secrets provider add-on (Secrets Store CSI driver) with secret rotation
     * every 2 minutes. Default: false.
     */
    keyVaultSecretsProvider?: boolean;
    /** The Azure Policy add-on (`addonProfiles.azurepolicy`). Default: true. */
    azurePolicy?: boolean;
    /** The image cleaner, removing unused images from the nodes weekly (`securityProfile.imageCleaner`). Default: true. */
    imageCleaner?: boolean;
    /** Microsoft Defender for Containers (`securityProfile.defender`). Default: off. */
    defender?: DefenderArgs;
    /**
     * Protect the cluster and its node pools from deletion and replacement (the `protect`
     * resource option, set on those children explicitly). A replaced cluster has a new OIDC
     * issuer and breaks every federated credential that trusts it. Default: true.
     */
    protect?: boolean;
    /** Tags on the cluster and its node pools. Default: none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

// ---- AdoptedCluster

export interface AdoptedClusterArgs {
    /** Azure name of the existing managed cluster. */
    clusterName: pulumi.Input<string>;
    /** Its resource group. */
    resourceGroupName: pulumi.Input<string>;
    /** Extra principals granted "Azure Kubernetes Service RBAC Cluster Admin" on it. Default: none. */
    clusterAdmins?: Record<string, ClusterAdminArgs>;
    /**
     * Namespaces this stack creates and owns in the cluster, declared once so that removing a
     * workload never deletes a namespace others use. Default: none.
     */
    namespaces?: string[];
    /**
     * Require the Key Vault secrets provider add-on with rotation (a workload on the cluster mounts
     * Key Vault secrets). Default: false.
     */
    requireKeyVaultSecretsProvider?: boolean;
}

// ---- WorkloadIdentity

/** The kind of Entra ID principal of a workload identity (an `as const` enum: the analyzer refuses string unions). */
export const PrincipalKind = {
    ManagedIdentity: "managedIdentity",
    Application: "application",
} as const;

export type PrincipalKind = (typeof PrincipalKind)[keyof typeof PrincipalKind];

/** An Azure role for the workload's principal at one scope. */
export interface RoleAssignmentArgs {
    /** A built-in role name (case-insensitive), a role definition GUID, or a full role definition ID. */
    role: string;
    /** ARM ID of the subscription, resource group or resource the role applies to. */
    scope: pulumi.Input<string>;
    /**
     * Allow Owner, Contributor, User Access Administrator or Role Based Access Control
     * Administrator at subscription or management-group scope. Default: false (refused).
     */
    allowBroadScope?: boolean;
    /** Description on the role assignment. Default: names the workload and the assignment key. */
    description?: pulumi.Input<string>;
    /**
     * An ABAC condition that narrows the assignment (`condition`, version 2.0), e.g. which roles a
     * Role Based Access Control Administrator may assign. Default: none.
     */
    condition?: pulumi.Input<string>;
}

/** A federated credential for an issuer outside the stack's clusters. */
export interface FederationArgs {
    /** The issuer URL exactly as it appears in the tokens' `iss` claim (GitHub's has no trailing slash). */
    issuer: pulumi.Input<string>;
    /** The subject exactly as in the tokens' `sub` claim, e.g. `repo:<owner>/<repo>:environment:prod`. */
    subject: pulumi.Input<string>;
    /** Audiences the tokens must carry (`aud`). Default: ["api://AzureADTokenExchange"], Entra ID's token exchange audience. */
    audiences?: pulumi.Input<pulumi.Input<string>[]>;
    /** Accept an audience other than Entra ID's public-cloud one (sovereign clouds). Default: false. */
    allowCustomAudience?: boolean;
}

/** Key Vault objects the workload mounts through the Secrets Store CSI driver. */
export interface KeyVaultArgs {
    /** ARM ID of the vault. */
    resourceId: pulumi.Input<string>;
    /** Secret names to mount. Default: none. */
    secrets?: string[];
    /** Certificate names to mount (adds "Key Vault Certificate User"). Default: none. */
    certificates?: string[];
}

/** A Kubernetes ServiceAccount allowed to use the workload's identity. */
export interface ServiceAccountRefArgs {
    /** Namespace of the ServiceAccount (an RFC 1123 label, not `kube-system`). */
    namespace: string;
    /** Name of the ServiceAccount (an RFC 1123 subdomain). */
    name: string;
}

/** @deprecated The same as `WorkloadClusterBinding`, which now carries the cluster's resource group and name. */
export type WorkloadClusterTarget = WorkloadClusterBinding;

export interface WorkloadIdentityArgs {
    /** Resource group of the managed identity (unused for `principal: application`). */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region of the managed identity. Default: the provider's `azure-native:location`. */
    location?: pulumi.Input<string>;
    /** Azure name of the managed identity, or display name of the app registration. Default: the component name. */
    identityName?: pulumi.Input<string>;
    /**
     * The Entra ID principal: a user-assigned managed identity, or an app registration with its
     * service principal. Neither ever gets a password or certificate. Default: "managedIdentity".
     */
    principal?: PrincipalKind;
    /** Kubernetes namespace of the ServiceAccount; required when `clusters` is not empty. Default: none (no Kubernetes). */
    namespace?: string;
    /** ServiceAccount name, set explicitly (autonaming would break the FIC subject). Default: the component name. */
    serviceAccount?: string;
    /**
     * Create the ServiceAccount in every cluster. When false, no Kubernetes object is created:
     * the application (a Helm chart) ships its own ServiceAccount and takes the
     * `serviceAccountAnnotations` output as its annotations. Default: true.
     */
    createServiceAccount?: boolean;
    /**
     * With `createServiceAccount: false`: annotate a ServiceAccount that already exists in every
     * cluster in place (a server-side apply patch). The object and its namespace must exist
     * before the deployment, or it fails. Default: false.
     */
    annotateExistingServiceAccount?: boolean;
    /**
     * Object IDs that own the app registration and its service principal (`owners`), for
     * `principal: application`; required there. List every identity that deploys the stack (the
     * pipeline's, from the bootstrap's output): with the least-privilege Graph permission
     * `Application.ReadWrite.OwnedBy` a deployer that is not an owner gets 403 on every later
     * change (azuread docs: azuread_application, azuread_service_principal `owners`). Default: none.
     */
    applicationOwners?: pulumi.Input<pulumi.Input<string>[]>;
    /** Projected token lifetime in seconds, 3600..86400, as a ServiceAccount annotation. Default: the webhook's 3600. */
    tokenExpirationSeconds?: number;
    /**
     * The clusters the workload runs on, keyed by cluster key: per cluster one ServiceAccount, and
     * one federated credential per allowed ServiceAccount (classic) or one AKS identity binding with
     * its RBAC (`identityBinding`). Get a binding from `WorkloadIdentityCluster.bindWorkload`.
     * Default: none.
     */
    clusters?: Record<string, WorkloadClusterBinding>;
    /**
     * Use AKS identity bindings (API 2026-05-01, stable): per cluster one identity binding maps the
     * managed identity to the cluster, and a ClusterRole/ClusterRoleBinding pair lets the
     * `serviceAccounts` use it (verb `use-managed-identity` on `cid.wi.aks.azure.com/<client ID>`).
     * The identity then has one federated credential, `aks-identity-binding`, which AKS creates and
     * owns, however many clusters and ServiceAccounts use it. Pods need the `podAnnotations` as
     * well as the `podLabels`, and an Azure Identity SDK with the token proxy enabled on
     * `WorkloadIdentityCredential`. Managed identities only; not on clusters with API server VNet
     * integration. Default: false (one federated credential per cluster and ServiceAccount).
     */
    identityBinding?: boolean;
    /**
     * With `identityBinding`: keep the classic per-cluster federated credentials as well, so pods
     * that do not use the binding yet keep working during a migration. Drop it in a second deploy,
     * once every pod carries the `podAnnotations` and uses the token proxy. Default: false.
     */
    keepClassicCredentials?: boolean;
    /**
     * The ServiceAccounts allowed to use the identity, in every cluster. Classic mode: one
     * federated credential per cluster and ServiceAccount (at most 20 in all); identity binding
     * mode: subjects of the ClusterRoleBinding, any number. Only the workload's own ServiceAccount
     * is created (`createServiceAccount`); the others carry the `serviceAccountAnnotations` their
     * owners apply. Default: the workload's own, `[{ namespace, name: serviceAccount }]`.
     */
    serviceAccounts?: ServiceAccountRefArgs[];
    /**
     * Further issuers the principal trusts, keyed by a stable key: a GitHub workflow, another
     * cluster, any OIDC issuer. Each becomes a federated credential `fic-<key>` in the same chain
     * as the clusters'. Default: none.
     */
    federations?: Record<string, FederationArgs>;
    /** Azure role assignments of the principal, keyed by a stable key. Default: none. */
    roleAssignments?: Record<string, RoleAssignmentArgs>;
    /**
     * Key Vault secrets and certificates to mount: "Key Vault Secrets User" on the vault (and
     * "Key Vault Certificate User" for certificates), and a SecretProviderClass in the namespace of
     * every cluster. The clusters need the Key Vault secrets provider add-on. Default: none.
     */
    keyVault?: KeyVaultArgs;
    /**
     * Run the quick-start Job in every cluster: the Azure CLI logs in with the federated token and
     * reads the first Key Vault secret's metadata (never its value), retrying with backoff while
     * the federated credential and the role assignment propagate. Needs `keyVault` with a secret.
     * Default: false.
     */
    quickstart?: boolean;
    /** Tags on the managed identity. Default: none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}
