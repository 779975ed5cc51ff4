import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import { ClusterAccess, KubernetesClusterComponent, type ClusterAdminArgs } from "./cluster-access";
import type { KubeloginMode } from "./kubeconfig";
import { dnsPrefix } from "./names";
import { KEY_VAULT_SECRETS_PROVIDER_ADDON, validateClusterArgs } from "./validation";

export type UpgradeChannel = "rapid" | "stable" | "patch" | "node-image" | "none";
export type NodeOsUpgradeChannel = "None" | "Unmanaged" | "NodeImage" | "SecurityPatch";
export type ClusterSkuTier = "Free" | "Standard" | "Premium";
export type NetworkPolicy = "cilium" | "calico" | "azure";

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
    /**
     * The Key Vault secrets provider add-on (Secrets Store CSI driver) with secret rotation
     * every 2 minutes. @default false
     */
    keyVaultSecretsProvider?: boolean;
    /** The Azure Policy add-on (`addonProfiles.azurepolicy`). @default true */
    azurePolicy?: boolean;
    /** The image cleaner, removing unused images from the nodes weekly (`securityProfile.imageCleaner`). @default true */
    imageCleaner?: boolean;
    /**
     * Microsoft Defender for Containers, reporting to this Log Analytics workspace
     * (`securityProfile.defender`). @default off
     */
    defenderLogAnalyticsWorkspaceResourceId?: pulumi.Input<string>;
    /** Protect the cluster from deletion and replacement (`protect`). @default false */
    protect?: boolean;
    /** Tags on the cluster and its node pools. @default none */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
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

/**
 * An AKS cluster with the OIDC issuer and workload identity enabled, managed Entra ID with Azure
 * RBAC, local accounts off, and a Kubernetes provider that logs in through kubelogin.
 */
export class WorkloadIdentityCluster extends KubernetesClusterComponent {
    /** Azure name of the managed cluster. */
    public readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    public readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`). */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /** The user node pools, keyed as configured. */
    public readonly nodePools: Readonly<Record<string, containerservice.AgentPool>>;
    /** The managed cluster resource. */
    public readonly cluster: containerservice.ManagedCluster;

    protected readonly access: ClusterAccess;

    constructor(name: string, args: WorkloadIdentityClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-workload-identity:index:WorkloadIdentityCluster", name, {}, opts);

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
                addonProfiles: {
                    azurepolicy: { enabled: args.azurePolicy ?? true },
                    ...(args.keyVaultSecretsProvider === true
                        ? { [KEY_VAULT_SECRETS_PROVIDER_ADDON]: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } } }
                        : {}),
                },
                securityProfile: {
                    workloadIdentity: { enabled: true },
                    imageCleaner: { enabled: args.imageCleaner ?? true, intervalHours: 168 },
                    ...(args.defenderLogAnalyticsWorkspaceResourceId === undefined
                        ? {}
                        : { defender: { logAnalyticsWorkspaceResourceId: args.defenderLogAnalyticsWorkspaceResourceId, securityMonitoring: { enabled: true } } }),
                },
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

        this.name = this.cluster.name;
        this.resourceId = this.cluster.id;
        this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((profile) => {
            const url = profile?.issuerURL;
            if (url === undefined || !url.startsWith("https://")) {
                throw new Error(`Cluster ${name} reports no https OIDC issuer URL (got ${JSON.stringify(url)}); workload identity cannot federate with it.`);
            }
            return url;
        });

        this.access = new ClusterAccess(this, name, {
            resourceGroupName: args.resourceGroupName,
            clusterName: this.cluster.name,
            clusterId: this.cluster.id,
            clusterAdmins: args.clusterAdmins,
            kubeloginMode: args.kubeloginMode,
        });

        this.registerOutputs({
            name: this.name,
            resourceId: this.resourceId,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
        });
    }
}
