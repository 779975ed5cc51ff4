import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import {
    ClusterAccess,
    attachClusterAccess,
    clusterAccessOf,
    type ClusterAdminArgs,
    type KubernetesClusterComponent,
    type WorkloadClusterBinding,
} from "./cluster-access";
import * as authorization from "@pulumi/azure-native/authorization";
import { requirePlainInputs } from "./inputs";
import { dnsPrefix, roleAssignmentName } from "./names";
import { BUILT_IN_ROLES, roleDefinitionIdAt } from "./roles";
import { KEY_VAULT_SECRETS_PROVIDER_ADDON, validateClusterArgs } from "./validation";

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
    /** Availability zones, e.g. `["1", "2", "3"]`. Default: no zones (regional placement). */
    availabilityZones?: pulumi.Input<pulumi.Input<string>[]>;
    /** OS disk size in GB. Default: the VM size's default. */
    osDiskSizeGB?: pulumi.Input<number>;
    /** Kubernetes node labels. Default: none. */
    nodeLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Kubernetes node taints (`key=value:Effect`). Default: none. */
    nodeTaints?: pulumi.Input<pulumi.Input<string>[]>;
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
    skuTier?: ClusterSkuTier;
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
    privateCluster?: boolean;
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
     * Bring your own subnet and address ranges. Required with `privateCluster`: without it AKS
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
    /**
     * Microsoft Defender for Containers, reporting to this Log Analytics workspace
     * (`securityProfile.defender`). Default: off.
     */
    defenderLogAnalyticsWorkspaceResourceId?: pulumi.Input<string>;
    /**
     * Protect the cluster and its node pools from deletion and replacement (the `protect`
     * resource option, set on those children explicitly). A replaced cluster has a new OIDC
     * issuer and breaks every federated credential that trusts it. Default: true.
     */
    protect?: boolean;
    /** Tags on the cluster and its node pools. Default: none. */
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

/** The component's type token: `<package>:index:<class>`, as the schema names it. */
export const WORKLOAD_IDENTITY_CLUSTER_TYPE = "aks-workload-identity:index:WorkloadIdentityCluster";

/** The children a TypeScript caller reads through getters, kept off the component's fields. */
const CLUSTERS = new WeakMap<WorkloadIdentityCluster, containerservice.ManagedCluster>();
const NODE_POOLS = new WeakMap<WorkloadIdentityCluster, Readonly<Record<string, containerservice.AgentPool>>>();

/**
 * An AKS cluster with the OIDC issuer and workload identity enabled, managed Entra ID with Azure
 * RBAC, local accounts off, and a Kubernetes provider that logs in through kubelogin.
 */
export class WorkloadIdentityCluster extends pulumi.ComponentResource implements KubernetesClusterComponent {
    /** Azure name of the managed cluster. */
    public readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    public readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`): the issuer of its workloads' federated credentials. */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /**
     * User kubeconfig (secret) whose user logs in through kubelogin (`--login azurecli`; set
     * `AAD_LOGIN_METHOD` to change that at run time). It resolves once the deployer may create
     * objects in the cluster and the cluster's `namespaces` exist: build the cluster's one
     * `kubernetes.Provider` from it.
     */
    public readonly kubeconfig: pulumi.Output<string>;

    // TypeScript-only members are getters and methods: the analyzer makes every field an output.

    /** The managed cluster resource. */
    public get cluster(): containerservice.ManagedCluster {
        return CLUSTERS.get(this) as containerservice.ManagedCluster;
    }

    /** The user node pools, keyed as configured. */
    public get nodePools(): Readonly<Record<string, containerservice.AgentPool>> {
        return NODE_POOLS.get(this) ?? {};
    }

    /** Kubernetes provider for this cluster; it waits for the admin grants and the RBAC readiness check. */
    public get provider(): KubernetesProvider {
        return clusterAccessOf(this).provider;
    }

    /** The role assignments of `clusterAdmins`, keyed as configured. */
    public get adminGrants(): Readonly<Record<string, authorization.RoleAssignment>> {
        return clusterAccessOf(this).adminGrants;
    }

    /** The Namespace `namespace` in this cluster, created once however many workloads share it. */
    public namespace(namespace: string): corev1.Namespace {
        return clusterAccessOf(this).namespace(namespace);
    }

    /**
     * The binding a WorkloadIdentity takes for this cluster. The namespace is not created here:
     * declare it in the cluster's `namespaces` (or call `namespace()`) so it outlives any workload.
     */
    public bindWorkload(namespace: string): WorkloadClusterBinding {
        return clusterAccessOf(this).binding(this.oidcIssuerUrl, namespace);
    }

    constructor(name: string, args: WorkloadIdentityClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(WORKLOAD_IDENTITY_CLUSTER_TYPE, name, {}, opts);
        requirePlainInputs(this, WORKLOAD_IDENTITY_CLUSTER_TYPE, name, args);

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

        const cluster = new containerservice.ManagedCluster(
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
                    resourceName: cluster.name,
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
        CLUSTERS.set(this, cluster);
        NODE_POOLS.set(this, nodePools);

        // With its own subnet, the cluster's identity manages load balancers and routes in it:
        // AKS docs "Use kubenet/Azure CNI with your own subnet" ask for Network Contributor on the
        // subnet (a system-assigned identity can only be granted it after the cluster exists).
        if (subnet !== undefined) {
            const principalId = cluster.identity.apply((identity) => identity?.principalId ?? "");
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

        this.name = cluster.name;
        this.resourceId = cluster.id;
        this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((profile) => {
            const url = profile?.issuerURL;
            if (url === undefined || !url.startsWith("https://")) {
                throw new Error(`Cluster ${name} reports no https OIDC issuer URL (got ${JSON.stringify(url)}); workload identity cannot federate with it.`);
            }
            return url;
        });

        const access = attachClusterAccess(
            this,
            new ClusterAccess(this, name, {
                resourceGroupName: args.resourceGroupName,
                clusterName: cluster.name,
                clusterId: cluster.id,
                clusterAdmins: args.clusterAdmins,
                namespaces: args.namespaces,
            }),
        );
        this.kubeconfig = access.publishedKubeconfig();

        this.registerOutputs({
            name: this.name,
            resourceId: this.resourceId,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
        });
    }
}
