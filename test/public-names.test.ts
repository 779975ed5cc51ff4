import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PLACEHOLDER_SUBSCRIPTION_ID, runCommittedStack, runStack, type RecordedResource, type RunOptions } from "../testing/mock-runner";
import {
    ROLE_ASSIGNMENT_NAMESPACE,
    WorkloadIdentity,
    WorkloadIdentityCluster,
    federatedCredentialName,
    identityBindingName,
    roleAssignmentName,
    useManagedIdentityRbacName,
} from "../components";

/*
 * Names are public API: Azure and Kubernetes key a resource by its name, and Pulumi by its
 * logical name and parent, so a changed name replaces the live resource (a role assignment is
 * deleted and created again, a federated credential or identity binding briefly disappears and
 * every token exchange against it fails). Every expected name here is a LITERAL, computed once
 * by running the code and checked independently where the rule is public (UUIDv5 against
 * Python's uuid.uuid5). Do not replace a literal with a call to the code under test: a failing
 * test here means deployed resources would be replaced. When that is intended, say so in the
 * commit and add aliases where Pulumi can keep the resource.
 */

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const ROLE = (guid: string): string => `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks`;
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-code`;
const GITHUB = "https://token.actions.githubusercontent.com";
/** The principal the mocked cluster identity reports here, so the subnet grant's name has a real principal in it. */
const CLUSTER_PRINCIPAL = "44444444-4444-4444-4444-444444444444";

describe("name builders, literally", () => {
    it("names role assignments with UUIDv5 of (scope, principal, role) in this project's namespace", () => {
        // A change of ROLE_ASSIGNMENT_NAMESPACE, of the separator or of the case folding renames
        // (replaces) every role assignment of every deployed stack.
        assert.equal(ROLE_ASSIGNMENT_NAMESPACE, "1b4f3a0e-6a55-4d8e-9c1e-3f0d2b7a9c41");
        const scope = `/subscriptions/${SUB}/resourceGroups/rg`;
        const reader = ROLE("acdd72a7-3385-48ef-bd42-f606fba81ae7");
        const name = "b1d71016-c70f-50e8-8ca1-073a31fa1f60";
        assert.equal(roleAssignmentName(scope, "11111111-1111-1111-1111-111111111111", reader), name);
        assert.equal(roleAssignmentName(scope.toUpperCase(), "11111111-1111-1111-1111-111111111111", reader.toUpperCase()), name, "Azure compares IDs case-insensitively");
    });

    it("names federated credentials fic-<key>, folded and cut to 120 characters", () => {
        assert.deepEqual(
            ["main", "blue", "Deploy.Prod", "main-tenant-a-app", "Under_Score", "x".repeat(200)].map((key) => federatedCredentialName(key)),
            ["fic-main", "fic-blue", "fic-deploy-prod", "fic-main-tenant-a-app", "fic-under-score", `fic-${"x".repeat(116)}`],
        );
    });

    it("names the identity binding and its RBAC after the workload", () => {
        assert.deepEqual(["reports", "orders-api"].map((key) => identityBindingName(key)), ["reports", "ordersapi117d1648"]);
        assert.equal(useManagedIdentityRbacName("orders-api"), "use-managed-identity-orders-api");
    });
});

/** The runner's ManagedCluster, reporting `CLUSTER_PRINCIPAL` as its system-assigned identity. */
const REPORT_CLUSTER_PRINCIPAL: NonNullable<RunOptions["resources"]> = {
    ["azure-native:containerservice:ManagedCluster"]: ({ state }) => ({ ...state, identity: { type: "SystemAssigned", principalId: CLUSTER_PRINCIPAL } }),
};

/** What names a resource in Azure or Kubernetes, by type. */
function cloudName(resource: RecordedResource): unknown {
    const inputs = resource.inputs;
    switch (resource.type) {
        case "azure-native:authorization:RoleAssignment":
            return inputs.roleAssignmentName;
        case "azure-native:managedidentity:FederatedIdentityCredential":
            return inputs.federatedIdentityCredentialResourceName;
        case "azuread:index/application:Application":
        case "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
            return inputs.displayName;
        case "azure-native:containerservice:AgentPool":
            return inputs.agentPoolName;
        case "azure-native:containerservice:ManagedCluster":
        case "azure-native:managedidentity:UserAssignedIdentity":
        case "azure-native:resources:Resource":
            return inputs.resourceName;
        default:
            return (inputs.metadata as { name?: unknown } | undefined)?.name;
    }
}

function names(resources: readonly RecordedResource[]): [string, string, unknown][] {
    return resources
        .filter((r) => r.custom && !r.type.startsWith("pulumi:"))
        .map((r): [string, string, unknown] => [r.type, r.name, cloudName(r)])
        .sort(([typeA, nameA], [typeB, nameB]) => typeA.localeCompare(typeB) || nameA.localeCompare(nameB));
}

describe("the names the components give their children", () => {
    it("names every child of a cluster and of three workloads (classic, identity binding, app registration) exactly", async () => {
        const run = await runStack({
            stack: "code",
            resources: REPORT_CLUSTER_PRINCIPAL,
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", {
                    resourceGroupName: "rg-code",
                    location: "westeurope",
                    clusterName: "aks-code",
                    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
                    nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 } },
                    adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"],
                    clusterAdmins: { alice: { objectId: "22222222-2222-2222-2222-222222222222", principalType: "User" } },
                    private: true,
                    network: { vnetSubnetId: SUBNET },
                    namespaces: ["api"],
                });
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                    serviceAccounts: [
                        { namespace: "api", name: "api" },
                        { namespace: "tenant-a", name: "app" },
                    ],
                    federations: { github: { issuer: GITHUB, subject: "repo:contoso/api:environment:prod" } },
                    roleAssignments: { data: { role: "Reader", scope: `/subscriptions/${SUB}/resourceGroups/rg-data` } },
                    keyVault: { resourceId: VAULT, secrets: ["db"], certificates: ["tls"] },
                });
                new WorkloadIdentity("orders-api", { resourceGroupName: "rg-code", namespace: "api", identityBinding: true, clusters: { main: cluster.bindWorkload("api") } });
                new WorkloadIdentity("web", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    principal: "application",
                    applicationOwners: ["77777777-7777-7777-7777-777777777777"],
                    clusters: { main: cluster.bindWorkload("api") },
                    federations: { "Deploy.Prod": { issuer: GITHUB, subject: "repo:contoso/web:environment:prod" } },
                });
            },
        });
        assert.deepEqual(names(run.resources), [
            ["azure-native:authorization:RoleAssignment", "api-ra-data", "93eb2734-4f4e-54a0-8271-aec06f4aed12"],
            ["azure-native:authorization:RoleAssignment", "api-ra-keyvault-certificates", "fb394477-8c46-51c5-8f57-c4bd88fa01f9"],
            ["azure-native:authorization:RoleAssignment", "api-ra-keyvault-secrets", "899b30eb-f986-55ab-aba7-e6b94a942163"],
            ["azure-native:authorization:RoleAssignment", "main-admin-alice", "83e9ff40-53c4-50cd-b08c-38735ba18b17"],
            ["azure-native:authorization:RoleAssignment", "main-subnet-network", "64b4f9fa-e0d1-5a4d-96a0-c1ad5c55f83e"],
            ["azure-native:containerservice:AgentPool", "main-pool-apps", "apps"],
            ["azure-native:containerservice:ManagedCluster", "main-aks", "aks-code"],
            ["azure-native:managedidentity:FederatedIdentityCredential", "api-fic-github", "fic-github"],
            ["azure-native:managedidentity:FederatedIdentityCredential", "api-fic-main", "fic-main"],
            ["azure-native:managedidentity:FederatedIdentityCredential", "api-fic-main-tenant-a-app", "fic-main-tenant-a-app"],
            ["azure-native:managedidentity:UserAssignedIdentity", "api-id", "api"],
            ["azure-native:managedidentity:UserAssignedIdentity", "orders-api-id", "orders-api"],
            ["azure-native:resources:Resource", "orders-api-ib-main", "ordersapi117d1648"],
            ["azuread:index/application:Application", "web-app", "web"],
            ["azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential", "web-fic-Deploy.Prod", "fic-deploy-prod"],
            ["azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential", "web-fic-main", "fic-main"],
            ["azuread:index/servicePrincipal:ServicePrincipal", "web-sp", undefined],
            ["kubernetes:core/v1:Namespace", "main-ns-api", "api"],
            ["kubernetes:core/v1:ServiceAccount", "api-sa-main", "api"],
            ["kubernetes:core/v1:ServiceAccount", "orders-api-sa-main", "orders-api"],
            ["kubernetes:core/v1:ServiceAccount", "web-sa-main", "web"],
            ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "orders-api-ib-role-main", "use-managed-identity-orders-api"],
            ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "orders-api-ib-rolebinding-main", "use-managed-identity-orders-api"],
            ["kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "api-spc-main", "api-keyvault"],
            ["pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness", "main-rbac-ready", undefined],
        ]);
        // The triples behind the role assignment names above (principal f257e0ba-… is the mocked principal of identity "api").
        const triple = (name: string): unknown[] => {
            const inputs = run.resources.find((r) => r.name === name)?.inputs ?? {};
            return [inputs.scope, inputs.principalId, inputs.roleDefinitionId];
        };
        assert.deepEqual(triple("api-ra-data"), [`/subscriptions/${SUB}/resourceGroups/rg-data`, "f257e0ba-2f6f-50f4-a9f4-cbb2a0bec972", ROLE("acdd72a7-3385-48ef-bd42-f606fba81ae7")]);
        assert.deepEqual(triple("api-ra-keyvault-secrets"), [VAULT, "f257e0ba-2f6f-50f4-a9f4-cbb2a0bec972", ROLE("4633458b-17de-408a-b874-0445c86b69e6")]);
        assert.deepEqual(triple("api-ra-keyvault-certificates"), [VAULT, "f257e0ba-2f6f-50f4-a9f4-cbb2a0bec972", ROLE("db79e9a7-68ee-4b58-9aeb-b90e7c24fcba")]);
        assert.deepEqual(triple("main-admin-alice"), [
            `/subscriptions/${SUB}/resourceGroups/rg-code/providers/Microsoft.ContainerService/managedClusters/aks-code`,
            "22222222-2222-2222-2222-222222222222",
            ROLE("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
        ]);
        assert.deepEqual(triple("main-subnet-network"), [SUBNET, CLUSTER_PRINCIPAL, ROLE("4d97b98b-1d4f-4787-a291-c67834d212e7")]);
    });
});

/** Role assignment, federated credential and identity binding names of a committed stack, sorted by logical name. */
async function committedNames(stack: string): Promise<[string, unknown][]> {
    const run = await runCommittedStack(stack);
    const types = [
        "azure-native:authorization:RoleAssignment",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
        "azure-native:resources:Resource",
    ];
    return run.resources
        .filter((r) => types.includes(r.type))
        .map((r): [string, unknown] => [r.name, cloudName(r)])
        .sort(([a], [b]) => a.localeCompare(b));
}

describe("the Azure names of the committed stacks", () => {
    // The principals in these names are the mock runner's placeholders (placeholderPrincipalId of
    // each identity's Azure name), so the names are not the deployed ones; what they pin is the
    // naming rule over the stacks' config. A failure here means every stack's assignments would
    // be renamed.
    it("dev", async () => {
        assert.deepEqual(await committedNames("dev"), [
            ["orders-api-fic-main", "fic-main"],
            ["orders-api-ra-keyvault-secrets", "3f822805-97ae-5acd-ab97-9c145b177091"],
            ["reports-fic-main", "fic-main"],
            ["reports-ra-blobs", "95e89fdb-f7be-5a0f-9909-516fad981ca9"],
        ]);
    });

    it("staging", async () => {
        assert.deepEqual(await committedNames("staging"), [
            ["ingest-fic-main", "fic-main"],
            ["ingest-ra-blobs", "8c49d462-14b9-5806-a42e-00341cc30542"],
            ["main-admin-pipeline", "9b69ecaf-4c20-5806-a370-24d87ee25184"],
            ["orders-api-fic-main", "fic-main"],
            ["orders-api-ra-queue", "e9c7e22e-fd0e-5385-82f9-14d178b01d44"],
            ["orders-api-ra-secrets", "08ab6a75-e974-505e-9a32-ef0f1b8463e0"],
            ["payments-fic-main", "fic-main"],
            ["payments-ra-secrets", "d5cf3840-17a9-5ac5-9aaa-71fc5e6347bc"],
        ]);
    });

    it("prod", async () => {
        assert.deepEqual(await committedNames("prod"), [
            ["blue-admin-pipeline", "735e981f-6c26-57dc-b849-660916bf968d"],
            ["green-admin-pipeline", "066cfd69-bd6e-5a2c-8ba8-f6f1a73bd3a6"],
            ["ingest-fic-blue", "fic-blue"],
            ["ingest-fic-green", "fic-green"],
            ["ingest-ra-blobs", "0ac8fa3f-a3da-5d02-b715-41411eb1dd8c"],
            ["orders-api-fic-blue", "fic-blue"],
            ["orders-api-fic-green", "fic-green"],
            ["orders-api-ra-queue", "aa7ac226-d628-59ee-b179-4c2f303ef904"],
            ["orders-api-ra-secrets", "9fdc250e-c582-5ac9-acc1-3e5d1a6ce183"],
            ["payments-fic-blue", "fic-blue"],
            ["payments-fic-green", "fic-green"],
            ["payments-ra-secrets", "7e16c58f-94aa-5dab-ad41-e1f14fb0e126"],
            ["reports-ib-blue", "reports"],
            ["reports-ib-green", "reports"],
            ["reports-ra-secrets", "0b3fc86d-8c42-57c9-8d30-8e4ed75d55c0"],
        ]);
    });
});
