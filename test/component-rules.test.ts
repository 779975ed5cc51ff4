import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { PLACEHOLDER_SUBSCRIPTION_ID, lastRun, placeholderIssuerUrl, runStack, type RunOptions } from "../testing/mock-runner";
import { named, ofType } from "../testing/graph";
import {
    WorkloadIdentity,
    WorkloadIdentityCluster,
    quickstartScript,
    type FederationArgs,
    type WorkloadIdentityArgs,
    type WorkloadIdentityClusterArgs,
} from "../components";

/*
 * The components' own copies of the rules the config layer also checks, exercised through the
 * constructors (no stacks/config.ts in between), and the guards that only run at deploy time.
 * Every message is asserted exactly: a rule that is dropped or reworded fails here.
 */

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const GROUP = "11111111-1111-1111-1111-111111111111";
const RG_DATA = `/subscriptions/${SUB}/resourceGroups/rg-data`;
const VAULT = `${RG_DATA}/providers/Microsoft.KeyVault/vaults/kv-code`;
const GITHUB = "https://token.actions.githubusercontent.com";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    job: "kubernetes:batch/v1:Job",
} as const;

/** A cluster that passes every rule: one admin group, the API server behind one range. */
const clusterArgs: WorkloadIdentityClusterArgs = {
    resourceGroupName: "rg-code",
    location: "westeurope",
    clusterName: "aks-code",
    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
    adminGroupObjectIds: [GROUP],
    authorizedIpRanges: ["203.0.113.0/24"],
    namespaces: ["api"],
};

async function failureOf(program: () => void, resources?: RunOptions["resources"]): Promise<Error> {
    try {
        await runStack({ stack: "code", program, resources });
    } catch (error) {
        return error as Error;
    }
    return assert.fail("the program was expected to fail");
}

/** The message a component throws for `problems`, as `formatProblems` writes it. */
function invalid(component: string, name: string, problems: readonly string[]): string {
    return [`Invalid ${component} "${name}":`, ...problems.map((problem) => `  - ${problem}`)].join("\n");
}

/**
 * Asserts that the run failed with `expected` (the SDK prefixes which property it was serializing)
 * and nothing else: the SDK also rejects every output of the failed registration, and the runner
 * absorbs those rejections into the run (`lastRun().rejections`), so they must be the same failure.
 */
function assertDeployTimeFailure(error: Error, expected: string): void {
    assert.ok(error.message.endsWith(`: ${expected}`), `the run fails with the guard's message, got: ${error.message}`);
    const rejections = lastRun()?.rejections ?? [];
    assert.ok(rejections.length > 0, "the guard's error reaches the run as an unhandled rejection");
    for (const rejection of rejections) {
        assert.ok(rejection instanceof Error && rejection.message.endsWith(`: ${expected}`), `every unhandled rejection is the same failure, got: ${String(rejection)}`);
    }
}

/** The mocked ManagedCluster reports `oidcIssuerProfile` instead of the runner's https issuer. */
function reportingIssuerProfile(oidcIssuerProfile: unknown): NonNullable<RunOptions["resources"]> {
    return { [T.cluster]: ({ state }) => ({ ...state, oidcIssuerProfile }) };
}

function federations(count: number): Record<string, FederationArgs> {
    return Object.fromEntries(
        Array.from({ length: count }, (_, index) => [`gh${String(index + 1).padStart(2, "0")}`, { issuer: GITHUB, subject: `repo:contoso/api:environment:e${index + 1}` }]),
    );
}

describe("WorkloadIdentityCluster: the rules the config layer also checks", () => {
    it("refuses a cluster without any admin: neither adminGroupObjectIds nor clusterAdmins", async () => {
        const noAdmin =
            "admins: no adminGroupObjectIds and no clusterAdmins. With local accounts off and Entra RBAC on, nobody could create the ServiceAccounts: name an admin group or a cluster admin.";
        for (const adminGroupObjectIds of [undefined, []]) {
            const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, adminGroupObjectIds }));
            assert.equal(error.message, invalid("WorkloadIdentityCluster", "main", [noAdmin]), `adminGroupObjectIds: ${JSON.stringify(adminGroupObjectIds)}`);
            assert.deepEqual(lastRun()?.resources.map((r) => r.type), ["pulumi:pulumi:Stack", "aks-workload-identity:index:WorkloadIdentityCluster"], "no child is created");
        }
    });

    it("takes clusterAdmins alone, or an admin group list known only at deploy time, as admins", async () => {
        const admins = await runStack({
            stack: "code",
            program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, adminGroupObjectIds: undefined, clusterAdmins: { ops: { objectId: GROUP, principalType: "Group" } } }),
        });
        assert.equal(ofType(admins.resources, T.cluster).length, 1, "clusterAdmins alone are enough");
        const late = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, adminGroupObjectIds: pulumi.output([GROUP]) }) });
        assert.deepEqual((named(late.resources, T.cluster, "main-aks").inputs.aadProfile as { adminGroupObjectIDs: string[] }).adminGroupObjectIDs, [GROUP]);
    });

    it("refuses an API server open to the internet unless allowPublicApiServer says so", async () => {
        const open =
            "apiServerAccess: the API server is open to the internet. Set authorizedIpRanges (include your own IP to reach it from a laptop), or private: true, or allowPublicApiServer: true to accept an open API server.";
        for (const authorizedIpRanges of [undefined, []]) {
            const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, authorizedIpRanges }));
            assert.equal(error.message, invalid("WorkloadIdentityCluster", "main", [open]), `authorizedIpRanges: ${JSON.stringify(authorizedIpRanges)}`);
        }
        const allowed = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, authorizedIpRanges: undefined, allowPublicApiServer: true }) });
        assert.deepEqual(named(allowed.resources, T.cluster, "main-aks").inputs.apiServerAccessProfile, { authorizedIPRanges: [] }, "the explicit override sends no ranges");
        const late = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, authorizedIpRanges: pulumi.output(["198.51.100.7"]) }) });
        assert.deepEqual(named(late.resources, T.cluster, "main-aks").inputs.apiServerAccessProfile, { authorizedIPRanges: ["198.51.100.7"] }, "ranges known at deploy time count");
    });

    it("refuses authorized ranges on a private cluster", async () => {
        const error = await failureOf(
            () =>
                void new WorkloadIdentityCluster("main", {
                    ...clusterArgs,
                    private: true,
                    network: { vnetSubnetId: `/subscriptions/${SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks` },
                }),
        );
        assert.equal(
            error.message,
            invalid("WorkloadIdentityCluster", "main", ["apiServerAccess: authorizedIpRanges and private: true exclude each other. A private API server has no public endpoint to restrict."]),
        );
    });

    it('refuses a user pool named "system", the inline system pool\'s name', async () => {
        const error = await failureOf(() => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: { system: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 } } }));
        assert.equal(error.message, invalid("WorkloadIdentityCluster", "main", ['nodePools.system: the name "system" is the inline system pool\'s; choose another pool name.']));
        const other = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: { system2: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 } } }) });
        assert.equal(named(other.resources, T.pool, "main-pool-system2").inputs.agentPoolName, "system2", "a near name is fine");
    });
});

describe("WorkloadIdentity: the rules the config layer also checks", () => {
    it("allows 20 federated credentials on one identity and refuses the 21st, counted for the mode in use", async () => {
        const classic = (federationCount: number): (() => void) => () => {
            const cluster = new WorkloadIdentityCluster("main", clusterArgs);
            new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", clusters: { main: cluster.bindWorkload("api") }, federations: federations(federationCount) });
        };
        const twenty = await runStack({ stack: "code", program: classic(19) });
        assert.equal(ofType(twenty.resources, T.fic).length, 20, "1 cluster FIC + 19 federations: the limit itself is allowed");
        const error = await failureOf(classic(20));
        assert.equal(
            error.message,
            invalid("WorkloadIdentity", "api", [
                "federatedCredentials: 21 federated credentials for one identity (1 cluster × 1 ServiceAccount + 20 federations); Entra ID allows at most 20 per identity. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.",
            ]),
        );

        const binding = (federationCount: number): (() => void) => () => {
            const cluster = new WorkloadIdentityCluster("main", clusterArgs);
            new WorkloadIdentity("api", {
                resourceGroupName: "rg-code",
                namespace: "api",
                identityBinding: true,
                clusters: { main: cluster.bindWorkload("api") },
                federations: federations(federationCount),
            });
        };
        const bound = await runStack({ stack: "code", program: binding(19) });
        assert.equal(ofType(bound.resources, T.fic).length, 19, "19 federations + the one aks-identity-binding FIC that AKS writes");
        const tooMany = await failureOf(binding(20));
        assert.equal(
            tooMany.message,
            invalid("WorkloadIdentity", "api", [
                "federatedCredentials: 21 federated credentials for one identity (1 aks-identity-binding, which AKS creates for the identity bindings, + 20 federations); Entra ID allows at most 20 per identity. Give some federations an identity of their own.",
            ]),
        );
    });

    it("refuses a federation whose FIC name is a cluster's", async () => {
        for (const key of ["main", "Main"]) {
            const error = await failureOf(() => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                    federations: { [key]: { issuer: GITHUB, subject: "repo:contoso/api:environment:prod" } },
                });
            });
            assert.equal(
                error.message,
                invalid("WorkloadIdentity", "api", [`federations.${key}: federation key "${key}" and cluster "main" would both name the federated credential fic-main; rename the federation.`]),
                key,
            );
        }
    });

    it("reserves the role assignment keys of the keyVault argument", async () => {
        const error = await failureOf(
            () =>
                void new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    roleAssignments: {
                        "keyvault-secrets": { role: "Reader", scope: RG_DATA },
                        "keyvault-certificates": { role: "Storage Blob Data Reader", scope: RG_DATA },
                        "keyvault-reader": { role: "AcrPull", scope: RG_DATA },
                    },
                }),
        );
        assert.equal(
            error.message,
            invalid("WorkloadIdentity", "api", [
                'roleAssignments.keyvault-secrets: the key "keyvault-secrets" is the keyVault entry\'s own; choose another key.',
                'roleAssignments.keyvault-certificates: the key "keyvault-certificates" is the keyVault entry\'s own; choose another key.',
            ]),
        );
    });

    it("refuses two grants of one role at one scope, which would share one assignment name", async () => {
        const error = await failureOf(
            () =>
                void new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    roleAssignments: { read: { role: "Reader", scope: RG_DATA }, again: { role: "acdd72a7-3385-48ef-bd42-f606fba81ae7", scope: RG_DATA.toUpperCase() } },
                }),
        );
        assert.equal(
            error.message,
            invalid("WorkloadIdentity", "api", ["roleAssignments.again: assigns the same role at the same scope as roleAssignments.read; keep one of them."]),
        );
    });
});

describe("the role assignment guard on a scope known only at deploy time", () => {
    const workload = (assignment: WorkloadIdentityArgs["roleAssignments"]): (() => void) => () => void new WorkloadIdentity("api", { resourceGroupName: "rg-code", roleAssignments: assignment });

    it("refuses an owner-like role at subscription scope when the scope is an Output", async () => {
        const error = await failureOf(workload({ all: { role: "Contributor", scope: pulumi.output(`/subscriptions/${SUB}`) } }));
        assertDeployTimeFailure(
            error,
            'Role assignment "all" of api: role "Contributor" at subscription scope is refused for a workload. Assign it on a resource group or resource, or set allowBroadScope: true on this assignment.',
        );
        assert.deepEqual(ofType(lastRun()?.resources ?? [], T.role), [], "the assignment is never written");
    });

    it("refuses a scope that is no ARM ID when it is an Output", async () => {
        const error = await failureOf(workload({ data: { role: "Reader", scope: pulumi.output("rg-data") } }));
        assertDeployTimeFailure(
            error,
            'Role assignment "data" of api: invalid scope "rg-data". Allowed values are ARM IDs of a subscription (/subscriptions/<guid>), a resource group (/subscriptions/<guid>/resourceGroups/<name>), a resource (/subscriptions/<guid>/resourceGroups/<name>/providers/<Namespace>/<type>/<name>) or a management group (/providers/Microsoft.Management/managementGroups/<name>).',
        );
    });

    it("accepts the same scope with allowBroadScope, and names the assignment from the resolved scope", async () => {
        const run = await runStack({ stack: "code", program: workload({ all: { role: "Contributor", scope: pulumi.output(`/subscriptions/${SUB}`), allowBroadScope: true } }) });
        const assignment = named(run.resources, T.role, "api-ra-all");
        assert.deepEqual(assignment.inputs, {
            scope: `/subscriptions/${SUB}`,
            // The mocked principal of identity "api" (placeholderPrincipalId("api")).
            principalId: "f257e0ba-2f6f-50f4-a9f4-cbb2a0bec972",
            principalType: "ServicePrincipal",
            roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
            // Public API: UUIDv5 of (scope, principal, role definition); a change here replaces the live assignment.
            roleAssignmentName: "f97e3e49-bf29-52b1-a1ac-0bb71e942a52",
            description: "Contributor for workload api (all).",
        });
    });
});

describe("options that reach the children", () => {
    const pools = { apps: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 }, sys2: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3, mode: "System" } };

    it("protects the node pools by default and unprotects them with protect: false", async () => {
        const protectedRun = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: pools }) });
        assert.deepEqual(
            [...ofType(protectedRun.resources, T.cluster), ...ofType(protectedRun.resources, T.pool)].map((r) => [r.name, r.protect]),
            [
                ["main-aks", true],
                ["main-pool-apps", true],
                ["main-pool-sys2", true],
            ],
        );
        const unprotected = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: pools, protect: false }) });
        assert.deepEqual(
            [...ofType(unprotected.resources, T.cluster), ...ofType(unprotected.resources, T.pool)].map((r) => [r.name, r.protect]),
            [
                ["main-aks", false],
                ["main-pool-apps", false],
                ["main-pool-sys2", false],
            ],
        );
        // The arg, not the component's resource option, decides: the children set protect themselves.
        const optsOff = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, nodePools: pools }, { protect: false }) });
        assert.deepEqual(
            [...ofType(optsOff.resources, T.cluster), ...ofType(optsOff.resources, T.pool)].map((r) => [r.name, r.protect]),
            [
                ["main-aks", true],
                ["main-pool-apps", true],
                ["main-pool-sys2", true],
            ],
        );
    });

    it("refuses an OIDC issuer that is not https, or none, at deploy time", async () => {
        const http = await failureOf(() => void new WorkloadIdentityCluster("main", clusterArgs), reportingIssuerProfile({ enabled: true, issuerURL: "http://westeurope.oic.prod-aks.azure.com/t/c/" }));
        assertDeployTimeFailure(http, 'Cluster main reports no https OIDC issuer URL (got "http://westeurope.oic.prod-aks.azure.com/t/c/"); workload identity cannot federate with it.');
        const none = await failureOf(() => void new WorkloadIdentityCluster("main", clusterArgs), reportingIssuerProfile({ enabled: false }));
        assertDeployTimeFailure(none, "Cluster main reports no https OIDC issuer URL (got undefined); workload identity cannot federate with it.");
    });

    it("passes an https issuer on to the workload's federated credential unchanged", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", clusters: { main: cluster.bindWorkload("api") } });
            },
        });
        assert.equal(named(run.resources, T.fic, "api-fic-main").inputs.issuer, placeholderIssuerUrl("westeurope", "aks-code"));
    });

    it("runs the quick-start Job as non-root, read-only, with no privilege escalation and no capabilities", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs);
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                    keyVault: { resourceId: VAULT, secrets: ["db-password"] },
                    quickstart: true,
                });
            },
        });
        const job = named(run.resources, T.job, "api-quickstart-main");
        assert.deepEqual(job.inputs, {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "api-quickstart", namespace: "api", labels: { app: "api-quickstart" } },
            spec: {
                backoffLimit: 6,
                activeDeadlineSeconds: 1200,
                template: {
                    metadata: { labels: { app: "api-quickstart", "azure.workload.identity/use": "true" } },
                    spec: {
                        serviceAccountName: "api",
                        restartPolicy: "Never",
                        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "quickstart",
                                image: "mcr.microsoft.com/azure-cli:2.89.1",
                                command: ["/bin/sh", "-c", quickstartScript("kv-code", "db-password")],
                                env: [
                                    { name: "AZURE_CONFIG_DIR", value: "/tmp/.azure" },
                                    { name: "HOME", value: "/tmp" },
                                ],
                                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
                                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            },
                        ],
                        volumes: [{ name: "tmp", emptyDir: {} }],
                    },
                },
            },
        });
    });

    it("puts the identity's tags on the UserAssignedIdentity", async () => {
        const run = await runStack({
            stack: "code",
            program: () => void new WorkloadIdentity("api", { resourceGroupName: "rg-code", location: "westeurope", identityName: "id-api-code", tags: { team: "payments", costCenter: "4711" } }),
        });
        assert.deepEqual(named(run.resources, T.identity, "api-id").inputs, {
            resourceGroupName: "rg-code",
            location: "westeurope",
            resourceName: "id-api-code",
            tags: { team: "payments", costCenter: "4711" },
        });
    });

    it("sends each cluster admin's principalType, User and Group, to its role assignment", async () => {
        const run = await runStack({
            stack: "code",
            program: () =>
                void new WorkloadIdentityCluster("main", {
                    ...clusterArgs,
                    clusterAdmins: {
                        alice: { objectId: "22222222-2222-2222-2222-222222222222", principalType: "User" },
                        ops: { objectId: "33333333-3333-3333-3333-333333333333", principalType: "Group" },
                    },
                }),
        });
        const clusterId = `/subscriptions/${SUB}/resourceGroups/rg-code/providers/Microsoft.ContainerService/managedClusters/aks-code`;
        // "Azure Kubernetes Service RBAC Cluster Admin", defined at the cluster's subscription.
        const role = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b`;
        assert.deepEqual(
            ofType(run.resources, T.role).map((r) => [r.name, r.inputs]),
            [
                [
                    "main-admin-alice",
                    {
                        scope: clusterId,
                        principalId: "22222222-2222-2222-2222-222222222222",
                        principalType: "User",
                        roleDefinitionId: role,
                        // Public API: a change here replaces the live assignment.
                        roleAssignmentName: "83e9ff40-53c4-50cd-b08c-38735ba18b17",
                        description: 'Cluster admin "alice" of main, declared in clusterAdmins.',
                    },
                ],
                [
                    "main-admin-ops",
                    {
                        scope: clusterId,
                        principalId: "33333333-3333-3333-3333-333333333333",
                        principalType: "Group",
                        roleDefinitionId: role,
                        roleAssignmentName: "17fffdaf-5212-5903-a8b2-8d2d0f97ec6f",
                        description: 'Cluster admin "ops" of main, declared in clusterAdmins.',
                    },
                ],
            ],
        );
    });

    for (const [networkPolicy, networkDataplane] of [
        ["cilium", "cilium"],
        ["calico", "azure"],
        ["azure", "azure"],
    ] as const) {
        it(`maps networkPolicy ${networkPolicy} to the ${networkDataplane} dataplane on Azure CNI overlay`, async () => {
            const run = await runStack({ stack: "code", program: () => void new WorkloadIdentityCluster("main", { ...clusterArgs, networkPolicy }) });
            assert.deepEqual(named(run.resources, T.cluster, "main-aks").inputs.networkProfile, {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane,
                networkPolicy,
                loadBalancerSku: "standard",
                // azure-native's own defaults (containerServiceNetworkProfileArgsProvideDefaults), sent as AKS's defaults.
                podCidr: "10.244.0.0/16",
                serviceCidr: "10.0.0.0/16",
                dnsServiceIP: "10.0.0.10",
                outboundType: "loadBalancer",
            });
        });
    }
});
