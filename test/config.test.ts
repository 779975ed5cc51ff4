import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatConfigProblems, parseStackConfig, rawStackConfig, type ConfigProblem, type StackConfig } from "../stacks/config";
import { loadStackFile, stackFilePath } from "../testing/mock-runner";

const GROUP = "11111111-1111-1111-1111-111111111111";
const KV = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv";

function minimal(overrides: { clusters?: Record<string, unknown>; workloads?: Record<string, unknown>; [key: string]: unknown } = {}): Record<string, unknown> {
    return {
        location: "westeurope",
        clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["203.0.113.0/24"] } },
        workloads: { "orders-api": { namespace: "orders" } },
        ...overrides,
    };
}

function ok(raw: Record<string, unknown>, stack = "dev"): StackConfig {
    const result = parseStackConfig(raw, stack);
    if ("problems" in result) {
        assert.fail(formatConfigProblems(result.problems));
    }
    return result.config;
}

function problems(raw: Record<string, unknown>, stack = "dev"): string[] {
    const result = parseStackConfig(raw, stack);
    assert.ok("problems" in result, "the config is refused");
    return result.problems.map((p: ConfigProblem) => `${p.path}: ${p.message}`);
}

describe("stack config", () => {
    it("loads the three committed stack files", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const config = ok(rawStackConfig(loadStackFile(stackFilePath(stack))), stack);
            assert.equal(config.environment, stack);
        }
    });

    it("resolves defaults for a minimal config", () => {
        const config = ok(minimal());
        assert.deepEqual(config, {
            project: "aks-workload-identity",
            environment: "dev",
            location: "westeurope",
            tags: {},
            resourceGroup: { name: "rg-workload-identity-dev", existing: false },
            kubeloginMode: "azurecli",
            protect: false,
            clusters: {
                main: {
                    key: "main",
                    azureName: "aks-main-dev",
                    sku: "Free",
                    upgradeChannel: "stable",
                    nodeOsUpgradeChannel: "NodeImage",
                    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 },
                    nodePools: {},
                    adminGroupObjectIds: [GROUP],
                    clusterAdmins: {},
                    authorizedIpRanges: ["203.0.113.0/24"],
                    private: false,
                    allowPublicApiServer: false,
                    disableLocalAccounts: true,
                    networkPolicy: "cilium",
                    keyVaultSecretsProvider: false,
                    azurePolicy: true,
                    imageCleaner: true,
                },
            },
            workloads: {
                "orders-api": {
                    key: "orders-api",
                    identityName: "id-orders-api-dev",
                    namespace: "orders",
                    serviceAccount: "orders-api",
                    createNamespace: false,
                    createServiceAccount: true,
                    principal: "managedIdentity",
                    clusters: ["main"],
                    roleAssignments: {},
                    federations: {},
                    quickstart: false,
                },
            },
        });
    });

    it("takes the environment from config over the stack name, and names an existing group", () => {
        const config = ok(minimal({ environment: "qa", resourceGroupName: "rg-shared" }), "feature-x");
        assert.equal(config.environment, "qa");
        assert.deepEqual(config.resourceGroup, { name: "rg-shared", existing: true });
        assert.equal(config.workloads["orders-api"].identityName, "id-orders-api-qa");
    });

    it("reads only this project's keys and the location from the flat config map", () => {
        assert.deepEqual(
            rawStackConfig({
                "azure-native:location": "westeurope",
                "azure-native:subscriptionId": "x",
                "aks-workload-identity:environment": "123",
                "aks-workload-identity:protect": "true",
                "aks-workload-identity:tags": '{"team":"platform"}',
            }),
            { location: "westeurope", environment: "123", protect: true, tags: { team: "platform" } },
        );
    });

    it("reports every problem at once, with the config path, the bad value and what is allowed", () => {
        assert.deepEqual(
            problems(
                minimal({
                    clusters: {
                        main: {
                            systemPool: { vmSize: "D4", minCount: 5, maxCount: 2 },
                            adminGroupObjectIds: ["not-a-guid"],
                            authorizedIpRanges: ["203.0.113.0/33"],
                            sku: "Gold",
                        },
                    },
                    workloads: {
                        "orders-api": {
                            namespace: "Orders",
                            serviceaccount: "x",
                            tokenExpirationSeconds: 60,
                            roleAssignments: { secrets: { role: "Key Vault Secret User", scope: KV } },
                        },
                    },
                }),
            ),
            [
                "aks-workload-identity:clusters.main.sku: invalid value \"Gold\". Allowed values are: Free, Standard, Premium.",
                "aks-workload-identity:clusters.main.systemPool.vmSize: invalid VM size. Allowed values are Azure VM SKU names such as Standard_D4ds_v5.",
                'aks-workload-identity:clusters.main.adminGroupObjectIds.0: invalid GUID "not-a-guid". Allowed values look like 00000000-0000-0000-0000-000000000000.',
                'aks-workload-identity:clusters.main.authorizedIpRanges.0: invalid IP range "203.0.113.0/33". Allowed values are IPv4 addresses or CIDR ranges such as 203.0.113.0/24.',
                'aks-workload-identity:workloads.orders-api.namespace: invalid namespace "Orders". Allowed values are RFC 1123 labels: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit.',
                "aks-workload-identity:workloads.orders-api.tokenExpirationSeconds: invalid token expiration 60. Allowed values are whole seconds from 3600 to 86400: the webhook rejects pods outside that range.",
                'aks-workload-identity:workloads.orders-api.serviceaccount: unknown key. Did you mean "serviceAccount"? Allowed keys are: name, namespace, serviceAccount, createNamespace, createServiceAccount, principal, clusters, tokenExpirationSeconds, roleAssignments, federations, keyVault, quickstart.',
                "aks-workload-identity:clusters.main.systemPool: minCount 5 is greater than maxCount 2.",
                'aks-workload-identity:workloads.orders-api.roleAssignments.secrets.role: unknown role "Key Vault Secret User". Did you mean "Key Vault Secrets User"? Allowed values are: a built-in role name (Key Vault Secrets User, Key Vault Secrets Officer, Key Vault Crypto User, Key Vault Certificate User, Storage Blob Data Reader, Storage Blob Data Contributor, Storage Blob Data Owner, AcrPull, AcrPush, Azure Service Bus Data Receiver, Azure Service Bus Data Sender, Azure Service Bus Data Owner, Managed Identity Operator, Network Contributor, Reader, Contributor, Owner, User Access Administrator, Role Based Access Control Administrator, Azure Kubernetes Service RBAC Cluster Admin, Azure Kubernetes Service RBAC Admin, Azure Kubernetes Service RBAC Reader, Azure Kubernetes Service RBAC Writer, Azure Kubernetes Service Cluster User Role), a role definition GUID, or a full role definition ID (/subscriptions/<guid>/providers/Microsoft.Authorization/roleDefinitions/<guid>).',
            ],
        );
    });

    it("requires the location and at least one cluster", () => {
        assert.deepEqual(problems({ clusters: {} }), [
            "azure-native:location: required string is missing.",
            "aks-workload-identity:clusters: no clusters. Declare at least one cluster under aks-workload-identity:clusters.",
        ]);
    });

    it("refuses an open API server unless explicit, and ranges with a private cluster", () => {
        const open = minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP] } } });
        assert.deepEqual(problems(open), [
            "aks-workload-identity:clusters.main: the API server is open to the internet. Set authorizedIpRanges (include your own IP to reach it from a laptop), or private: true, or allowPublicApiServer: true to accept an open API server.",
        ]);
        const allowed = ok(minimal({ clusters: { main: { ...(open.clusters as { main: object }).main, allowPublicApiServer: true } } }));
        assert.equal(allowed.clusters.main.allowPublicApiServer, true);
        assert.deepEqual(
            problems(minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["203.0.113.0/24"], private: true } } })),
            ["aks-workload-identity:clusters.main: authorizedIpRanges and private: true exclude each other. A private API server has no public endpoint to restrict."],
        );
    });

    it("requires an admin for every cluster", () => {
        assert.deepEqual(problems(minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true } } })), [
            "aks-workload-identity:clusters.main: no adminGroupObjectIds and no clusterAdmins. With local accounts off and Entra RBAC on, nobody could create the ServiceAccounts: name an admin group or a cluster admin.",
        ]);
    });

    it("refuses duplicate names and shared ServiceAccounts", () => {
        assert.deepEqual(
            problems(
                minimal({
                    workloads: {
                        "orders-api": { namespace: "orders" },
                        orders_api: { namespace: "orders", serviceAccount: "orders-api" },
                    },
                }),
            ),
            [
                'aks-workload-identity:workloads.orders_api.name: identity name "id-orders-api-dev" is also the name of workloads.orders-api; rename one of them (set name:).',
                "aks-workload-identity:workloads.orders_api.serviceAccount: ServiceAccount orders/orders-api in cluster main is also used by workloads.orders-api; two identities on one ServiceAccount race on its annotations.",
            ],
        );
    });

    it("refuses broad owner-like roles for workloads unless allowBroadScope is set", () => {
        const subscription = "/subscriptions/00000000-0000-0000-0000-000000000000";
        const broad = (allowBroadScope?: boolean) =>
            minimal({ workloads: { app: { namespace: "app", roleAssignments: { all: { role: "Owner", scope: subscription, allowBroadScope } } } } });
        assert.deepEqual(problems(broad()), [
            'aks-workload-identity:workloads.app.roleAssignments.all.role: role "Owner" at subscription scope is refused for a workload. Assign it on a resource group or resource, or set allowBroadScope: true on this assignment.',
        ]);
        assert.equal(ok(broad(true)).workloads.app.roleAssignments.all.allowBroadScope, true);
        assert.deepEqual(problems(minimal({ workloads: { app: { namespace: "app", roleAssignments: { kv: { role: "Reader", scope: "kv-orders" } } } } })), [
            'aks-workload-identity:workloads.app.roleAssignments.kv.scope: invalid scope "kv-orders". Allowed values are ARM IDs of a subscription (/subscriptions/<guid>), a resource group (/subscriptions/<guid>/resourceGroups/<name>), a resource (/subscriptions/<guid>/resourceGroups/<name>/providers/<Namespace>/<type>/<name>) or a management group (/providers/Microsoft.Management/managementGroups/<name>).',
        ]);
    });

    it("refuses more than 20 federated credentials per identity", () => {
        const clusters: Record<string, unknown> = {};
        for (let i = 1; i <= 21; i++) {
            clusters[`c${i}`] = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], private: true };
        }
        assert.deepEqual(problems(minimal({ clusters })), [
            "aks-workload-identity:workloads.orders-api: 21 federated credentials (21 clusters, 0 federations); Entra ID allows at most 20 per identity.",
        ]);
    });

    it("formats problems as one message", () => {
        assert.equal(
            formatConfigProblems([{ path: "a", message: "b." }]),
            "Invalid stack config (1 problem); nothing was created:\n  - a: b.",
        );
    });
});
