import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PLACEHOLDER_SUBSCRIPTION_ID, PLACEHOLDER_TENANT_ID, placeholderClientId, placeholderIssuerUrl, runStack, type RecordedResource } from "../testing/mock-runner";
import { dependsTransitively, named, ofType } from "../testing/graph";
import {
    WorkloadIdentity,
    WorkloadIdentityCluster,
    bindingIdentityResourceIdProblem,
    federatedCredentialBudgetProblem,
    identityBindingIssuerUrl,
    identityBindingName,
    identityBindingNameClashes,
    identityBindingNameProblem,
    parseIdentityBindingIssuer,
    type WorkloadIdentityArgs,
    type WorkloadIdentityClusterArgs,
} from "../components";
import { evaluatePolicies } from "../policy/evaluate";
import { TYPES } from "../policy/resource-types";

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const GROUP = "11111111-1111-1111-1111-111111111111";
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks`;
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-code`;
const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-code/providers/Microsoft.ManagedIdentity/userAssignedIdentities/api`;
const CLIENT_ID = placeholderClientId("api");

const GENERIC: string = TYPES.genericResource;
const FIC: string = TYPES.federatedIdentityCredential;
const CLUSTER_ROLE: string = TYPES.clusterRole;
const CLUSTER_ROLE_BINDING: string = TYPES.clusterRoleBinding;

function clusterArgs(clusterName: string): WorkloadIdentityClusterArgs {
    return {
        resourceGroupName: "rg-code",
        location: "westeurope",
        clusterName,
        systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
        adminGroupObjectIds: [GROUP],
        private: true,
        network: { vnetSubnetId: SUBNET },
        namespaces: ["api"],
    };
}

/** Clusters `keys` (Azure names `aks-<key>`) and one workload `api` on all of them. */
function program(keys: readonly string[], workload: Omit<WorkloadIdentityArgs, "clusters">): () => void {
    return () => {
        const clusters = Object.fromEntries(
            keys.map((key) => {
                const cluster = new WorkloadIdentityCluster(key, clusterArgs(`aks-${key}`));
                return [key, { ...cluster.bindWorkload("api"), clusterResourceGroupName: "rg-code", clusterName: cluster.name }];
            }),
        );
        new WorkloadIdentity("api", { ...workload, clusters });
    };
}

async function failureOf(run: () => void): Promise<Error> {
    try {
        await runStack({ stack: "code", program: run });
    } catch (error) {
        return error as Error;
    }
    return assert.fail("the program was expected to fail");
}

const providerOf = (resources: readonly RecordedResource[], cluster: string): string => named(resources, "pulumi:providers:kubernetes", `${cluster}-k8s`).urn;

/** 25 ServiceAccounts: the workload's own, and `api` in 24 tenant namespaces. */
const TWENTY_FIVE = [{ namespace: "api", name: "api" }, ...Array.from({ length: 24 }, (_, i) => ({ namespace: `tenant-${String(i + 1).padStart(2, "0")}`, name: "api" }))];

describe("identity binding names and rules (pure)", () => {
    it("derives a legal binding name from the workload key, with a hash when it had to change the key", () => {
        const cases: [string, string][] = [
            ["api", "api"],
            ["ordersapi", "ordersapi"],
            ["orders-api", "ordersapi117d1648"],
            ["Orders", "ordersb7e8acdd"],
            ["1st", "ib1ste01ddf65"],
            ["payments.v2", "paymentsv21be53540"],
            ["x".repeat(63), "x".repeat(63)],
            ["x".repeat(64), `${"x".repeat(55)}7ce10097`],
        ];
        for (const [key, name] of cases) {
            assert.equal(identityBindingName(key), name, key);
            assert.equal(identityBindingNameProblem(name), undefined, name);
        }
    });

    it("refuses binding names the API refuses, and flags two workloads whose names collide", () => {
        assert.equal(
            identityBindingNameProblem("orders-api"),
            'invalid identity binding name "orders-api". Allowed values are 1 to 63 lower-case letters and digits, starting with a letter (no "-").',
        );
        assert.notEqual(identityBindingNameProblem("x".repeat(64)), undefined, "64 characters are one too many (maxLength 63)");
        assert.notEqual(identityBindingNameProblem("1api"), undefined, "a name starts with a letter");
        assert.deepEqual(identityBindingNameClashes(["orders-api", "payments"]), []);
        assert.deepEqual(identityBindingNameClashes(["orders-api", "ordersapi117d1648"]), [
            'workloads "orders-api" and "ordersapi117d1648" would both name their identity binding "ordersapi117d1648"; rename one of them.',
        ]);
    });

    it("checks the identity's resource ID against the binding API's pattern", () => {
        assert.equal(bindingIdentityResourceIdProblem(IDENTITY_ID), undefined);
        // The managed identity RP answers `resourcegroups` in lower case; ARM compares IDs case-insensitively.
        assert.equal(bindingIdentityResourceIdProblem(IDENTITY_ID.replace("resourceGroups", "resourcegroups")), undefined);
        assert.equal(
            bindingIdentityResourceIdProblem(`/subscriptions/${SUB}/resourceGroups/rg_code/providers/Microsoft.ManagedIdentity/userAssignedIdentities/api`),
            `the identity's resource ID "/subscriptions/${SUB}/resourceGroups/rg_code/providers/Microsoft.ManagedIdentity/userAssignedIdentities/api" cannot be bound: identity bindings accept /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> with only letters, digits and "-" in the resource group and identity names.`,
        );
    });

    it("counts the federated credentials of each mode", () => {
        const budget = { clusters: 3, serviceAccounts: 25, federations: 2, identityBinding: false, keepClassicCredentials: false };
        assert.equal(
            federatedCredentialBudgetProblem(budget),
            "77 federated credentials for one identity (3 clusters × 25 ServiceAccounts + 2 federations); Entra ID allows at most 20 per identity. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.",
        );
        assert.equal(federatedCredentialBudgetProblem({ ...budget, identityBinding: true }), undefined, "1 AKS FIC + 2 federations");
        assert.equal(
            federatedCredentialBudgetProblem({ ...budget, identityBinding: true, keepClassicCredentials: true }),
            "78 federated credentials for one identity (3 clusters × 25 ServiceAccounts kept by keepClassicCredentials + 1 aks-identity-binding + 2 federations); Entra ID allows at most 20 per identity. Move the pods to the binding and drop keepClassicCredentials, or migrate fewer clusters at a time.",
        );
        assert.equal(federatedCredentialBudgetProblem({ ...budget, identityBinding: true, federations: 19 }), undefined, "20: the limit itself is allowed");
        assert.equal(
            federatedCredentialBudgetProblem({ ...budget, identityBinding: true, federations: 20 }),
            "21 federated credentials for one identity (1 aks-identity-binding, which AKS creates for the identity bindings, + 20 federations); Entra ID allows at most 20 per identity. Give some federations an identity of their own.",
        );
    });

    it("reads the binding's issuer where the API puts it, and recognises a binding issuer", () => {
        // The response body of the 2026-05-01 example IdentityBindings_Create_Or_Update.json.
        const properties = {
            managedIdentity: { clientId: "00000000-0000-0000-0000-000000000000", resourceId: IDENTITY_ID },
            oidcIssuer: { oidcIssuerUrl: "https://oidc-endpoint" },
            provisioningState: "Succeeded",
        };
        assert.equal(identityBindingIssuerUrl(properties), "https://oidc-endpoint");
        assert.equal(identityBindingIssuerUrl({ managedIdentity: { resourceId: IDENTITY_ID } }), undefined);
        assert.deepEqual(parseIdentityBindingIssuer(`https://ib.oic.prod-aks.azure.com/${PLACEHOLDER_TENANT_ID}/${CLIENT_ID}`), {
            tenantId: PLACEHOLDER_TENANT_ID,
            clientId: CLIENT_ID,
        });
        assert.equal(parseIdentityBindingIssuer(placeholderIssuerUrl("westeurope", "aks-a")), undefined);
    });
});

describe("WorkloadIdentity in identity binding mode", () => {
    it("binds one identity to three clusters: three bindings, no FIC of ours, RBAC for the exact client ID in each cluster", async () => {
        const run = await runStack({ stack: "code", program: program(["a", "b", "c"], { resourceGroupName: "rg-code", namespace: "api", identityBinding: true }) });
        assert.equal(ofType(run.resources, FIC).length, 0, "AKS writes the one FIC (aks-identity-binding); the program declares none");
        const component = named(run.resources, "aks-workload-identity:index:WorkloadIdentity", "api");
        const bindings = ofType(run.resources, GENERIC);
        assert.deepEqual(
            bindings.map((b) => b.name),
            ["api-ib-a", "api-ib-b", "api-ib-c"],
        );
        for (const key of ["a", "b", "c"]) {
            const binding = named(run.resources, GENERIC, `api-ib-${key}`);
            assert.deepEqual(binding.inputs, {
                apiVersion: "2026-05-01",
                resourceProviderNamespace: "Microsoft.ContainerService",
                resourceGroupName: "rg-code",
                parentResourcePath: `managedClusters/aks-${key}`,
                resourceType: "identityBindings",
                resourceName: "api",
                properties: { managedIdentity: { resourceId: IDENTITY_ID } },
            });
            assert.equal(binding.parent, component.urn);
            assert.equal(binding.deleteBeforeReplace, true, "a binding's name is fixed: the old one goes first");
            assert.ok(binding.dependencies.includes(named(run.resources, "azure-native:containerservice:ManagedCluster", `${key}-aks`).urn), "it waits for its cluster");

            const role = named(run.resources, CLUSTER_ROLE, `api-ib-role-${key}`);
            assert.deepEqual(role.inputs, {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "ClusterRole",
                metadata: { name: "use-managed-identity-api" },
                rules: [{ apiGroups: ["cid.wi.aks.azure.com"], resources: [CLIENT_ID], verbs: ["use-managed-identity"] }],
            });
            const roleBinding = named(run.resources, CLUSTER_ROLE_BINDING, `api-ib-rolebinding-${key}`);
            assert.deepEqual(roleBinding.inputs, {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "ClusterRoleBinding",
                metadata: { name: "use-managed-identity-api" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "use-managed-identity-api" },
                subjects: [{ kind: "ServiceAccount", name: "api", namespace: "api" }],
            });
            for (const rbac of [role, roleBinding]) {
                assert.equal(rbac.provider?.split("::").slice(0, -1).join("::"), providerOf(run.resources, key), `${rbac.name} is written to cluster ${key}`);
            }
            assert.ok(roleBinding.dependencies.includes(role.urn), "the binding waits for its role");
            const sa = named(run.resources, "kubernetes:core/v1:ServiceAccount", `api-sa-${key}`);
            assert.deepEqual((sa.inputs.metadata as { annotations: Record<string, string> }).annotations, {
                "azure.workload.identity/client-id": CLIENT_ID,
                "azure.workload.identity/tenant-id": PLACEHOLDER_TENANT_ID,
            });
        }
        // AKS writes the identity's FIC for each binding: one binding at a time.
        assert.deepEqual(
            ["a", "b", "c"].map((key) => named(run.resources, GENERIC, `api-ib-${key}`).dependencies.filter((urn) => bindings.some((b) => b.urn === urn))),
            [[], [bindings[0].urn], [bindings[1].urn]],
        );
        const stackViolations = evaluatePolicies(run.resources, { stack: "code" }).filter((v) => v.enforcementLevel === "mandatory");
        assert.deepEqual(stackViolations, [], "a binding-mode identity without per-cluster FICs passes every mandatory policy");
    });

    it("gives the pods their annotation, the SecretProviderClass the token proxy and the quick-start Job both", async () => {
        let outputs: Record<string, unknown> = {};
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs("aks-main"));
                const identity = new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    identityBinding: true,
                    clusters: { main: { ...cluster.bindWorkload("api"), clusterResourceGroupName: "rg-code", clusterName: cluster.name } },
                    keyVault: { resourceId: VAULT, secrets: ["db-password"] },
                    quickstart: true,
                });
                outputs = { podLabels: identity.podLabels, podAnnotations: identity.podAnnotations, identityBinding: identity.identityBinding };
            },
        });
        assert.deepEqual(outputs, {
            podLabels: { "azure.workload.identity/use": "true" },
            podAnnotations: { "azure.workload.identity/use-identity-binding": "true" },
            identityBinding: true,
        });
        const spc = named(run.resources, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "api-spc-main");
        assert.deepEqual((spc.inputs.spec as { parameters: unknown }).parameters, {
            usePodIdentity: "false",
            useAzureTokenProxy: "true",
            clientID: CLIENT_ID,
            tenantId: PLACEHOLDER_TENANT_ID,
            keyvaultName: "kv-code",
            objects: "array:\n  - |\n    objectName: db-password\n    objectType: secret\n",
        });
        const job = named(run.resources, "kubernetes:batch/v1:Job", "api-quickstart-main");
        const template = (job.inputs.spec as { template: { metadata: unknown; spec: { containers: { command: string[] }[] } } }).template;
        assert.deepEqual(template.metadata, {
            labels: { app: "api-quickstart", "azure.workload.identity/use": "true" },
            annotations: { "azure.workload.identity/use-identity-binding": "true" },
        });
        const script = template.spec.containers[0].command[2];
        assert.match(script, /^set -eu\npython3 - kv-code db-password <<'PYTHON'\n/);
        assert.match(script, /AZURE_KUBERNETES_TOKEN_PROXY/);
        assert.match(script, /server_hostname=server_name/);
        assert.match(script, /"\/secrets\/" \+ secret \+ "\/versions\?maxresults=1&api-version=7\.4"/);
        assert.doesNotMatch(script, /az login|secret show|\.value|download/, "no direct Entra login, and never the secret's value");
        for (const dependency of [
            named(run.resources, GENERIC, "api-ib-main"),
            named(run.resources, CLUSTER_ROLE_BINDING, "api-ib-rolebinding-main"),
            named(run.resources, "azure-native:authorization:RoleAssignment", "api-ra-keyvault-secrets"),
            named(run.resources, "kubernetes:core/v1:ServiceAccount", "api-sa-main"),
        ]) {
            assert.ok(job.dependencies.includes(dependency.urn), `the Job waits for ${dependency.name}`);
        }

        const classic = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", clusterArgs("aks-main"));
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    clusters: { main: cluster.bindWorkload("api") },
                    keyVault: { resourceId: VAULT, secrets: ["db-password"] },
                    quickstart: true,
                });
            },
        });
        const classicSpc = named(classic.resources, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "api-spc-main");
        assert.equal("useAzureTokenProxy" in ((classicSpc.inputs.spec as { parameters: object }).parameters), false, "classic mode exchanges the token directly");
        const classicJob = named(classic.resources, "kubernetes:batch/v1:Job", "api-quickstart-main");
        assert.deepEqual((classicJob.inputs.spec as { template: { metadata: unknown } }).template.metadata, { labels: { app: "api-quickstart", "azure.workload.identity/use": "true" } });
    });

    it("accepts 25 ServiceAccounts on three clusters in binding mode, and refuses the same in classic mode with the count", async () => {
        const run = await runStack({
            stack: "code",
            program: program(["a", "b", "c"], { resourceGroupName: "rg-code", namespace: "api", identityBinding: true, serviceAccounts: TWENTY_FIVE }),
        });
        assert.equal(ofType(run.resources, FIC).length, 0);
        for (const key of ["a", "b", "c"]) {
            const subjects = named(run.resources, CLUSTER_ROLE_BINDING, `api-ib-rolebinding-${key}`).inputs.subjects as { kind: string; namespace: string; name: string }[];
            assert.equal(subjects.length, 25);
            assert.deepEqual(subjects[0], { kind: "ServiceAccount", name: "api", namespace: "api" });
            assert.deepEqual(subjects[24], { kind: "ServiceAccount", name: "api", namespace: "tenant-24" });
        }
        assert.deepEqual(
            ofType(run.resources, "kubernetes:core/v1:ServiceAccount").map((sa) => sa.name),
            ["api-sa-a", "api-sa-b", "api-sa-c"],
            "only the workload's own ServiceAccount is created; the others carry serviceAccountAnnotations",
        );

        const classic = await failureOf(program(["a", "b", "c"], { resourceGroupName: "rg-code", namespace: "api", serviceAccounts: TWENTY_FIVE }));
        assert.equal(
            classic.message,
            'Invalid WorkloadIdentity "api":\n  - federatedCredentials: 75 federated credentials for one identity (3 clusters × 25 ServiceAccounts + 0 federations); Entra ID allows at most 20 per identity. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.',
        );
    });

    it("binds to 21 clusters, where classic mode is refused: the count of one FIC per cluster does not apply", async () => {
        const on21 = (identityBinding: boolean) => () => {
            const cluster = new WorkloadIdentityCluster("main", clusterArgs("aks-main"));
            const base = cluster.bindWorkload("api");
            const clusters = Object.fromEntries(
                Array.from({ length: 21 }, (_, i) => {
                    const key = `c${String(i + 1).padStart(2, "0")}`;
                    return [key, { ...base, oidcIssuerUrl: placeholderIssuerUrl("westeurope", `aks-${key}`), clusterResourceGroupName: "rg-code", clusterName: `aks-${key}` }];
                }),
            );
            new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", identityBinding, clusters, federations: { deploy: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/api:environment:prod" } } });
        };
        const run = await runStack({ stack: "code", program: on21(true) });
        assert.equal(ofType(run.resources, GENERIC).length, 21);
        assert.deepEqual(ofType(run.resources, FIC).map((f) => f.name), ["api-fic-deploy"], "only the federation's FIC, after the bindings");
        assert.ok(named(run.resources, FIC, "api-fic-deploy").dependencies.includes(named(run.resources, GENERIC, "api-ib-c21").urn), "the federation's FIC waits for the last identity binding");
        const classic = await failureOf(on21(false));
        assert.equal(
            classic.message,
            'Invalid WorkloadIdentity "api":\n  - federatedCredentials: 22 federated credentials for one identity (21 clusters × 1 ServiceAccount + 1 federation); Entra ID allows at most 20 per identity. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.',
        );
    });

    it("gives each further ServiceAccount its own FIC in classic mode, and keeps the own one's name", async () => {
        const run = await runStack({
            stack: "code",
            program: program(["main"], { resourceGroupName: "rg-code", namespace: "api", serviceAccounts: [{ namespace: "api", name: "api" }, { namespace: "tenant-a", name: "worker.v2" }] }),
        });
        assert.deepEqual(
            ofType(run.resources, FIC).map((f) => [f.name, f.inputs.federatedIdentityCredentialResourceName, f.inputs.subject, f.inputs.issuer]),
            [
                ["api-fic-main", "fic-main", "system:serviceaccount:api:api", placeholderIssuerUrl("westeurope", "aks-main")],
                ["api-fic-main-tenant-a-worker.v2", "fic-main-tenant-a-worker-v2", "system:serviceaccount:tenant-a:worker.v2", placeholderIssuerUrl("westeurope", "aks-main")],
            ],
        );
        assert.equal(ofType(run.resources, GENERIC).length, 0, "no identity binding in classic mode");
        assert.equal(ofType(run.resources, CLUSTER_ROLE_BINDING).length, 0);
    });

    it("migrates in two deploys: keepClassicCredentials keeps the FICs beside the bindings, written after them", async () => {
        const classic = await runStack({ stack: "code", program: program(["a", "b"], { resourceGroupName: "rg-code", namespace: "api" }) });
        const both = await runStack({ stack: "code", program: program(["a", "b"], { resourceGroupName: "rg-code", namespace: "api", identityBinding: true, keepClassicCredentials: true }) });
        const binding = await runStack({ stack: "code", program: program(["a", "b"], { resourceGroupName: "rg-code", namespace: "api", identityBinding: true }) });
        const names = (resources: readonly RecordedResource[], type: string) => ofType(resources, type).map((r) => r.name);
        assert.deepEqual(names(classic.resources, FIC), ["api-fic-a", "api-fic-b"]);
        // Step 1: the same FICs (same names and inputs: nothing replaced) and the bindings with their RBAC.
        assert.deepEqual(names(both.resources, FIC), ["api-fic-a", "api-fic-b"]);
        for (const fic of ["api-fic-a", "api-fic-b"]) {
            assert.deepEqual(named(both.resources, FIC, fic).inputs, named(classic.resources, FIC, fic).inputs, `${fic} is unchanged`);
        }
        assert.deepEqual(names(both.resources, GENERIC), ["api-ib-a", "api-ib-b"]);
        assert.deepEqual(names(both.resources, CLUSTER_ROLE_BINDING), ["api-ib-rolebinding-a", "api-ib-rolebinding-b"]);
        assert.ok(
            dependsTransitively(both.resources, named(both.resources, GENERIC, "api-ib-a"), named(both.resources, FIC, "api-fic-b")),
            "bindings join the identity's write chain after its FICs",
        );
        // Step 2: the FICs leave the program (Pulumi deletes them after creating and updating the rest).
        assert.deepEqual(names(binding.resources, FIC), []);
        assert.deepEqual(names(binding.resources, GENERIC), ["api-ib-a", "api-ib-b"]);
    });

    it("refuses binding mode for an application principal and where the binding API's rules are not met", async () => {
        const application = await failureOf(
            program(["main"], { resourceGroupName: "rg-code", namespace: "api", principal: "application", applicationOwners: [GROUP], identityBinding: true }),
        );
        assert.equal(
            application.message,
            'Invalid WorkloadIdentity "api":\n  - identityBinding: true, but principal is application: AKS identity bindings map a user-assigned managed identity only. Use principal: managedIdentity, or identityBinding: false.',
        );
        const names = await failureOf(program(["main"], { resourceGroupName: "rg_code", identityName: "id_api", namespace: "api", identityBinding: true }));
        assert.equal(
            names.message,
            [
                'Invalid WorkloadIdentity "api":',
                '  - resourceGroupName: resource group name "rg_code" cannot be used with identityBinding: identity bindings accept only letters, digits and "-" in the resource group and identity names of managedIdentity.resourceId.',
                '  - identityName: identity name "id_api" cannot be used with identityBinding: identity bindings accept only letters, digits and "-" in the resource group and identity names of managedIdentity.resourceId.',
            ].join("\n"),
        );
        const noTarget = await failureOf(() => {
            const cluster = new WorkloadIdentityCluster("main", clusterArgs("aks-main"));
            // A binding made by hand, without the cluster's resource group and name.
            const bare = { oidcIssuerUrl: cluster.oidcIssuerUrl, kubernetesProvider: cluster.provider, dependsOn: [] };
            new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", identityBinding: true, keepClassicCredentials: true, clusters: { main: bare } });
        });
        assert.equal(
            noTarget.message,
            'Invalid WorkloadIdentity "api":\n  - clusters.main: identityBinding needs the cluster\'s resource group and name (clusterResourceGroupName, clusterName): the identity binding is a child of the managed cluster.',
        );
        const flags = await failureOf(
            program(["main"], {
                resourceGroupName: "rg-code",
                namespace: "api",
                keepClassicCredentials: true,
                serviceAccounts: [{ namespace: "tenant-a", name: "api" }, { namespace: "tenant-a", name: "api" }],
            }),
        );
        assert.equal(
            flags.message,
            [
                'Invalid WorkloadIdentity "api":',
                "  - keepClassicCredentials: only with identityBinding: true (it keeps the per-cluster federated credentials while the pods move to the binding).",
                "  - serviceAccounts[1]: tenant-a/api is listed twice (also serviceAccounts[0]).",
            ].join("\n"),
        );
        const notOwn = await failureOf(program(["main"], { resourceGroupName: "rg-code", namespace: "api", identityBinding: true, serviceAccounts: [{ namespace: "tenant-a", name: "api" }] }));
        assert.equal(
            notOwn.message,
            'Invalid WorkloadIdentity "api":\n  - serviceAccounts: does not list the workload\'s own ServiceAccount api/api, which this component creates. Add { namespace: "api", name: "api" }, or set createServiceAccount: false.',
        );
    });
});
