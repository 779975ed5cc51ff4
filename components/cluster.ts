import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { toKubeloginKubeconfig, type KubeloginMode } from "./kubeconfig";
import { dnsPrefix, roleAssignmentName } from "./names";
import { BUILT_IN_ROLES, roleDefinitionIdAt } from "./roles";
import { validateClusterArgs } from "./validation";

export type UpgradeChannel = "rapid" | "stable" | "patch" | "node-image" | "none";
export type NodeOsUpgradeChannel = "None" | "Unmanaged" | "NodeImage" | "SecurityPatch";
export type ClusterSkuTier = "Free" | "Standard" | "Premium";
export type NetworkPolicy = "cilium" | "calico" | "azure";
export type AdminPrincipalType = "User" | "Group" | "ServicePrincipal";

/** An autoscaled node pool. */
export interface NodePoolArgs {
    /** VM size of the nodes, e.g. `Standard_D4ds_v5`. A change replaces the pool. */
    vmSize: pulumi.Input<string>;
    /** Autoscaler lower bound; also the node count the pool is created with. */
    minCount: number;
    /** Autoscaler upper bound. */
    maxCount: number;
    /** Availability zones, e.g. `["1", "2", "3"]`. @default no zones (regional placement) */
    availabilityZones?: pulumi.Input<pulumi.Input<string>[]>;
    /** OS disk size in GB. @default the VM size's default */
    osDiskSizeGB?: pulumi.Input<number>;
    /** Kubernetes node labels. @default none */
    nodeLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Kubernetes node taints (`key=value:Effect`). @default none */
    nodeTaints?: pulumi.Input<pulumi.Input<string>[]>;
}

/** An extra principal granted "Azure Kubernetes Service RBAC Cluster Admin" on the cluster. */
export interface ClusterAdminArgs {
    /** Entra ID object ID of the user, group or service principal. */
    objectId: pulumi.Input<string>;
    /** The principal's type; Azure rejects an assignment whose type does not match the principal. */
    principalType: AdminPrincipalType;
}

export interface WorkloadIdentityClusterArgs {
    /** Resource group the cluster is created in. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. @default the provider's `azure-native:location` */
    location?: pulumi.Input<string>;
    /** Azure name of the managed cluster (`resourceName`). @default the component name */
    clusterName?: pulumi.Input<string>;
    /**
     * Kubernetes version (`major.minor`). Ignored after creation when `upgradeChannel` is not
     * `none`, because the channel moves it. @default the AKS default version
     */
    kubernetesVersion?: pulumi.Input<string>;
    /** AKS pricing tier (`sku.tier`); Standard or Premium give the uptime SLA. @default "Free" */
    skuTier?: ClusterSkuTier;
    /** Cluster auto-upgrade channel (`autoUpgradeProfile.upgradeChannel`). @default "stable" */
    upgradeChannel?: UpgradeChannel;
    /** Node OS upgrade channel (`autoUpgradeProfile.nodeOSUpgradeChannel`). @default "NodeImage" */
    nodeOsUpgradeChannel?: NodeOsUpgradeChannel;
    /** The system node pool, declared inline on the cluster as `system`. */
    systemPool: NodePoolArgs;
    /**
     * Further user node pools, keyed by pool name (lower-case letters and digits, at most 12).
     * Each is its own AgentPool resource: adding pools inline is refused by AKS. @default none
     */
    nodePools?: Record<string, NodePoolArgs>;
    /** Entra ID groups whose members are cluster admins (`aadProfile.adminGroupObjectIDs`). @default none */
    adminGroupObjectIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Extra principals granted "Azure Kubernetes Service RBAC Cluster Admin", keyed by a stable key. @default none */
    clusterAdmins?: Record<string, ClusterAdminArgs>;
    /** CIDRs allowed to reach the API server (`apiServerAccessProfile.authorizedIPRanges`). @default none */
    authorizedIpRanges?: pulumi.Input<pulumi.Input<string>[]>;
    /** A private API server (`apiServerAccessProfile.enablePrivateCluster`). @default false */
    privateCluster?: boolean;
    /**
     * Allow an API server that is open to the internet (neither authorized ranges nor private).
     * An explicit, visible override of the baseline. @default false
     */
    allowPublicApiServer?: boolean;
    /** Disable local (certificate) accounts; needs managed Entra ID, which this component always enables. @default true */
    disableLocalAccounts?: boolean;
    /** Network policy engine; Azure CNI overlay with the Cilium dataplane for `cilium`. @default "cilium" */
    networkPolicy?: NetworkPolicy;
    /** How the Kubernetes provider's kubeconfig logs in through kubelogin. @default "azurecli" */
    kubeloginMode?: KubeloginMode;
    /** Protect the cluster from deletion and replacement (`protect`). @default false */
    protect?: boolean;
    /** Tags on the cluster and its node pools. @default none */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** What a WorkloadIdentity needs to federate with a cluster and annotate a ServiceAccount in it. */
export interface WorkloadClusterBinding {
    /** The cluster's OIDC issuer URL, the issuer of the federated credential. */
    oidcIssuerUrl: pulumi.Input<string>;
    /** The Kubernetes provider the ServiceAccount is created with. */
    kubernetesProvider: KubernetesProvider;
    /** Resources the ServiceAccount waits for: the admin grants and, when created, the namespace. */
    dependsOn: pulumi.Resource[];
}

const SYSTEM_POOL_NAME = "system";

/**
 * Whether AKS changes the Kubernetes version under this upgrade channel. `rapid`, `stable` and
 * `patch` do; `node-image` upgrades node images only and `none` nothing, so under those the
 * configured version stays the program's to manage.
 */
export function channelMovesKubernetesVersion(channel: UpgradeChannel): boolean {
    return channel === "rapid" || channel === "stable" || channel === "patch";
}
const CLUSTER_ADMIN_ROLE = { name: "Azure Kubernetes Service RBAC Cluster Admin", guid: BUILT_IN_ROLES["Azure Kubernetes Service RBAC Cluster Admin"] } as const;

/**
 * An AKS cluster with the OIDC issuer and workload identity enabled, managed Entra ID with Azure
 * RBAC, local accounts off, and a Kubernetes provider that logs in through kubelogin.
 */
export class WorkloadIdentityCluster extends pulumi.ComponentResource {
    /** Azure name of the managed cluster. */
    public readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    public readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`). */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /** User kubeconfig with the kubelogin exec plugin (secret). */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for this cluster; it waits for the admin grants. */
    public readonly provider: KubernetesProvider;
    /** The role assignments of `clusterAdmins`, keyed as configured. */
    public readonly adminGrants: Readonly<Record<string, authorization.RoleAssignment>>;
    /** The user node pools, keyed as configured. */
    public readonly nodePools: Readonly<Record<string, containerservice.AgentPool>>;
    /** The managed cluster resource. */
    public readonly cluster: containerservice.ManagedCluster;

    private readonly namespaces = new Map<string, corev1.Namespace>();
    private readonly componentName: string;

    constructor(name: string, args: WorkloadIdentityClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-workload-identity:index:WorkloadIdentityCluster", name, {}, opts);
        this.componentName = name;

        const problems = validateClusterArgs(args);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`Invalid WorkloadIdentityCluster "${name}":\n${problems.map((p) => `  - ${p}`).join("\n")}`, this, true);
        }

        const upgradeChannel = args.upgradeChannel ?? "stable";
        const networkPolicy = args.networkPolicy ?? "cilium";
        const clusterName = args.clusterName ?? name;
        const channelManagesVersion = channelMovesKubernetesVersion(upgradeChannel);
        const system = args.systemPool;

        this.cluster = new containerservice.ManagedCluster(
            `${name}-aks`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                resourceName: clusterName,
                dnsPrefix: pulumi.output(clusterName).apply(dnsPrefix),
                kubernetesVersion: args.kubernetesVersion,
                sku: { name: "Base", tier: args.skuTier ?? "Free" },
                identity: { type: "SystemAssigned" },
                enableRBAC: true,
                disableLocalAccounts: args.disableLocalAccounts ?? true,
                aadProfile: {
                    managed: true,
                    enableAzureRBAC: true,
                    adminGroupObjectIDs: args.adminGroupObjectIds ?? [],
                },
                oidcIssuerProfile: { enabled: true },
                securityProfile: { workloadIdentity: { enabled: true } },
                autoUpgradeProfile: {
                    upgradeChannel,
                    nodeOSUpgradeChannel: args.nodeOsUpgradeChannel ?? "NodeImage",
                },
                apiServerAccessProfile: args.privateCluster
                    ? { enablePrivateCluster: true }
                    : { authorizedIPRanges: args.authorizedIpRanges ?? [] },
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    networkDataplane: networkPolicy === "cilium" ? "cilium" : "azure",
                    networkPolicy,
                    loadBalancerSku: "standard",
                },
                agentPoolProfiles: [
                    {
                        name: SYSTEM_POOL_NAME,
                        mode: "System",
                        osType: "Linux",
                        vmSize: system.vmSize,
                        enableAutoScaling: true,
                        minCount: system.minCount,
                        maxCount: system.maxCount,
                        count: system.minCount,
                        availabilityZones: system.availabilityZones,
                        osDiskSizeGB: system.osDiskSizeGB,
                        nodeLabels: system.nodeLabels,
                        nodeTaints: system.nodeTaints,
                        type: "VirtualMachineScaleSets",
                    },
                ],
                tags: args.tags,
            },
            {
                parent: this,
                protect: args.protect,
                // The autoscaler owns the node count, and an upgrade channel owns the version.
                // ignoreChanges re-sends the stored value unless the run refreshes: `pulumi up --refresh`.
                ignoreChanges: ["agentPoolProfiles[0].count", ...(channelManagesVersion ? ["kubernetesVersion"] : [])],
            },
        );

        const nodePools: Record<string, containerservice.AgentPool> = {};
        for (const [poolName, pool] of Object.entries(args.nodePools ?? {})) {
            nodePools[poolName] = new containerservice.AgentPool(
                `${name}-pool-${poolName}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    resourceName: this.cluster.name,
                    agentPoolName: poolName,
                    mode: "User",
                    osType: "Linux",
                    vmSize: pool.vmSize,
                    enableAutoScaling: true,
                    minCount: pool.minCount,
                    maxCount: pool.maxCount,
                    count: pool.minCount,
                    availabilityZones: pool.availabilityZones,
                    osDiskSizeGB: pool.osDiskSizeGB,
                    nodeLabels: pool.nodeLabels,
                    nodeTaints: pool.nodeTaints,
                    type: "VirtualMachineScaleSets",
                    tags: args.tags,
                },
                {
                    parent: this,
                    protect: args.protect,
                    // A VM size change replaces the pool under the same name: delete it first.
                    deleteBeforeReplace: true,
                    ignoreChanges: ["count", ...(channelManagesVersion ? ["orchestratorVersion"] : [])],
                },
            );
        }
        this.nodePools = nodePools;

        const adminGrants: Record<string, authorization.RoleAssignment> = {};
        for (const [key, admin] of Object.entries(args.clusterAdmins ?? {})) {
            const roleDefinitionId = this.cluster.id.apply((id) => roleDefinitionIdAt(CLUSTER_ADMIN_ROLE, id));
            adminGrants[key] = new authorization.RoleAssignment(
                `${name}-admin-${key}`,
                {
                    scope: this.cluster.id,
                    principalId: admin.objectId,
                    principalType: admin.principalType,
                    roleDefinitionId,
                    roleAssignmentName: pulumi
                        .all([this.cluster.id, admin.objectId, roleDefinitionId])
                        .apply(([scope, principalId, roleId]) => roleAssignmentName(scope, principalId, roleId)),
                    description: `Cluster admin "${key}" of ${name}, declared in clusterAdmins.`,
                },
                { parent: this },
            );
        }
        this.adminGrants = adminGrants;

        this.name = this.cluster.name;
        this.resourceId = this.cluster.id;
        this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((profile) => {
            const url = profile?.issuerURL;
            if (url === undefined || !url.startsWith("https://")) {
                throw new Error(`Cluster ${name} reports no https OIDC issuer URL (got ${JSON.stringify(url)}); workload identity cannot federate with it.`);
            }
            return url;
        });

        const kubeloginMode = args.kubeloginMode ?? "azurecli";
        const credentials = containerservice.listManagedClusterUserCredentialsOutput(
            { resourceGroupName: args.resourceGroupName, resourceName: this.cluster.name, format: "exec" },
            { parent: this },
        );
        this.kubeconfig = pulumi.secret(
            credentials.kubeconfigs.apply((kubeconfigs) => {
                const first = kubeconfigs[0];
                if (first === undefined) {
                    throw new Error(`Azure returned no user kubeconfig for cluster ${name}.`);
                }
                return toKubeloginKubeconfig(Buffer.from(first.value, "base64").toString("utf8"), kubeloginMode);
            }),
        );

        this.provider = new KubernetesProvider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig },
            { parent: this, dependsOn: Object.values(adminGrants) },
        );

        this.registerOutputs({
            name: this.name,
            resourceId: this.resourceId,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
        });
    }

    /**
     * The Namespace `namespace` in this cluster, created once however many workloads share it.
     * It waits for the admin grants, like every Kubernetes object this stack writes.
     */
    public namespace(namespace: string): corev1.Namespace {
        let resource = this.namespaces.get(namespace);
        if (resource === undefined) {
            resource = new corev1.Namespace(
                `${this.componentName}-ns-${namespace}`,
                { metadata: { name: namespace } },
                { parent: this, provider: this.provider, dependsOn: Object.values(this.adminGrants) },
            );
            this.namespaces.set(namespace, resource);
        }
        return resource;
    }

    /** The binding a WorkloadIdentity takes for this cluster; creates the namespace when asked. */
    public bindWorkload(namespace: string, createNamespace: boolean): WorkloadClusterBinding {
        const dependsOn: pulumi.Resource[] = [...Object.values(this.adminGrants)];
        if (createNamespace) {
            dependsOn.push(this.namespace(namespace));
        }
        return { oidcIssuerUrl: this.oidcIssuerUrl, kubernetesProvider: this.provider, dependsOn };
    }

}
