import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import {
    ClusterAccess,
    attachClusterAccess,
    clusterAccessOf,
    type KubernetesClusterComponent,
} from "./cluster-access";
import type { UpgradeChannel, WorkloadClusterBinding, WorkloadIdentityClusterArgs } from "./args";
import * as authorization from "@pulumi/azure-native/authorization";
import { requirePlainInputs } from "./inputs";
import { VERSION_MOVING_CHANNELS } from "./kubernetes-versions";
import { dnsPrefix } from "./names";
import { assignRole } from "./role-assignment";
import { BUILT_IN_ROLES } from "./roles";
import { KEY_VAULT_SECRETS_PROVIDER_ADDON, validateClusterArgs } from "./validation";

const SYSTEM_POOL_NAME = "system";

/**
 * Whether AKS changes the Kubernetes minor version under this upgrade channel. `rapid` and
 * `stable` do; `patch` moves only the patch within the configured minor (AKS docs "Automatically
 * upgrade an AKS cluster": "patch ... keeping the minor version the same"), `node-image` upgrades
 * node images only and `none` nothing, so under those a minor change in config is a real update.
 */
export function channelMovesKubernetesVersion(channel: UpgradeChannel): boolean {
    return VERSION_MOVING_CHANNELS.includes(channel);
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
    if (args.private === true) {
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
                sku: { name: "Base", tier: args.sku ?? "Free" },
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
                    ...(args.defender === undefined
                        ? {}
                        : { defender: { logAnalyticsWorkspaceResourceId: args.defender.logAnalyticsWorkspaceResourceId, securityMonitoring: { enabled: true } } }),
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
                        availabilityZones: system.zones,
                        osDiskSizeGB: system.osDiskSizeGB,
                        nodeLabels: system.labels,
                        nodeTaints: system.taints,
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
                    availabilityZones: pool.zones,
                    osDiskSizeGB: pool.osDiskSizeGB,
                    nodeLabels: pool.labels,
                    nodeTaints: pool.taints,
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
            assignRole(
                {
                    resourceName: `${name}-subnet-network`,
                    role: NETWORK_CONTRIBUTOR,
                    scope: subnet,
                    principalId: cluster.identity.apply((identity) => identity?.principalId ?? ""),
                    principalType: "ServicePrincipal",
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
