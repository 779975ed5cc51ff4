import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { PLACEHOLDER_SUBSCRIPTION_ID, PLACEHOLDER_TENANT_ID, placeholderIssuerUrl, runStack, type RecordedResource, type RunResult, type RunOptions } from "../testing/mock-runner";
import { byUrn, named, ofType, unwrapSecret } from "../testing/graph";
import { AdoptedCluster, WorkloadIdentity, WorkloadIdentityCluster, quickstartBindingScript } from "../components";

/*
 * The AVM-style `max` scenario: one WorkloadIdentityCluster, one AdoptedCluster and two
 * WorkloadIdentity components with every option turned on (the managed identity takes every
 * option an identity binding allows, the app registration the ones it excludes:
 * applicationOwners and annotateExistingServiceAccount). Only the options that exclude each
 * other stay off: authorizedIpRanges and allowPublicApiServer (the cluster is private).
 *
 * Everything is asserted exactly: the set of resources with their parents and providers, the
 * inputs of every Azure resource, the options that never propagate, and the write order under
 * one identity. Names here are public API: a change replaces the live resource. The principal
 * and client IDs are the mock runner's placeholders (placeholderPrincipalId / placeholderClientId
 * of the identity's Azure name), so the role assignment names are the ones for those principals.
 */

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const TENANT = PLACEHOLDER_TENANT_ID;
const ROLE = (guid: string): string => `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks`;
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-max`;
const WORKSPACE = `/subscriptions/${SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops`;
const BUS = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.ServiceBus/namespaces/sb-max`;
const MAX_ID = `/subscriptions/${SUB}/resourceGroups/rg-max/providers/Microsoft.ContainerService/managedClusters/aks-max`;
const LEGACY_ID = `/subscriptions/${SUB}/resourceGroups/rg-legacy/providers/Microsoft.ContainerService/managedClusters/aks-legacy`;
const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-max/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-max`;
const GITHUB = "https://token.actions.githubusercontent.com";
const CONDITION =
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {2a2b9908-6ea1-4ae2-8e65-a410df84e7d1}))";
const ADMIN = "11111111-1111-1111-1111-111111111111";
const ALICE = "22222222-2222-2222-2222-222222222222";
const OPS = "33333333-3333-3333-3333-333333333333";
const PIPELINE = "55555555-5555-5555-5555-555555555555";
const OWNER = "77777777-7777-7777-7777-777777777777";
/** What the mocked ManagedCluster's system-assigned identity reports here. */
const CLUSTER_PRINCIPAL = "44444444-4444-4444-4444-444444444444";
/** The mocked principal and client of the managed identity id-orders-max. */
const ORDERS_PRINCIPAL = "a520c226-db7b-54a7-ab06-bd8f29281432";
const ORDERS_CLIENT = "77dcb159-942b-5f91-9f6f-716e7be06ca9";
/** The mocked client, service principal and application object of the app registration app-payments-max. */
const PAYMENTS_CLIENT = "552ad1bf-7340-58e0-bf61-ae8e0b2a1aeb";
const PAYMENTS_PRINCIPAL = "b79f0aae-49fb-515b-8c78-cc4eb4727b9a";
const PAYMENTS_APPLICATION = "/applications/850f0781-6be1-58e5-9cba-9cc50b3bd8ce";

const T = {
    stack: "pulumi:pulumi:Stack",
    clusterComponent: "aks-workload-identity:index:WorkloadIdentityCluster",
    adopted: "aks-workload-identity:index:AdoptedCluster",
    workload: "aks-workload-identity:index:WorkloadIdentity",
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    role: "azure-native:authorization:RoleAssignment",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    generic: "azure-native:resources:Resource",
    app: "azuread:index/application:Application",
    sp: "azuread:index/servicePrincipal:ServicePrincipal",
    appFic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    readiness: "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness",
    k8sProvider: "pulumi:providers:kubernetes",
    namespace: "kubernetes:core/v1:Namespace",
    sa: "kubernetes:core/v1:ServiceAccount",
    saPatch: "kubernetes:core/v1:ServiceAccountPatch",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    job: "kubernetes:batch/v1:Job",
} as const;

/** The runner's ManagedCluster, reporting `CLUSTER_PRINCIPAL` as its system-assigned identity. */
const REPORT_CLUSTER_PRINCIPAL: NonNullable<RunOptions["resources"]> = {
    [T.cluster]: ({ state }) => ({ ...state, identity: { type: "SystemAssigned", principalId: CLUSTER_PRINCIPAL } }),
};

function maxProgram(): Record<string, unknown> {
    const cluster = new WorkloadIdentityCluster("max", {
        resourceGroupName: "rg-max",
        location: "westeurope",
        clusterName: "aks-max",
        kubernetesVersion: "1.36",
        sku: "Standard",
        upgradeChannel: "patch",
        nodeOsUpgradeChannel: "SecurityPatch",
        systemPool: {
            vmSize: "Standard_D4ds_v5",
            minCount: 3,
            maxCount: 5,
            zones: ["1", "2", "3"],
            osDiskSizeGB: 128,
            labels: { tier: "system" },
            taints: ["CriticalAddonsOnly=true:NoSchedule"],
        },
        nodePools: {
            apps: {
                vmSize: "Standard_D8ds_v5",
                minCount: 2,
                maxCount: 10,
                zones: ["1", "2", "3"],
                osDiskSizeGB: 256,
                labels: { tier: "apps" },
                taints: ["apps=true:NoSchedule"],
                mode: "User",
            },
            sys2: { vmSize: "Standard_D4ds_v5", minCount: 3, maxCount: 5, mode: "System" },
        },
        adminGroupObjectIds: [ADMIN],
        clusterAdmins: {
            alice: { objectId: ALICE, principalType: "User" },
            ops: { objectId: OPS, principalType: "Group" },
            pipeline: { objectId: PIPELINE, principalType: "ServicePrincipal" },
        },
        private: true,
        network: { vnetSubnetId: SUBNET, podCidr: "192.168.0.0/16", serviceCidr: "10.10.0.0/16", dnsServiceIp: "10.10.0.10", privateDnsZone: "none" },
        disableLocalAccounts: true,
        networkPolicy: "cilium",
        namespaces: ["orders", "tenant-a"],
        keyVaultSecretsProvider: true,
        azurePolicy: true,
        imageCleaner: true,
        defender: { logAnalyticsWorkspaceResourceId: WORKSPACE },
        protect: true,
        tags: { env: "max", team: "platform" },
    });
    const legacy = new AdoptedCluster("legacy", {
        clusterName: "aks-legacy",
        resourceGroupName: "rg-legacy",
        clusterAdmins: { pipeline: { objectId: PIPELINE, principalType: "ServicePrincipal" } },
        namespaces: ["orders"],
        requireKeyVaultSecretsProvider: true,
    });
    const orders = new WorkloadIdentity("orders", {
        resourceGroupName: "rg-max",
        location: "westeurope",
        identityName: "id-orders-max",
        principal: "managedIdentity",
        namespace: "orders",
        serviceAccount: "orders-api",
        createServiceAccount: true,
        tokenExpirationSeconds: 7200,
        clusters: { max: cluster.bindWorkload("orders"), legacy: legacy.bindWorkload("orders") },
        identityBinding: true,
        keepClassicCredentials: true,
        serviceAccounts: [
            { namespace: "orders", name: "orders-api" },
            { namespace: "tenant-a", name: "orders-api" },
        ],
        federations: {
            github: { issuer: GITHUB, subject: "repo:contoso/orders:environment:prod", audiences: ["api://AzureADTokenExchange"] },
            gov: { issuer: "https://oidc.example.com/issuer", subject: "system:serviceaccount:orders:orders-api", audiences: ["api://AzureADTokenExchangeUSGov"], allowCustomAudience: true },
        },
        roleAssignments: {
            queue: { role: "Azure Service Bus Data Receiver", scope: BUS, description: "Orders reads its queue." },
            delegate: { role: "Role Based Access Control Administrator", scope: `/subscriptions/${SUB}`, allowBroadScope: true, condition: CONDITION },
        },
        keyVault: { resourceId: VAULT, secrets: ["db-password"], certificates: ["tls"] },
        quickstart: true,
        tags: { team: "orders" },
    });
    const payments = new WorkloadIdentity("payments", {
        resourceGroupName: "rg-max",
        identityName: "app-payments-max",
        principal: "application",
        applicationOwners: [OWNER],
        namespace: "payments",
        serviceAccount: "payments",
        createServiceAccount: false,
        annotateExistingServiceAccount: true,
        clusters: { max: cluster.bindWorkload("payments"), legacy: legacy.bindWorkload("payments") },
        federations: { deploy: { issuer: GITHUB, subject: "repo:contoso/payments:environment:prod" } },
        roleAssignments: { secrets: { role: "Key Vault Secrets User", scope: VAULT } },
    });
    return {
        clusterName: cluster.name,
        clusterResourceId: cluster.resourceId,
        clusterIssuer: cluster.oidcIssuerUrl,
        legacyIssuer: legacy.oidcIssuerUrl,
        ordersPodLabels: orders.podLabels,
        ordersPodAnnotations: orders.podAnnotations,
        ordersAnnotations: orders.serviceAccountAnnotations,
        ordersBindingIssuer: orders.identityBindingIssuerUrl,
        paymentsAnnotations: payments.serviceAccountAnnotations,
        paymentsClientId: payments.clientId,
    };
}

describe("the max scenario: every option of every component", () => {
    let run: RunResult;
    before(async () => {
        run = await runStack({ stack: "max", program: maxProgram, resources: REPORT_CLUSTER_PRINCIPAL });
    });
    const get = (type: string, name: string): RecordedResource => named(run.resources, type, name);
    const nameOf = (urn: string | undefined): string | undefined => (urn === undefined ? undefined : byUrn(run.resources, urn).name);
    /** The provider's resource name, from `<urn>::<id>`. */
    const providerOf = (resource: RecordedResource): string | undefined =>
        resource.provider === undefined ? undefined : nameOf(resource.provider.split("::").slice(0, -1).join("::"));

    it("registers exactly these resources, each under its component, the Kubernetes ones with their cluster's provider", () => {
        const rows = run.resources
            .map((r) => [r.type, r.name, nameOf(r.parent), providerOf(r)])
            .sort(([typeA, nameA], [typeB, nameB]) => String(nameA).localeCompare(String(nameB)) || String(typeA).localeCompare(String(typeB)));
        assert.deepEqual(rows, [
            [T.stack, "aks-workload-identity-max", undefined, undefined],
            [T.adopted, "legacy", "aks-workload-identity-max", undefined],
            [T.role, "legacy-admin-pipeline", "legacy", undefined],
            [T.k8sProvider, "legacy-k8s", "legacy", undefined],
            [T.namespace, "legacy-ns-orders", "legacy", "legacy-k8s"],
            [T.readiness, "legacy-rbac-ready", "legacy", undefined],
            [T.clusterComponent, "max", "aks-workload-identity-max", undefined],
            [T.role, "max-admin-alice", "max", undefined],
            [T.role, "max-admin-ops", "max", undefined],
            [T.role, "max-admin-pipeline", "max", undefined],
            [T.cluster, "max-aks", "max", undefined],
            [T.k8sProvider, "max-k8s", "max", undefined],
            [T.namespace, "max-ns-orders", "max", "max-k8s"],
            [T.namespace, "max-ns-tenant-a", "max", "max-k8s"],
            [T.pool, "max-pool-apps", "max", undefined],
            [T.pool, "max-pool-sys2", "max", undefined],
            [T.readiness, "max-rbac-ready", "max", undefined],
            [T.role, "max-subnet-network", "max", undefined],
            [T.workload, "orders", "aks-workload-identity-max", undefined],
            [T.fic, "orders-fic-github", "orders", undefined],
            [T.fic, "orders-fic-gov", "orders", undefined],
            [T.fic, "orders-fic-legacy", "orders", undefined],
            [T.fic, "orders-fic-legacy-tenant-a-orders-api", "orders", undefined],
            [T.fic, "orders-fic-max", "orders", undefined],
            [T.fic, "orders-fic-max-tenant-a-orders-api", "orders", undefined],
            [T.generic, "orders-ib-legacy", "orders", undefined],
            [T.generic, "orders-ib-max", "orders", undefined],
            [T.clusterRole, "orders-ib-role-legacy", "orders", "legacy-k8s"],
            [T.clusterRole, "orders-ib-role-max", "orders", "max-k8s"],
            [T.clusterRoleBinding, "orders-ib-rolebinding-legacy", "orders", "legacy-k8s"],
            [T.clusterRoleBinding, "orders-ib-rolebinding-max", "orders", "max-k8s"],
            [T.identity, "orders-id", "orders", undefined],
            [T.job, "orders-quickstart-legacy", "orders", "legacy-k8s"],
            [T.job, "orders-quickstart-max", "orders", "max-k8s"],
            [T.role, "orders-ra-delegate", "orders", undefined],
            [T.role, "orders-ra-keyvault-certificates", "orders", undefined],
            [T.role, "orders-ra-keyvault-secrets", "orders", undefined],
            [T.role, "orders-ra-queue", "orders", undefined],
            [T.sa, "orders-sa-legacy", "orders", "legacy-k8s"],
            [T.sa, "orders-sa-max", "orders", "max-k8s"],
            [T.spc, "orders-spc-legacy", "orders", "legacy-k8s"],
            [T.spc, "orders-spc-max", "orders", "max-k8s"],
            [T.workload, "payments", "aks-workload-identity-max", undefined],
            [T.app, "payments-app", "payments", undefined],
            [T.appFic, "payments-fic-deploy", "payments", undefined],
            [T.appFic, "payments-fic-legacy", "payments", undefined],
            [T.appFic, "payments-fic-max", "payments", undefined],
            [T.role, "payments-ra-secrets", "payments", undefined],
            [T.saPatch, "payments-sa-legacy", "payments", "legacy-k8s"],
            [T.saPatch, "payments-sa-max", "payments", "max-k8s"],
            [T.sp, "payments-sp", "payments", undefined],
        ]);
    });

    it("looks the adopted cluster up once and reads both user kubeconfigs in exec format", () => {
        assert.deepEqual(
            run.invokes.map((invoke) => [invoke.token, invoke.args]),
            [
                ["azure-native:containerservice:getManagedCluster", { resourceGroupName: "rg-legacy", resourceName: "aks-legacy" }],
                ["azure-native:containerservice:listManagedClusterUserCredentials", { format: "exec", resourceGroupName: "rg-legacy", resourceName: "aks-legacy" }],
                ["azure-native:containerservice:listManagedClusterUserCredentials", { format: "exec", resourceGroupName: "rg-max", resourceName: "aks-max" }],
            ],
        );
    });

    it("sends every cluster option to the ManagedCluster, protected, ignoring only what the patch channel leaves to AKS", () => {
        const cluster = get(T.cluster, "max-aks");
        assert.deepEqual(cluster.inputs, {
            resourceGroupName: "rg-max",
            location: "westeurope",
            resourceName: "aks-max",
            dnsPrefix: "aks-max",
            kubernetesVersion: "1.36",
            sku: { name: "Base", tier: "Standard" },
            identity: { type: "SystemAssigned" },
            enableRBAC: true,
            disableLocalAccounts: true,
            aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [ADMIN] },
            oidcIssuerProfile: { enabled: true },
            addonProfiles: {
                azurepolicy: { enabled: true },
                azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
            },
            securityProfile: {
                workloadIdentity: { enabled: true },
                imageCleaner: { enabled: true, intervalHours: 168 },
                defender: { logAnalyticsWorkspaceResourceId: WORKSPACE, securityMonitoring: { enabled: true } },
            },
            autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "SecurityPatch" },
            apiServerAccessProfile: { enablePrivateCluster: true, privateDNSZone: "none" },
            networkProfile: {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane: "cilium",
                networkPolicy: "cilium",
                loadBalancerSku: "standard",
                podCidr: "192.168.0.0/16",
                serviceCidr: "10.10.0.0/16",
                dnsServiceIP: "10.10.0.10",
                // azure-native's own default (containerServiceNetworkProfileArgsProvideDefaults).
                outboundType: "loadBalancer",
            },
            agentPoolProfiles: [
                {
                    name: "system",
                    mode: "System",
                    osType: "Linux",
                    vmSize: "Standard_D4ds_v5",
                    enableAutoScaling: true,
                    minCount: 3,
                    maxCount: 5,
                    count: 3,
                    availabilityZones: ["1", "2", "3"],
                    osDiskSizeGB: 128,
                    nodeLabels: { tier: "system" },
                    nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"],
                    vnetSubnetID: SUBNET,
                    type: "VirtualMachineScaleSets",
                },
            ],
            tags: { env: "max", team: "platform" },
        });
        assert.deepEqual([cluster.protect, cluster.deleteBeforeReplace, cluster.ignoreChanges], [true, false, ["agentPoolProfiles[0].count"]]);
    });

    it("creates each node pool as its own AgentPool, protected, deleted before it is replaced", () => {
        const common = {
            resourceGroupName: "rg-max",
            resourceName: "aks-max",
            osType: "Linux",
            enableAutoScaling: true,
            vnetSubnetID: SUBNET,
            type: "VirtualMachineScaleSets",
            tags: { env: "max", team: "platform" },
        };
        assert.deepEqual(get(T.pool, "max-pool-apps").inputs, {
            ...common,
            agentPoolName: "apps",
            mode: "User",
            vmSize: "Standard_D8ds_v5",
            minCount: 2,
            maxCount: 10,
            count: 2,
            availabilityZones: ["1", "2", "3"],
            osDiskSizeGB: 256,
            nodeLabels: { tier: "apps" },
            nodeTaints: ["apps=true:NoSchedule"],
        });
        assert.deepEqual(get(T.pool, "max-pool-sys2").inputs, { ...common, agentPoolName: "sys2", mode: "System", vmSize: "Standard_D4ds_v5", minCount: 3, maxCount: 5, count: 3 });
        for (const name of ["max-pool-apps", "max-pool-sys2"]) {
            const pool = get(T.pool, name);
            assert.deepEqual([pool.protect, pool.deleteBeforeReplace, pool.ignoreChanges], [true, true, ["count"]], name);
            assert.deepEqual(pool.dependencies.map(nameOf), ["max-aks"], `${name} waits for the cluster`);
        }
    });

    it("grants the cluster admins (User, Group, ServicePrincipal) on both clusters and Network Contributor on the subnet", () => {
        const admin = (clusterId: string, cluster: string, key: string, principalId: string, principalType: string, roleAssignmentName: string): Record<string, unknown> => ({
            scope: clusterId,
            principalId,
            principalType,
            roleDefinitionId: ROLE("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
            roleAssignmentName,
            description: `Cluster admin "${key}" of ${cluster}, declared in clusterAdmins.`,
        });
        const clusterGrants = ["legacy-admin-pipeline", "max-admin-alice", "max-admin-ops", "max-admin-pipeline", "max-subnet-network"];
        assert.deepEqual(
            clusterGrants.map((name) => get(T.role, name).inputs),
            [
                admin(LEGACY_ID, "legacy", "pipeline", PIPELINE, "ServicePrincipal", "0912de82-2f31-55b9-8314-9f057588ef91"),
                admin(MAX_ID, "max", "alice", ALICE, "User", "eee07379-deef-537b-962f-af845858a173"),
                admin(MAX_ID, "max", "ops", OPS, "Group", "183cb8e1-cb99-5ddf-b30a-e2e0253c751e"),
                admin(MAX_ID, "max", "pipeline", PIPELINE, "ServicePrincipal", "558a2043-74e7-540d-b637-87bf4982d0c5"),
                {
                    scope: SUBNET,
                    principalId: CLUSTER_PRINCIPAL,
                    principalType: "ServicePrincipal",
                    roleDefinitionId: ROLE("4d97b98b-1d4f-4787-a291-c67834d212e7"),
                    roleAssignmentName: "64b4f9fa-e0d1-5a4d-96a0-c1ad5c55f83e",
                    description: "Network Contributor on the node subnet for the identity of cluster max.",
                },
            ],
        );
        // Every Kubernetes object of a cluster waits for its admin grants through the readiness check and the provider.
        assert.deepEqual(get(T.readiness, "max-rbac-ready").dependencies.map(nameOf).sort(), ["max-admin-alice", "max-admin-ops", "max-admin-pipeline", "max-aks"]);
        assert.deepEqual(get(T.k8sProvider, "legacy-k8s").dependencies.map(nameOf).sort(), ["legacy-admin-pipeline", "legacy-rbac-ready"]);
        assert.deepEqual(
            ofType(run.resources, T.namespace).map((n) => [n.name, n.inputs.metadata]),
            [
                ["legacy-ns-orders", { name: "orders" }],
                ["max-ns-orders", { name: "orders" }],
                ["max-ns-tenant-a", { name: "tenant-a" }],
            ],
        );
    });

    it("gives the managed identity its tags, the kept classic FICs and both federations, and writes them and the bindings one after another", () => {
        assert.deepEqual(get(T.identity, "orders-id").inputs, { resourceGroupName: "rg-max", location: "westeurope", resourceName: "id-orders-max", tags: { team: "orders" } });
        const fic = (name: string, issuer: string, subject: string, audience = "api://AzureADTokenExchange"): Record<string, unknown> => ({
            resourceGroupName: "rg-max",
            resourceName: "id-orders-max",
            federatedIdentityCredentialResourceName: name,
            issuer,
            subject,
            audiences: [audience],
        });
        const legacyIssuer = placeholderIssuerUrl("westeurope", "aks-legacy");
        const maxIssuer = placeholderIssuerUrl("westeurope", "aks-max");
        // Cluster keys in order, each with its own ServiceAccount first, then the bindings, then the federations.
        const chain = [
            "orders-fic-legacy",
            "orders-fic-legacy-tenant-a-orders-api",
            "orders-fic-max",
            "orders-fic-max-tenant-a-orders-api",
            "orders-ib-legacy",
            "orders-ib-max",
            "orders-fic-github",
            "orders-fic-gov",
        ];
        const writes = chain.map((name) => run.resources.find((r) => r.name === name) as RecordedResource);
        assert.deepEqual(
            writes.filter((r) => r.type === T.fic).map((r) => r.inputs),
            [
                fic("fic-legacy", legacyIssuer, "system:serviceaccount:orders:orders-api"),
                fic("fic-legacy-tenant-a-orders-api", legacyIssuer, "system:serviceaccount:tenant-a:orders-api"),
                fic("fic-max", maxIssuer, "system:serviceaccount:orders:orders-api"),
                fic("fic-max-tenant-a-orders-api", maxIssuer, "system:serviceaccount:tenant-a:orders-api"),
                fic("fic-github", GITHUB, "repo:contoso/orders:environment:prod"),
                fic("fic-gov", "https://oidc.example.com/issuer", "system:serviceaccount:orders:orders-api", "api://AzureADTokenExchangeUSGov"),
            ],
        );
        writes.forEach((write, index) => {
            assert.equal(write.deleteBeforeReplace, true, `${write.name} is deleted before it is replaced (its name is fixed)`);
            if (index > 0) {
                assert.ok(write.dependencies.includes(writes[index - 1].urn), `${write.name} waits for ${writes[index - 1].name}`);
            }
        });
        assert.equal(writes[0].dependencies.some((urn) => chain.includes(nameOf(urn) ?? "")), false, "the chain starts with orders-fic-legacy");
    });

    it("binds the identity on both clusters and lets both allowed ServiceAccounts use it", () => {
        for (const [cluster, group] of [
            ["legacy", "rg-legacy"],
            ["max", "rg-max"],
        ]) {
            const binding = get(T.generic, `orders-ib-${cluster}`);
            assert.deepEqual(binding.inputs, {
                apiVersion: "2026-05-01",
                resourceProviderNamespace: "Microsoft.ContainerService",
                resourceGroupName: group,
                parentResourcePath: `managedClusters/aks-${cluster}`,
                resourceType: "identityBindings",
                resourceName: "orders",
                properties: { managedIdentity: { resourceId: IDENTITY_ID } },
            });
            assert.deepEqual(get(T.clusterRole, `orders-ib-role-${cluster}`).inputs, {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "ClusterRole",
                metadata: { name: "use-managed-identity-orders" },
                rules: [{ apiGroups: ["cid.wi.aks.azure.com"], resources: [ORDERS_CLIENT], verbs: ["use-managed-identity"] }],
            });
            assert.deepEqual(get(T.clusterRoleBinding, `orders-ib-rolebinding-${cluster}`).inputs, {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "ClusterRoleBinding",
                metadata: { name: "use-managed-identity-orders" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "use-managed-identity-orders" },
                subjects: [
                    { kind: "ServiceAccount", name: "orders-api", namespace: "orders" },
                    { kind: "ServiceAccount", name: "orders-api", namespace: "tenant-a" },
                ],
            });
        }
    });

    it("assigns the configured roles, with description, condition and the Key Vault roles, all as ServicePrincipal", () => {
        const grant = (scope: string, role: string, roleAssignmentName: string, description: string): Record<string, unknown> => ({
            scope,
            principalId: ORDERS_PRINCIPAL,
            principalType: "ServicePrincipal",
            roleDefinitionId: ROLE(role),
            roleAssignmentName,
            description,
        });
        assert.deepEqual(
            ["orders-ra-queue", "orders-ra-delegate", "orders-ra-keyvault-secrets", "orders-ra-keyvault-certificates", "payments-ra-secrets"].map((name) => get(T.role, name).inputs),
            [
                grant(BUS, "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", "2064dd89-9a3b-5434-afd4-44b0355f63d0", "Orders reads its queue."),
                {
                    ...grant(`/subscriptions/${SUB}`, "f58310d9-a9f6-439a-9e8d-f62e7b41a168", "0de92b55-b608-50e1-8e55-44d3757148f7", "Role Based Access Control Administrator for workload orders (delegate)."),
                    condition: CONDITION,
                    conditionVersion: "2.0",
                },
                grant(VAULT, "4633458b-17de-408a-b874-0445c86b69e6", "67778266-06e3-5586-ab13-60a32e87c73c", "Key Vault Secrets User for workload orders (keyvault-secrets)."),
                grant(VAULT, "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "a2977821-06ef-5fce-82a1-53f711887922", "Key Vault Certificate User for workload orders (keyvault-certificates)."),
                {
                    ...grant(VAULT, "4633458b-17de-408a-b874-0445c86b69e6", "a761868d-29cf-5ccd-8117-f879bd50b858", "Key Vault Secrets User for workload payments (secrets)."),
                    principalId: PAYMENTS_PRINCIPAL,
                },
            ],
        );
    });

    it("creates the ServiceAccount and the SecretProviderClass in every cluster, and a quick-start through the binding", () => {
        const annotations = {
            "azure.workload.identity/client-id": ORDERS_CLIENT,
            "azure.workload.identity/tenant-id": TENANT,
            "azure.workload.identity/service-account-token-expiration": "7200",
        };
        for (const cluster of ["legacy", "max"]) {
            assert.deepEqual(get(T.sa, `orders-sa-${cluster}`).inputs, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "orders-api", namespace: "orders", annotations } });
            assert.deepEqual(get(T.spc, `orders-spc-${cluster}`).inputs, {
                apiVersion: "secrets-store.csi.x-k8s.io/v1",
                kind: "SecretProviderClass",
                metadata: { name: "orders-keyvault", namespace: "orders" },
                spec: {
                    provider: "azure",
                    parameters: {
                        usePodIdentity: "false",
                        useAzureTokenProxy: "true",
                        clientID: ORDERS_CLIENT,
                        tenantId: TENANT,
                        keyvaultName: "kv-max",
                        objects: "array:\n  - |\n    objectName: db-password\n    objectType: secret\n  - |\n    objectName: tls\n    objectType: cert\n",
                    },
                },
            });
            const job = get(T.job, `orders-quickstart-${cluster}`);
            const spec = job.inputs.spec as { template: { metadata: unknown; spec: { serviceAccountName: string; containers: { command: string[] }[] } } };
            assert.deepEqual(job.inputs.metadata, { name: "orders-quickstart", namespace: "orders", labels: { app: "orders-quickstart" } });
            assert.deepEqual(spec.template.metadata, {
                labels: { app: "orders-quickstart", "azure.workload.identity/use": "true" },
                annotations: { "azure.workload.identity/use-identity-binding": "true" },
            });
            assert.equal(spec.template.spec.serviceAccountName, "orders-api");
            assert.deepEqual(spec.template.spec.containers[0].command, ["/bin/sh", "-c", quickstartBindingScript("kv-max", "db-password")]);
            const waitsFor = job.dependencies.map(nameOf);
            for (const dependency of [`orders-ib-${cluster}`, `orders-ib-rolebinding-${cluster}`, "orders-ra-keyvault-secrets", `orders-sa-${cluster}`, `${cluster}-ns-orders`]) {
                assert.ok(waitsFor.includes(dependency), `orders-quickstart-${cluster} waits for ${dependency}`);
            }
        }
    });

    it("registers the app registration with its owners, its FICs in order, and patches the existing ServiceAccounts", () => {
        assert.deepEqual(get(T.app, "payments-app").inputs, {
            displayName: "app-payments-max",
            description: "Workload identity payments (federated, no secrets).",
            signInAudience: "AzureADMyOrg",
            owners: [OWNER],
        });
        assert.deepEqual(get(T.sp, "payments-sp").inputs, { clientId: PAYMENTS_CLIENT, owners: [OWNER] });
        const fic = (displayName: string, description: string, issuer: string, subject: string): Record<string, unknown> => ({
            applicationId: PAYMENTS_APPLICATION,
            displayName,
            description,
            issuer,
            subject,
            audiences: ["api://AzureADTokenExchange"],
        });
        const chain = ["payments-fic-legacy", "payments-fic-max", "payments-fic-deploy"].map((name) => get(T.appFic, name));
        assert.deepEqual(
            chain.map((r) => r.inputs),
            [
                fic("fic-legacy", "Cluster legacy: system:serviceaccount:payments:payments", placeholderIssuerUrl("westeurope", "aks-legacy"), "system:serviceaccount:payments:payments"),
                fic("fic-max", "Cluster max: system:serviceaccount:payments:payments", placeholderIssuerUrl("westeurope", "aks-max"), "system:serviceaccount:payments:payments"),
                fic("fic-deploy", "Federation deploy", GITHUB, "repo:contoso/payments:environment:prod"),
            ],
        );
        assert.ok(chain[1].dependencies.includes(chain[0].urn) && chain[2].dependencies.includes(chain[1].urn), "the app registration's FICs are written one after another");
        for (const cluster of ["legacy", "max"]) {
            assert.deepEqual(get(T.saPatch, `payments-sa-${cluster}`).inputs, {
                apiVersion: "v1",
                kind: "ServiceAccount",
                metadata: {
                    name: "payments",
                    namespace: "payments",
                    annotations: { "azure.workload.identity/client-id": PAYMENTS_CLIENT, "azure.workload.identity/tenant-id": TENANT },
                },
            });
        }
    });

    it("exports what the components promise", () => {
        assert.deepEqual(
            Object.fromEntries(Object.entries(run.outputs).map(([key, value]) => [key, unwrapSecret(value)])),
            {
                clusterName: "aks-max",
                clusterResourceId: MAX_ID,
                clusterIssuer: placeholderIssuerUrl("westeurope", "aks-max"),
                legacyIssuer: placeholderIssuerUrl("westeurope", "aks-legacy"),
                ordersPodLabels: { "azure.workload.identity/use": "true" },
                ordersPodAnnotations: { "azure.workload.identity/use-identity-binding": "true" },
                ordersAnnotations: {
                    "azure.workload.identity/client-id": ORDERS_CLIENT,
                    "azure.workload.identity/tenant-id": TENANT,
                    "azure.workload.identity/service-account-token-expiration": "7200",
                },
                // The mock's binding issuer for this identity (AKS reports its own once the binding exists).
                ordersBindingIssuer: `https://ib.oic.prod-aks.azure.com/${TENANT}/${ORDERS_CLIENT}`,
                paymentsAnnotations: { "azure.workload.identity/client-id": PAYMENTS_CLIENT, "azure.workload.identity/tenant-id": TENANT },
                paymentsClientId: PAYMENTS_CLIENT,
            },
        );
    });
});
