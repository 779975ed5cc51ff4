import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    AKS_KUBERNETES_VERSIONS,
    AKS_VERSIONS_CHECKED,
    KUBERNETES_VERSION_WARNING_DAYS,
    kubernetesMinor,
    kubernetesVersionProblem,
    supportedKubernetesVersions,
} from "../components/kubernetes-versions";
import {
    formatConfigProblems,
    parseCidr,
    parseStackConfig,
    placeholderProblem,
    rangesOverlap,
    rawStackConfig,
    type ConfigProblem,
    type StackConfig,
} from "../stacks/config";
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

/** The day the expectations below are written for: the Kubernetes version rules depend on it. */
const TODAY = new Date("2026-12-01T12:00:00Z");
const SUBNET = "/subscriptions/3f6a1d2c-5b4e-4a9f-8e7d-6c5b4a3f2e1d/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks";

function ok(raw: Record<string, unknown>, stack = "dev", today = TODAY): StackConfig {
    const result = parseStackConfig(raw, stack, { today });
    if ("problems" in result) {
        assert.fail(formatConfigProblems(result.problems));
    }
    return result.config;
}

function problems(raw: Record<string, unknown>, stack = "dev", today = TODAY): string[] {
    const result = parseStackConfig(raw, stack, { today });
    assert.ok("problems" in result, "the config is refused");
    return result.problems.map((p: ConfigProblem) => `${p.path}: ${p.message}`);
}

describe("stack config", () => {
    it("loads the three committed stack files", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const config = ok(rawStackConfig(loadStackFile(stackFilePath(stack))), stack);
            assert.equal(config.protect, true, `${stack} is protected`);
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
            applicationOwners: [],
            protect: true,
            clusters: {
                main: {
                    key: "main",
                    azureName: "aks-main-dev",
                    sku: "Free",
                    upgradeChannel: "stable",
                    nodeOsUpgradeChannel: "NodeImage",
                    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 },
                    nodePools: {},
                    namespaces: [],
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
                    annotateExistingServiceAccount: false,
                    principal: "managedIdentity",
                    clusters: ["main"],
                    roleAssignments: {},
                    federations: {},
                    quickstart: false,
                    identityBinding: false,
                    keepClassicCredentials: false,
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
                'aks-workload-identity:clusters.main.systemPool.vmSize: invalid VM size "D4". Allowed values are Azure VM SKU names such as Standard_D4ds_v5.',
                'aks-workload-identity:clusters.main.adminGroupObjectIds.0: invalid GUID "not-a-guid". Allowed values look like 00000000-0000-0000-0000-000000000000.',
                'aks-workload-identity:clusters.main.authorizedIpRanges.0: invalid IP range "203.0.113.0/33". Allowed values are IPv4 addresses or CIDR ranges such as 203.0.113.0/24.',
                'aks-workload-identity:workloads.orders-api.namespace: invalid namespace "Orders". Allowed values are RFC 1123 labels: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit.',
                "aks-workload-identity:workloads.orders-api.tokenExpirationSeconds: invalid token expiration 60. Allowed values are whole seconds from 3600 to 86400: the webhook rejects pods outside that range.",
                'aks-workload-identity:workloads.orders-api.serviceaccount: unknown key "serviceaccount". Did you mean "serviceAccount"? Allowed keys are: name, namespace, serviceAccount, createNamespace, createServiceAccount, annotateExistingServiceAccount, principal, clusters, tokenExpirationSeconds, roleAssignments, federations, keyVault, quickstart, identityBinding, keepClassicCredentials, serviceAccounts.',
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
            problems(minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["203.0.113.0/24"], private: true, network: { vnetSubnetId: SUBNET } } } })),
            ["aks-workload-identity:clusters.main: authorizedIpRanges and private: true exclude each other. A private API server has no public endpoint to restrict."],
        );
    });

    it("requires an admin for every cluster", () => {
        assert.deepEqual(problems(minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true, network: { vnetSubnetId: SUBNET } } } })), [
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
            clusters[`c${i}`] = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], private: true, network: { vnetSubnetId: SUBNET } };
        }
        assert.deepEqual(problems(minimal({ clusters })), [
            "aks-workload-identity:workloads.orders-api: 21 federated credentials for one identity (21 clusters × 1 ServiceAccount + 0 federations); Entra ID allows at most 20 per identity. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.",
        ]);
    });

    it("accepts the numbers and booleans `pulumi config set --path` writes where they mean the same", () => {
        const config = ok(
            rawStackConfig({
                "azure-native:location": "westeurope",
                "aks-workload-identity:protect": "false",
                "aks-workload-identity:clusters": JSON.stringify({
                    main: {
                        kubernetesVersion: 1.36,
                        systemPool: { vmSize: "Standard_D2ds_v5", minCount: "1", maxCount: "3", zones: [1, 2, 3], osDiskSizeGB: "64" },
                        nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 0, maxCount: "5", mode: "User" } },
                        adminGroupObjectIds: [GROUP],
                        authorizedIpRanges: ["198.18.0.0/24"],
                        disableLocalAccounts: "true",
                    },
                }),
                "aks-workload-identity:workloads": JSON.stringify({ api: { namespace: "api", tokenExpirationSeconds: "7200", createServiceAccount: "false" } }),
            }),
        );
        assert.equal(config.protect, false);
        assert.equal(config.clusters.main.kubernetesVersion, "1.36");
        assert.deepEqual(config.clusters.main.systemPool, { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3, zones: ["1", "2", "3"], osDiskSizeGB: 64 });
        assert.deepEqual(config.clusters.main.nodePools.apps, { vmSize: "Standard_D4ds_v5", minCount: 0, maxCount: 5, mode: "User" });
        assert.equal(config.clusters.main.disableLocalAccounts, true);
        assert.equal(config.workloads.api.tokenExpirationSeconds, 7200);
        assert.equal(config.workloads.api.createServiceAccount, false);
    });

    it("refuses an unquoted version that YAML shortened, and a count that is not whole", () => {
        const cluster = (extra: Record<string, unknown>) =>
            minimal({ clusters: { main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["198.18.0.0/24"], ...extra } } });
        assert.deepEqual(problems(cluster({ kubernetesVersion: 1.3 })), [
            'aks-workload-identity:clusters.main.kubernetesVersion: the number 1.3 is ambiguous: YAML reads 1.30 as 1.3. Quote the version, e.g. "1.30".',
        ]);
        assert.deepEqual(problems(cluster({ systemPool: { vmSize: "Standard_D2ds_v5", minCount: "one", maxCount: 2.5 } })), [
            'aks-workload-identity:clusters.main.systemPool.minCount: expected number, got "one".',
            "aks-workload-identity:clusters.main.systemPool.maxCount: expected int, got 2.5.",
        ]);
    });

    it("reports keys of namespaces it does not know, and passes the providers' by", () => {
        const raw = rawStackConfig({
            "azure-native:location": "westeurope",
            "azure-native:subscriptionId": "x",
            "azuread:tenantId": "x",
            "kubernetes:context": "x",
            "pulumi:disable-default-providers": '["*"]',
            "aks-workload-identity:clusters": JSON.stringify(minimal().clusters),
            "aks-workload-identities:workloads": "{}",
            tags: "{}",
        });
        assert.deepEqual(Object.keys(raw).sort(), [":tags", "aks-workload-identities:workloads", "clusters", "location"]);
        assert.deepEqual(problems(raw), [
            'aks-workload-identities:workloads: unknown namespace "aks-workload-identities". Did you mean "aks-workload-identity:workloads"? This program reads aks-workload-identity:<key> and azure-native:location; the providers\' namespaces azure-native, azuread, kubernetes, pulumi are allowed too.',
            'tags: key "tags" has no namespace. Did you mean "aks-workload-identity:tags"? This program reads aks-workload-identity:<key> and azure-native:location; the providers\' namespaces azure-native, azuread, kubernetes, pulumi are allowed too.',
        ]);
    });

    it("resolves the namespaces of each cluster: the declared ones and the deprecated createNamespace, deduplicated and sorted", () => {
        const cluster = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["198.18.0.0/24"] };
        const config = ok(
            minimal({
                clusters: { blue: { ...cluster, namespaces: ["payments", "orders"] }, green: cluster },
                workloads: {
                    orders: { namespace: "orders", createNamespace: true },
                    billing: { namespace: "billing", createNamespace: true, clusters: ["green"] },
                    reports: { namespace: "reports" },
                },
            }),
        );
        assert.deepEqual(config.clusters.blue.namespaces, ["orders", "payments"]);
        assert.deepEqual(config.clusters.green.namespaces, ["billing", "orders"]);
    });

    it("resolves the network, the pool modes, the owners, and keeps a deprecated kubeloginMode only when given", () => {
        const config = ok(
            minimal({
                applicationOwners: [GROUP],
                kubeloginMode: "spn",
                clusters: {
                    main: {
                        systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 },
                        nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 0, maxCount: 3 }, sys2: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3, mode: "System" } },
                        adminGroupObjectIds: [GROUP],
                        private: true,
                        network: { vnetSubnetId: SUBNET, serviceCidr: "10.2.0.0/16", dnsServiceIp: "10.2.0.10" },
                    },
                },
                workloads: { payments: { namespace: "payments", principal: "application" } },
            }),
        );
        assert.deepEqual(config.applicationOwners, [GROUP]);
        assert.equal(config.kubeloginMode, "spn");
        assert.deepEqual(config.clusters.main.network, { vnetSubnetId: SUBNET, serviceCidr: "10.2.0.0/16", dnsServiceIp: "10.2.0.10", privateDnsZone: "system" });
        assert.deepEqual(
            Object.entries(config.clusters.main.nodePools).map(([name, pool]) => [name, pool.mode]),
            [["apps", "User"], ["sys2", "System"]],
        );
        assert.equal("kubeloginMode" in ok(minimal()), false, "absent unless the stack file gives it");
    });

    it("warns about every placeholder value, naming its key", () => {
        const result = parseStackConfig(
            minimal({
                applicationOwners: ["ffffffff-ffff-ffff-ffff-ffffffffffff"],
                workloads: { api: { namespace: "api", keyVault: { resourceId: `${KV}-orders`, secrets: ["s"] } } },
            }),
            "dev",
            { today: TODAY },
        );
        assert.ok("config" in result, "the config is accepted");
        assert.deepEqual(
            result.warnings.map((w) => w.path),
            [
                "aks-workload-identity:clusters.main.adminGroupObjectIds.0",
                "aks-workload-identity:clusters.main.authorizedIpRanges.0",
                "aks-workload-identity:workloads.api.keyVault.resourceId",
                "aks-workload-identity:applicationOwners.0",
            ],
            "in the order the stack file gives them",
        );
    });

    it("formats problems as one message", () => {
        assert.equal(
            formatConfigProblems([{ path: "a", message: "b." }]),
            "Invalid stack config (1 problem); nothing was created:\n  - a: b.",
        );
    });
});

describe("placeholders", () => {
    it("recognises repeated-digit GUIDs, placeholder subscriptions and documentation ranges, and nothing else", () => {
        const cases: [string, boolean][] = [
            ["00000000-0000-0000-0000-000000000000", true],
            ["11111111-1111-1111-1111-111111111111", true],
            ["AAAAAAAA-aaaa-AAAA-aaaa-AAAAAAAAAAAA", true],
            ["00000000-0000-0000-0000-00000000feed", false],
            ["7c0b2a9e-4f3d-4e1a-9b6c-2d8e5f0a1b3c", false],
            ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg", true],
            ["/subscriptions/7c0b2a9e-4f3d-4e1a-9b6c-2d8e5f0a1b3c/resourceGroups/rg", false],
            ["192.0.2.0/24", true],
            ["198.51.100.16/28", true],
            ["203.0.113.7", true],
            ["203.0.0.0/16", false],
            ["198.18.0.0/24", false],
            ["not-an-address", false],
        ];
        for (const [value, placeholder] of cases) {
            assert.equal(placeholderProblem(value) !== undefined, placeholder, value);
        }
        assert.equal(
            placeholderProblem("198.51.100.16/28"),
            '"198.51.100.16/28" is in 198.51.100.0/24 (TEST-NET-2), a range reserved for documentation (RFC 5737) that no real address is in: replace it with your own range before deploying.',
        );
    });
});

describe("IPv4 ranges", () => {
    it("parses CIDRs and tells overlaps", () => {
        assert.deepEqual(parseCidr("10.2.0.0/16"), { first: 10 * 2 ** 24 + 2 * 2 ** 16, size: 65536, prefix: 16, aligned: true });
        assert.equal(parseCidr("10.2.0.1/16")?.aligned, false);
        for (const bad of ["10.2.0.0", "10.2.0.0/33", "10.256.0.0/16", "10.2.0.0/16/1", "a.b.c.d/8"]) {
            assert.equal(parseCidr(bad), undefined, bad);
        }
        const range = (text: string) => parseCidr(text) as NonNullable<ReturnType<typeof parseCidr>>;
        assert.equal(rangesOverlap(range("10.0.0.0/8"), range("10.244.0.0/16")), true);
        assert.equal(rangesOverlap(range("10.0.0.0/16"), range("10.1.0.0/16")), false);
        assert.equal(rangesOverlap(range("172.16.0.0/12"), range("172.31.0.0/16")), true);
    });
});

describe("the AKS Kubernetes version table", () => {
    const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

    it("is dated, ordered, and every version is GA before its end of life", () => {
        assert.equal(AKS_VERSIONS_CHECKED, "2026-12-01");
        assert.deepEqual(AKS_KUBERNETES_VERSIONS.map((v) => v.minor), ["1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]);
        for (const version of AKS_KUBERNETES_VERSIONS) {
            assert.match(version.ga, /^\d{4}-\d{2}-01$/, version.minor);
            assert.match(version.endOfLife, /^\d{4}-\d{2}-\d{2}$/, version.minor);
            assert.ok(version.ga < version.endOfLife, `${version.minor}: GA before end of life`);
            assert.ok(!Number.isNaN(Date.parse(version.endOfLife)), `${version.minor}: a real date`);
        }
    });

    it("supports 1.35, 1.36 and 1.37 on 2026-12-01: 1.33 and 1.34 are past their end of support", () => {
        assert.deepEqual(supportedKubernetesVersions(day("2026-12-01")).map((v) => v.minor), ["1.35", "1.36", "1.37"]);
        assert.equal(kubernetesVersionProblem("1.33", day("2026-12-01"))?.severity, "error");
        assert.equal(kubernetesVersionProblem("1.34", day("2026-12-01"))?.severity, "error");
        assert.equal(kubernetesVersionProblem("1.36", day("2026-12-01")), undefined);
        assert.equal(kubernetesVersionProblem("1.36.4", day("2026-12-01")), undefined);
    });

    it("warns from 60 days before the end of support to its last day, and refuses the day after", () => {
        assert.equal(KUBERNETES_VERSION_WARNING_DAYS, 60);
        assert.equal(kubernetesVersionProblem("1.35", day("2027-01-29")), undefined, "61 days before");
        assert.deepEqual(kubernetesVersionProblem("1.35", day("2027-01-30")), {
            severity: "warning",
            message:
                'Kubernetes version "1.35" leaves AKS support on 2027-03-31, in 60 days; after that AKS creates no cluster on it and running clusters are out of support. Plan the upgrade to 1.36.',
        });
        assert.equal(kubernetesVersionProblem("1.35", day("2027-03-31"))?.message.includes("in 0 days"), true, "the last day still warns");
        assert.deepEqual(kubernetesVersionProblem("1.35.1", day("2027-04-01")), {
            severity: "error",
            message:
                'Kubernetes version "1.35.1" is out of AKS support since 2027-03-31 (AKS release calendar): AKS creates no cluster on it. Allowed values are the minor versions AKS supports: 1.36 (until 2027-06-30), 1.37 (until 2027-10-31).',
        });
    });

    it("refuses a version before its GA, and versions the table does not know", () => {
        assert.deepEqual(kubernetesVersionProblem("1.37", day("2026-09-15")), {
            severity: "error",
            message:
                'Kubernetes version "1.37" is not generally available in AKS before 2026-10 (AKS release calendar). Allowed values are the minor versions AKS supports: 1.34 (until 2026-11-30), 1.35 (until 2027-03-31), 1.36 (until 2027-06-30).',
        });
        assert.equal(kubernetesVersionProblem("1.38", day("2026-12-01"))?.message.startsWith('Kubernetes version "1.38" is not in the AKS release calendar'), true);
        assert.equal(kubernetesVersionProblem("1.9", day("2026-12-01"))?.message.startsWith('Kubernetes version "1.9" is out of AKS support (older than 1.32'), true);
        assert.equal(kubernetesVersionProblem("latest", day("2026-12-01")), undefined, "the format rule reports it");
        assert.equal(kubernetesMinor("01.036.2"), "1.36");
    });

    it("names no supported version when the table is out of date, and says where to update it", () => {
        assert.equal(
            kubernetesVersionProblem("1.37", day("2028-01-01"))?.message,
            'Kubernetes version "1.37" is out of AKS support since 2027-10-31 (AKS release calendar): AKS creates no cluster on it. Allowed values are the minor versions AKS supports: none in this program\'s table (checked 2026-12-01): update components/kubernetes-versions.ts.',
        );
    });
});
