import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { PLACEHOLDER_SUBSCRIPTION_ID, placeholderIssuerUrl, runStack } from "../testing/mock-runner";
import { named, ofType } from "../testing/graph";
import { WorkloadIdentity, WorkloadIdentityCluster, type WorkloadIdentityClusterArgs } from "../components";

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const GROUP = "11111111-1111-1111-1111-111111111111";

const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks`;
const OWNER = "7d3c2f9e-5b1a-4c8d-9e2f-1a3b5c7d9e0f";

const clusterArgs: WorkloadIdentityClusterArgs = {
    resourceGroupName: "rg-code",
    location: "westeurope",
    clusterName: "aks-code",
    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
    adminGroupObjectIds: [GROUP],
    private: true,
    network: { vnetSubnetId: SUBNET },
    namespaces: ["api"],
};

async function failureOf(program: () => void): Promise<Error> {
    try {
        await runStack({ stack: "code", program });
    } catch (error) {
        return error as Error;
    }
    return assert.fail("the program was expected to fail");
}

describe("components composed in code", () => {
    it("grants roles through identity.grants with the same guarantees as config", async () => {
        let kubeconfig: pulumi.Output<string> | undefined;
        const run = await runStack({
            stack: "code",
            program: () => {
                const group = new resources.ResourceGroup("data", { resourceGroupName: "rg-data" });
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                kubeconfig = cluster.kubeconfig;
                const identity = new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                });
                identity.grants.assign("data-reader", { role: "Reader", scope: group.id });
                identity.grants.readSecrets("vault", `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv`);
                return { podLabels: identity.podLabels, subject: identity.subject };
            },
        });
        assert.deepEqual(run.outputs, { podLabels: { "azure.workload.identity/use": "true" }, subject: "system:serviceaccount:api:api" });
        const reader = named(run.resources, "azure-native:authorization:RoleAssignment", "api-ra-data-reader");
        assert.equal(reader.inputs.scope, `/subscriptions/${SUB}/resourceGroups/rg-data`);
        assert.equal(reader.inputs.roleDefinitionId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`);
        assert.equal(reader.inputs.principalType, "ServicePrincipal");
        assert.ok(reader.dependencies.includes(named(run.resources, "azure-native:resources:ResourceGroup", "data").urn), "the grant waits for the resource group its scope comes from");
        assert.equal(reader.parent, named(run.resources, "aks-workload-identity:index:WorkloadIdentity", "api").urn);
        const vault = named(run.resources, "azure-native:authorization:RoleAssignment", "api-ra-vault");
        assert.equal(vault.inputs.roleDefinitionId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`);
        assert.equal(named(run.resources, "azure-native:managedidentity:FederatedIdentityCredential", "api-fic-main").inputs.issuer, placeholderIssuerUrl("westeurope", "aks-code"));
        // The component's own defaults are the secure baseline, without any config module.
        const cluster = named(run.resources, "azure-native:containerservice:ManagedCluster", "main-aks");
        assert.equal(cluster.inputs.disableLocalAccounts, true);
        assert.deepEqual(cluster.inputs.aadProfile, { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [GROUP] });
        assert.deepEqual(cluster.inputs.sku, { name: "Base", tier: "Free" });
        assert.deepEqual(cluster.inputs.autoUpgradeProfile, { upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" });
        assert.deepEqual(cluster.inputs.apiServerAccessProfile, { enablePrivateCluster: true, privateDNSZone: "system" });
        assert.equal((cluster.inputs.networkProfile as { networkPolicy: string }).networkPolicy, "cilium");
        assert.equal(cluster.protect, true, "clusters are protected unless protect: false");
        assert.ok(kubeconfig, "the cluster exposes a kubeconfig output");
        assert.equal(await pulumi.isSecret(kubeconfig), true, "the kubeconfig output is a secret");
    });

    it("refuses invalid cluster args before creating any child", async () => {
        const error = await failureOf(() => {
            new WorkloadIdentityCluster("bad", {
                ...clusterArgs,
                adminGroupObjectIds: [],
                private: false,
                authorizedIpRanges: ["10.0.0.0/40"],
                systemPool: { vmSize: "Standard_D2ds_v5", minCount: 0, maxCount: 2 },
                nodePools: { System: { vmSize: "Standard_D2ds_v5", minCount: 0, maxCount: 1 } },
                clusterAdmins: { ops: { objectId: "nope", principalType: "User" } },
            });
        });
        assert.ok(error instanceof pulumi.ResourceError, "invalid args fail with a ResourceError");
        assert.equal(error.hideStack, true, "printed without a JavaScript stack trace");
        assert.equal(
            error.message,
            [
                'Invalid WorkloadIdentityCluster "bad":',
                '  - nodePools.System: invalid node pool name "System". Allowed values are 1 to 12 lower-case letters and digits, starting with a letter.',
                "  - systemPool: invalid minCount 0. Allowed values are whole numbers from 1 to 1000.",
                '  - authorizedIpRanges: invalid IP range "10.0.0.0/40". Allowed values are IPv4 addresses or CIDR ranges such as 203.0.113.0/24.',
                '  - clusterAdmins.ops.objectId: invalid GUID "nope". Allowed values look like 00000000-0000-0000-0000-000000000000.',
            ].join("\n"),
        );
    });

    it("refuses invalid workload identity args and broad grants", async () => {
        const error = await failureOf(() => {
            new WorkloadIdentity("bad", {
                resourceGroupName: "rg",
                namespace: "kube-system",
                serviceAccount: "Bad_Name",
                tokenExpirationSeconds: 100000,
                roleAssignments: { all: { role: "Contributor", scope: `/subscriptions/${SUB}` } },
            });
        });
        assert.equal(
            error.message,
            [
                'Invalid WorkloadIdentity "bad":',
                '  - namespace: namespace "kube-system" is refused: AKS excludes it from the workload identity webhook, so pods there never get a token.',
                '  - serviceAccount: invalid ServiceAccount name "Bad_Name". Allowed values are RFC 1123 subdomains: at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit.',
                "  - tokenExpirationSeconds: invalid token expiration 100000. Allowed values are whole seconds from 3600 to 86400: the webhook rejects pods outside that range.",
                '  - roleAssignments.all.role: role "Contributor" at subscription scope is refused for a workload. Assign it on a resource group or resource, or set allowBroadScope: true on this assignment.',
            ].join("\n"),
        );

        const twice = await failureOf(() => {
            const cluster = new WorkloadIdentityCluster("one", clusterArgs);
            const binding = cluster.bindWorkload("app");
            new WorkloadIdentity("app", { resourceGroupName: "rg", namespace: "app", clusters: { a: binding, b: binding } });
        });
        assert.equal(
            twice.message,
            'Invalid WorkloadIdentity "app":\n  - clusters.b: the same cluster as clusters.a; one identity may trust one (issuer, subject) pair only once.',
        );

        const duplicate = await failureOf(() => {
            const identity = new WorkloadIdentity("dup", { resourceGroupName: "rg", namespace: "dup" });
            identity.grants.assign("k", { role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/a` });
            identity.grants.assign("k", { role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/b` });
        });
        assert.equal(duplicate.message, 'Role assignment key "k" is used twice on workload identity dup.');

        const unknownRole = await failureOf(() => {
            new WorkloadIdentity("role", { resourceGroupName: "rg", namespace: "role" }).grants.assign("x", { role: "AcrPul", scope: `/subscriptions/${SUB}/resourceGroups/a` });
        });
        assert.match(unknownRole.message, /^Invalid role assignment "x" of role:\n {2}- unknown role "AcrPul"\. Did you mean "AcrPull"\?/);
    });

    it("creates no ServiceAccount and no FIC for an identity bound to no cluster", async () => {
        const run = await runStack({ stack: "code", program: () => void new WorkloadIdentity("lonely", { resourceGroupName: "rg", namespace: "lonely" }) });
        assert.deepEqual(
            run.resources.map((r) => r.type),
            ["pulumi:pulumi:Stack", "aks-workload-identity:index:WorkloadIdentity", "azure-native:managedidentity:UserAssignedIdentity"],
        );
        assert.equal(ofType(run.resources, "kubernetes:core/v1:ServiceAccount").length, 0);
    });
});

describe("day-one and day-two behaviour of the components", () => {
    const vault = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-code`;

    it("lists applicationOwners as owners of the app registration and of its service principal", async () => {
        const run = await runStack({
            stack: "code",
            program: () => void new WorkloadIdentity("app", { resourceGroupName: "rg", namespace: "app", principal: "application", applicationOwners: [OWNER] }),
        });
        assert.deepEqual(named(run.resources, "azuread:index/application:Application", "app-app").inputs.owners, [OWNER]);
        assert.deepEqual(named(run.resources, "azuread:index/servicePrincipal:ServicePrincipal", "app-sp").inputs.owners, [OWNER]);
    });

    it("refuses an app registration without owners, before anything is created", async () => {
        const error = await failureOf(() => void new WorkloadIdentity("app", { resourceGroupName: "rg", namespace: "app", principal: "application" }));
        assert.equal(
            error.message,
            'Invalid WorkloadIdentity "app":\n  - applicationOwners: required for principal application. List the object IDs of every identity that deploys this stack: with Application.ReadWrite.OwnedBy a deployer that is not an owner is locked out after the first create.',
        );
    });

    it("creates no Kubernetes object with createServiceAccount: false and gives the annotations a chart takes", async () => {
        let annotations: pulumi.Output<Record<string, string>> | undefined;
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                const identity = new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    createServiceAccount: false,
                    tokenExpirationSeconds: 7200,
                    clusters: { main: cluster.bindWorkload("api") },
                });
                annotations = identity.serviceAccountAnnotations;
                return { annotations: identity.serviceAccountAnnotations };
            },
        });
        assert.equal(ofType(run.resources, "kubernetes:core/v1:ServiceAccount").length, 0);
        assert.equal(ofType(run.resources, "kubernetes:core/v1:ServiceAccountPatch").length, 0);
        assert.ok(annotations, "the component exposes serviceAccountAnnotations");
        const identity = named(run.resources, "azure-native:managedidentity:UserAssignedIdentity", "api-id");
        assert.deepEqual(run.outputs.annotations, {
            "azure.workload.identity/client-id": identity.state.clientId,
            "azure.workload.identity/tenant-id": identity.state.tenantId,
            "azure.workload.identity/service-account-token-expiration": "7200",
        });
    });

    it("patches an existing ServiceAccount only when asked, and refuses the opt-in with a created one", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    createServiceAccount: false,
                    annotateExistingServiceAccount: true,
                    clusters: { main: cluster.bindWorkload("api") },
                });
            },
        });
        assert.deepEqual(ofType(run.resources, "kubernetes:core/v1:ServiceAccountPatch").map((r) => r.name), ["api-sa-main"]);
        const error = await failureOf(() => void new WorkloadIdentity("api", { resourceGroupName: "rg", namespace: "api", annotateExistingServiceAccount: true }));
        assert.equal(
            error.message,
            'Invalid WorkloadIdentity "api":\n  - annotateExistingServiceAccount: true annotates a ServiceAccount that already exists, so it needs createServiceAccount: false (the default true creates the ServiceAccount).',
        );
    });

    it("puts the nodes on the given subnet, with its address ranges and a Network Contributor grant for the cluster", async () => {
        const run = await runStack({
            stack: "code",
            program: () =>
                void new WorkloadIdentityCluster("main", {
                    ...clusterArgs,
                    network: { vnetSubnetId: SUBNET, podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIp: "10.0.0.10" },
                    nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 } },
                }),
        });
        const cluster = named(run.resources, "azure-native:containerservice:ManagedCluster", "main-aks");
        const profile = cluster.inputs.networkProfile as Record<string, unknown>;
        assert.equal(profile.podCidr, "10.244.0.0/16");
        assert.equal(profile.serviceCidr, "10.0.0.0/16");
        assert.equal(profile.dnsServiceIP, "10.0.0.10");
        assert.equal((cluster.inputs.agentPoolProfiles as { vnetSubnetID: string }[])[0].vnetSubnetID, SUBNET);
        assert.equal(named(run.resources, "azure-native:containerservice:AgentPool", "main-pool-apps").inputs.vnetSubnetID, SUBNET);
        const grant = named(run.resources, "azure-native:authorization:RoleAssignment", "main-subnet-network");
        assert.equal(grant.inputs.scope, SUBNET);
        assert.equal(grant.inputs.roleDefinitionId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7`);
        assert.equal(grant.inputs.principalType, "ServicePrincipal");
        assert.ok(grant.dependencies.includes(cluster.urn), "the grant waits for the cluster's identity");
    });

    it("refuses a private cluster without its own subnet", async () => {
        const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, network: undefined }));
        assert.equal(
            error.message,
            'Invalid WorkloadIdentityCluster "main":\n  - network: required with private: true. Without a subnet of yours AKS creates a virtual network of its own during the deployment, and no runner can be inside it to reach the private API server: give network.vnetSubnetId, a subnet of a virtual network your runner reaches.',
        );
    });

    for (const [channel, ignored] of [
        ["rapid", ["agentPoolProfiles[0].count", "kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]],
        ["stable", ["agentPoolProfiles[0].count", "kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]],
        ["patch", ["agentPoolProfiles[0].count"]],
        ["node-image", ["agentPoolProfiles[0].count"]],
        ["none", ["agentPoolProfiles[0].count"]],
    ] as const) {
        it(`ignores on the cluster under ${channel} exactly what that channel owns`, async () => {
            const run = await runStack({
                stack: "code",
                program: () =>
                    void new WorkloadIdentityCluster("main", {
                        ...clusterArgs,
                        upgradeChannel: channel,
                        kubernetesVersion: "1.35",
                        nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 } },
                    }),
            });
            assert.deepEqual(named(run.resources, "azure-native:containerservice:ManagedCluster", "main-aks").ignoreChanges, ignored);
            const pool = named(run.resources, "azure-native:containerservice:AgentPool", "main-pool-apps");
            assert.deepEqual(pool.ignoreChanges, channel === "rapid" || channel === "stable" ? ["count", "orchestratorVersion"] : ["count"]);
        });
    }

    it("protects the cluster and its pools by default, sends the pool mode, and creates with count = minCount", async () => {
        const run = await runStack({
            stack: "code",
            program: () =>
                void new WorkloadIdentityCluster("main", {
                    ...clusterArgs,
                    nodePools: { sys2: { vmSize: "Standard_D4ds_v5", minCount: 3, maxCount: 6, mode: "System" }, apps: { vmSize: "Standard_D4ds_v5", minCount: 2, maxCount: 5 } },
                }),
        });
        const sys2 = named(run.resources, "azure-native:containerservice:AgentPool", "main-pool-sys2");
        const apps = named(run.resources, "azure-native:containerservice:AgentPool", "main-pool-apps");
        assert.equal(sys2.inputs.mode, "System");
        assert.equal(apps.inputs.mode, "User");
        assert.deepEqual([sys2.inputs.minCount, sys2.inputs.maxCount, sys2.inputs.count], [3, 6, 3]);
        assert.deepEqual([sys2.protect, apps.protect], [true, true]);
        assert.equal(named(run.resources, "azure-native:containerservice:ManagedCluster", "main-aks").protect, true);
        const unprotected = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, protect: false }) });
        assert.equal(named(unprotected.resources, "azure-native:containerservice:ManagedCluster", "main-aks").protect, false);
        const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: { x: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 2, mode: "system" } } }));
        assert.equal(error.message, 'Invalid WorkloadIdentityCluster "main":\n  - nodePools.x.mode: invalid pool mode "system". Allowed values are: User, System.');
    });

    it("owns namespaces on the cluster: they outlive any workload, and Kubernetes' own are refused", async () => {
        const withWorkload = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", { ...clusterArgs, namespaces: ["orders", "api"] });
                new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", clusters: { main: cluster.bindWorkload("api") } });
            },
        });
        const without = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, namespaces: ["orders", "api"] }) });
        for (const run of [withWorkload, without]) {
            const namespaces = ofType(run.resources, "kubernetes:core/v1:Namespace");
            assert.deepEqual(namespaces.map((n) => [n.name, n.inputs.metadata, n.parent]), [
                ["main-ns-api", { name: "api" }, named(run.resources, "aks-workload-identity:index:WorkloadIdentityCluster", "main").urn],
                ["main-ns-orders", { name: "orders" }, named(run.resources, "aks-workload-identity:index:WorkloadIdentityCluster", "main").urn],
            ]);
        }
        const sa = named(withWorkload.resources, "kubernetes:core/v1:ServiceAccount", "api-sa-main");
        assert.ok(sa.dependencies.includes(named(withWorkload.resources, "kubernetes:core/v1:Namespace", "main-ns-api").urn), "the ServiceAccount waits for its namespace");
        const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, namespaces: ["kube-node-lease"] }));
        assert.equal(
            error.message,
            'Invalid WorkloadIdentityCluster "main":\n  - namespaces: namespace "kube-node-lease" is refused: default, kube-system, kube-public, kube-node-lease come with every cluster, and a stack that created one would delete it on destroy.',
        );
    });

    it("proves the chain with a Job that never asks for the secret's value and waits for the FIC and the Key Vault role", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                    keyVault: { resourceId: vault, secrets: ["db-password"] },
                    quickstart: true,
                });
            },
        });
        assert.equal(ofType(run.resources, "kubernetes:apps/v1:Deployment").length, 0);
        const job = named(run.resources, "kubernetes:batch/v1:Job", "api-quickstart-main");
        const spec = job.inputs.spec as {
            backoffLimit: number;
            template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; restartPolicy: string; containers: { image: string; command: string[] }[] } };
        };
        assert.equal(spec.backoffLimit, 6);
        assert.equal(spec.template.spec.restartPolicy, "Never");
        assert.equal(spec.template.spec.serviceAccountName, "api");
        assert.equal(spec.template.metadata.labels["azure.workload.identity/use"], "true");
        const container = spec.template.spec.containers[0];
        assert.equal(container.image, "mcr.microsoft.com/azure-cli:2.89.1");
        const script = container.command[2];
        assert.match(script, /az keyvault secret list-versions --vault-name kv-code --name db-password /);
        assert.doesNotMatch(script, /secret show|\.value|download/, "the Job never requests the secret's value");
        for (const dependency of [
            named(run.resources, "azure-native:managedidentity:FederatedIdentityCredential", "api-fic-main"),
            named(run.resources, "azure-native:authorization:RoleAssignment", "api-ra-keyvault-secrets"),
            named(run.resources, "kubernetes:core/v1:ServiceAccount", "api-sa-main"),
        ]) {
            assert.ok(job.dependencies.includes(dependency.urn), `the Job waits for ${dependency.name}`);
        }
    });
});

describe("serviceAccounts in classic mode, for both principal kinds", () => {
    it("gives an app registration one FIC per cluster and ServiceAccount, the own one keeping fic-<cluster>", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("app", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    serviceAccount: "app",
                    principal: "application",
                    applicationOwners: [OWNER],
                    serviceAccounts: [{ namespace: "api", name: "app" }, { namespace: "tenant-a", name: "app" }],
                    clusters: { main: cluster.bindWorkload("api") },
                });
            },
        });
        assert.deepEqual(
            ofType(run.resources, "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential").map((f) => [
                f.name,
                f.inputs.displayName,
                f.inputs.subject,
            ]),
            [
                ["app-fic-main", "fic-main", "system:serviceaccount:api:app"],
                ["app-fic-main-tenant-a-app", "fic-main-tenant-a-app", "system:serviceaccount:tenant-a:app"],
            ],
        );
    });

    it("refuses two ServiceAccounts, or a ServiceAccount and a federation, whose FIC names would be the same", async () => {
        const error = await failureOf(() => {
            const cluster = new WorkloadIdentityCluster("main", clusterArgs);
            new WorkloadIdentity("api", {
                resourceGroupName: "rg-code",
                namespace: "api",
                serviceAccounts: [{ namespace: "api", name: "api" }, { namespace: "a", name: "b-c" }, { namespace: "a-b", name: "c" }],
                federations: { "main-a-b-c": { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/api:environment:prod" } },
                clusters: { main: cluster.bindWorkload("api") },
            });
        });
        assert.equal(
            error.message,
            [
                'Invalid WorkloadIdentity "api":',
                "  - serviceAccounts[1] (a/b-c) on cluster main: its federated credential would be named fic-main-a-b-c, like that of federations.main-a-b-c; rename one of them.",
                "  - serviceAccounts[2] (a-b/c) on cluster main: its federated credential would be named fic-main-a-b-c, like that of federations.main-a-b-c; rename one of them.",
            ].join("\n"),
        );
    });
});
