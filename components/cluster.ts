import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import { ClusterAccess, KubernetesClusterComponent, type ClusterAdminArgs } from "./cluster-access";
import * as authorization from "@pulumi/azure-native/authorization";
import { dnsPrefix, roleAssignmentName } from "./names";
import { BUILT_IN_ROLES, roleDefinitionIdAt } from "./roles";
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
    /**
     * AKS pool mode of a pool in `nodePools`: `"User"` or `"System"`. A second System pool is how
     * the inline system pool is rotated (add it, move the system workloads, then remove the old
     * one); `systemPool` is always System. @default "User"
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
    /** Overlay pod CIDR (`networkProfile.podCidr`). A change replaces the cluster. @default AKS's 10.244.0.0/16 */
    podCidr?: pulumi.Input<string>;
    /** Service CIDR (`networkProfile.serviceCidr`); must not overlap the VNet. @default AKS's 10.0.0.0/16 */
    serviceCidr?: pulumi.Input<string>;
    /** Cluster DNS service IP inside `serviceCidr` (`networkProfile.dnsServiceIP`). @default AKS's 10.0.0.10 */
    dnsServiceIp?: pulumi.Input<string>;
    /**
     * Private DNS zone of a private cluster (`apiServerAccessProfile.privateDNSZone`): `"system"`,
     * `"none"`, or the ARM ID of your own `privatelink.<region>.azmk8s.io` zone. @default "system"
     */
    privateDnsZone?: pulumi.Input<string>;
}

export interface WorkloadIdentityClusterArgs {
    /** Resource group the cluster is created in. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. @default the provider's `azure-native:location` */
    location?: pulumi.Input<string>;
    /** Azure name of the managed cluster (`resourceName`). @default the component name */
    clusterName?: pulumi.Input<string>;
    /**
     * Kubernetes version (`major.minor`). Ignored after creation under the `rapid` and `stable`
     * channels, which move the minor version themselves; under `patch`, `node-image` and `none` a
     * change is a real upgrade. @default the AKS default version
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
    /**
     * Bring your own subnet and address ranges. Required with `privateCluster`: without it AKS
     * creates its own VNet inside the same deployment, which no runner can be in. @default an
     * AKS-managed VNet
     */
    network?: ClusterNetworkArgs;
    /**
     * Namespaces this component creates and owns, declared once per cluster so that removing a
     * workload never deletes a namespace others use. `default`, `kube-system`, `kube-public` and
     * `kube-node-lease` are refused. @default none
     */
    namespaces?: string[];
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
    /**
     * Protect the cluster and its node pools from deletion and replacement (the `protect`
     * resource option, set on those children explicitly). A replaced cluster has a new OIDC
     * issuer and breaks every federated credential that trusts it. @default true
     */
    protect?: boolean;
    /** Tags on the cluster and its node pools. @default none */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const SYSTEM_POOL_NAME = "system";

/**
 * Whether AKS changes the Kubernetes minor version under this upgrade channel. `rapid` and
 * `stable` do; `patch` moves only the patch within the configured minor (AKS docs "Automatically
 * upgrade an AKS cluster": "patch ... keeping the minor version the same"), `node-image` upgrades
 * node images only and `none` nothing, so under those a minor change in config is a real update.
 */
export function channelMovesKubernetesVersion(channel: UpgradeChannel): boolean {
    return channel === "rapid" || channel === "stable";
}

/**
 * What the program must not send back to AKS on update because AKS owns it: the autoscaler owns
 * every pool's node count, and the rapid/stable channels own the versions of the cluster and of
 * the inline pool. Without the pool's `orchestratorVersion` here, `pulumi up` after an
 * auto-upgrade (with `refresh: always`) sends a full cluster PUT that puts every pool into
 * Scaling (pulumi-azure-native issue 4264).
 */
export function clusterIgnoreChanges(channel: UpgradeChannel): string[] {
    return [
        "agentPoolProfiles[0].count",
        ...(channelMovesKubernetesVersion(channel) ? ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"] : []),
    ];
}

/** The same for a separate AgentPool resource. */
export function agentPoolIgnoreChanges(channel: UpgradeChannel): string[] {
    return ["count", ...(channelMovesKubernetesVersion(channel) ? ["orchestratorVersion"] : [])];
}

/** The API server access profile: private (with its DNS zone) or public behind authorized ranges. */
function apiServerAccessProfile(args: WorkloadIdentityClusterArgs): containerservice.ManagedClusterArgs["apiServerAccessProfile"] {
    if (args.privateCluster === true) {
        return { enablePrivateCluster: true, privateDNSZone: args.network?.privateDnsZone ?? "system" };
    }
    return { authorizedIPRanges: args.authorizedIpRanges ?? [] };
}

const NETWORK_CONTRIBUTOR = { name: "Network Contributor", guid: BUILT_IN_ROLES["Network Contributor"] } as const;

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
        const system = args.systemPool;
        // protect does reach children from the parent, but only when they leave it unset; the
        // cluster and pools set it explicitly so that a TypeScript caller's component-level
        // opts cannot turn it off by accident.
        const protect = args.protect ?? true;
        const subnet = args.network?.vnetSubnetId;

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
                apiServerAccessProfile: apiServerAccessProfile(args),
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    networkDataplane: networkPolicy === "cilium" ? "cilium" : "azure",
                    networkPolicy,
                    loadBalancerSku: "standard",
                    podCidr: args.network?.podCidr,
                    serviceCidr: args.network?.serviceCidr,
                    dnsServiceIP: args.network?.dnsServiceIp,
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
                        vnetSubnetID: subnet,
                        type: "VirtualMachineScaleSets",
                    },
                ],
                tags: args.tags,
            },
            {
                parent: this,
                protect,
                // ignoreChanges re-sends the value in state; Pulumi.yaml's `refresh: always` makes
                // that the live value (the autoscaler's count), not the one the pool was created with.
                ignoreChanges: clusterIgnoreChanges(upgradeChannel),
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
                    mode: pool.mode ?? "User",
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
                    vnetSubnetID: subnet,
                    type: "VirtualMachineScaleSets",
                    tags: args.tags,
                },
                {
                    parent: this,
                    protect,
                    // A replacement keeps the pool's name, so the old pool must go first; the
                    // offline diff (`plan --base`) flags it, and the README's pool rotation adds a
                    // pool under a new key instead.
                    deleteBeforeReplace: true,
                    ignoreChanges: agentPoolIgnoreChanges(upgradeChannel),
                },
            );
        }
        this.nodePools = nodePools;

        // With its own subnet, the cluster's identity manages load balancers and routes in it:
        // AKS docs "Use kubenet/Azure CNI with your own subnet" ask for Network Contributor on the
        // subnet (a system-assigned identity can only be granted it after the cluster exists).
        if (subnet !== undefined) {
            const principalId = this.cluster.identity.apply((identity) => identity?.principalId ?? "");
            const roleDefinitionId = pulumi.output(subnet).apply((id) => roleDefinitionIdAt(NETWORK_CONTRIBUTOR, id));
            new authorization.RoleAssignment(
                `${name}-subnet-network`,
                {
                    scope: subnet,
                    principalId,
                    principalType: "ServicePrincipal",
                    roleDefinitionId,
                    roleAssignmentName: pulumi.all([subnet, principalId, roleDefinitionId]).apply(([scope, principal, role]) => roleAssignmentName(scope, principal, role)),
                    description: `Network Contributor on the node subnet for the identity of cluster ${name}.`,
                },
                { parent: this },
            );
        }

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
            namespaces: args.namespaces,
        });

        this.registerOutputs({
            name: this.name,
            resourceId: this.resourceId,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
        });
    }
}
