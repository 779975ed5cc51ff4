import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { runStack, type RecordedResource, type RunResult } from "../testing/mock-runner";
// The package entry, as the plugin host loads it: it registers the kubernetes resource package,
// which turns a provider reference in the inputs back into a Provider.
import {
    ADOPTED_CLUSTER_TYPE,
    AdoptedCluster,
    WORKLOAD_IDENTITY_CLUSTER_TYPE,
    WORKLOAD_IDENTITY_TYPE,
    WorkloadIdentity,
    WorkloadIdentityCluster,
    componentProvider,
    type WorkloadIdentityArgs,
    type WorkloadIdentityClusterArgs,
} from "../components/plugin";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { serializeResourceProperties } from "@pulumi/pulumi/runtime/rpc";
import { ConstructRequest } from "@pulumi/pulumi/proto/provider_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";

/**
 * The cross-language path: `ComponentProvider.construct()`, as the plugin host calls it for a
 * program in another language, under the SDK's mock runtime. Its inputs are made the way the
 * host makes them: the caller's values serialized as an SDK sends them (`serializeResourceProperties`)
 * and read back by the provider server's own `deserializeInputs`, in both shapes it produces:
 * output values nested where they are (engines and SDKs with output-value support), and
 * property dependencies only, where a top-level property with dependencies becomes one Output.
 * What it registers is compared with the TypeScript path for the same arguments.
 */

let provider: ComponentProvider;
before(async () => {
    provider = componentProvider();
    await provider.getSchema(); // once: construct() needs it, and it takes seconds
});

/** The args as the provider host hands them to the component's constructor. */
async function asHostDelivers(args: Record<string, unknown>, outputValues: boolean): Promise<Record<string, unknown>> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module, loaded after the mocks
    const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore: () => { supportsOutputValues: boolean } };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- not in the typings: the function the provider server runs on every ConstructRequest
    const server = require("@pulumi/pulumi/provider/server") as {
        deserializeInputs(inputs: unknown, dependencies: unknown): Promise<Record<string, unknown>>;
    };
    const store = getStore();
    const supported = store.supportsOutputValues;
    store.supportsOutputValues = outputValues;
    let serialized: [Record<string, unknown>, Map<string, Set<pulumi.Resource>>];
    try {
        serialized = await serializeResourceProperties("caller", args, { keepOutputValues: true });
    } finally {
        store.supportsOutputValues = supported;
    }
    const [properties, dependencies] = serialized;
    const request = new ConstructRequest();
    request.setInputs(Struct.fromJavaScript(properties as Record<string, JavaScriptValue>));
    const map = request.getInputdependenciesMap();
    for (const [property, dependsOn] of dependencies) {
        const urns = await Promise.all([...dependsOn].map((resource) => (resource.urn as unknown as { promise(): Promise<string> }).promise()));
        const entry = new ConstructRequest.PropertyDependencies();
        entry.setUrnsList(urns);
        map.set(property, entry);
    }
    return server.deserializeInputs(request.getInputs(), map);
}

/** What construct() returns, awaited: the component's outputs as the host sends them back. */
async function construct(name: string, type: string, args: Record<string, unknown>, outputValues: boolean): Promise<Record<string, pulumi.Output<unknown>>> {
    const result = await provider.construct(name, type, (await asHostDelivers(args, outputValues)), {});
    return result.state;
}

/** A recorded resource as the comparison sees it: names instead of URNs. */
function shape(resource: RecordedResource): Record<string, unknown> {
    const nameOf = (urn: string | undefined): string | undefined => (urn === undefined ? undefined : urn.split("::").pop());
    return {
        type: resource.type,
        name: resource.name,
        parent: nameOf(resource.parent),
        provider: nameOf(resource.provider?.split("::").slice(0, -1).join("::")),
        inputs: resource.inputs,
        protect: resource.protect,
        deleteBeforeReplace: resource.deleteBeforeReplace,
        ignoreChanges: resource.ignoreChanges,
    };
}

function children(run: RunResult, root: string): Record<string, unknown>[] {
    const keep = run.resources.filter((resource) => resource.name.startsWith(root));
    return keep.map((resource) => shape(resource)).sort((a, b) => `${String(a.type)} ${String(a.name)}`.localeCompare(`${String(b.type)} ${String(b.name)}`));
}

const GROUP_OBJECT_ID = "3b9f1d2e-4c5a-4e6f-8a7b-9c0d1e2f3a4b";
const OPS_OBJECT_ID = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9";

function clusterArgs(group: resources.ResourceGroup): WorkloadIdentityClusterArgs {
    return {
        resourceGroupName: group.name,
        location: "westeurope",
        clusterName: "aks-main",
        kubernetesVersion: "1.36",
        sku: "Standard",
        systemPool: { vmSize: "Standard_D4ds_v5", minCount: 2, maxCount: 5, zones: ["1", "2", "3"] },
        nodePools: { apps: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3, labels: { tier: "apps" } } },
        adminGroupObjectIds: [GROUP_OBJECT_ID],
        clusterAdmins: { ops: { objectId: OPS_OBJECT_ID, principalType: "Group" } },
        authorizedIpRanges: ["203.0.113.0/24"],
        namespaces: ["api"],
        keyVaultSecretsProvider: true,
        tags: { env: "dev" },
    };
}

const VAULT = "/subscriptions/2f6a1c3e-8b4d-4e5f-9a6b-7c8d9e0f1a2b/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-data";

function identityArgs(group: resources.ResourceGroup, clusters: WorkloadIdentityArgs["clusters"]): WorkloadIdentityArgs {
    return {
        resourceGroupName: group.name,
        location: "westeurope",
        namespace: "api",
        clusters,
        federations: { deploy: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/api:environment:dev" } },
        roleAssignments: { reader: { role: "Reader", scope: group.id } },
        keyVault: { resourceId: VAULT, secrets: ["db-password"] },
        tags: { team: "api" },
    };
}

describe("construct() of the component package, against the TypeScript path", () => {
    let typescript: RunResult;
    before(async () => {
        typescript = await runStack({
            stack: "code",
            program: () => {
                const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                const cluster = new WorkloadIdentityCluster("main", clusterArgs(group));
                const identity = new WorkloadIdentity("api", identityArgs(group, { main: cluster.bindWorkload("api") }));
                return { clientId: identity.clientId };
            },
        });
    });

    for (const outputValues of [true, false]) {
        it(`registers the same cluster children (${outputValues ? "output values" : "property dependencies only"})`, async () => {
            let kubeconfigSecret: boolean | undefined;
            const run = await runStack({
                stack: "code",
                program: async () => {
                    const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                    const state = await construct("main", WORKLOAD_IDENTITY_CLUSTER_TYPE, { ...clusterArgs(group) }, outputValues);
                    assert.deepEqual(Object.keys(state).sort(), ["kubeconfig", "name", "oidcIssuerUrl", "resourceId"]);
                    kubeconfigSecret = await (state.kubeconfig as unknown as { isSecret: Promise<boolean> }).isSecret;
                },
            });
            assert.equal(kubeconfigSecret, true, "the kubeconfig output is a secret");
            assert.deepEqual(children(run, "main"), children(typescript, "main"));
        });
    }

    it("registers the same workload children from a cluster's outputs and a caller's provider (output values)", async () => {
        const run = await runStack({
            stack: "code",
            program: async () => {
                const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                const cluster = await construct("main", WORKLOAD_IDENTITY_CLUSTER_TYPE, { ...clusterArgs(group) }, true);
                // What a Python or YAML program does: one provider per cluster from its kubeconfig.
                const k8s = new KubernetesProvider("caller-k8s-main", { kubeconfig: cluster.kubeconfig as pulumi.Output<string> });
                await construct(
                    "api",
                    WORKLOAD_IDENTITY_TYPE,
                    { ...identityArgs(group, { main: { oidcIssuerUrl: cluster.oidcIssuerUrl as pulumi.Output<string>, kubernetesProvider: k8s } }) },
                    true,
                );
            },
        });
        const expected = children(typescript, "api").map((resource) => (resource.provider === "main-k8s" ? { ...resource, provider: "caller-k8s-main" } : resource));
        assert.deepEqual(children(run, "api"), expected);

        // The caller's provider waits for what bindWorkload's dependsOn gives the TypeScript path.
        const callerProvider = run.resources.find((resource) => resource.name === "caller-k8s-main");
        assert.ok(callerProvider !== undefined, "the caller's provider is registered");
        const waitsFor = (callerProvider.propertyDependencies.kubeconfig ?? []).map((urn) => urn.split("::").pop()).sort();
        assert.deepEqual(waitsFor, ["main-aks", "main-ns-api", "main-rbac-ready", "rg"]);
        const serviceAccount = typescript.resources.find((resource) => resource.name === "api-sa-main");
        assert.deepEqual(serviceAccount?.dependencies.map((urn) => urn.split("::").pop()).sort(), ["api-id", "main-admin-ops", "main-ns-api", "main-rbac-ready"]);
    });

    it("identity.grants.assign registers the same role assignment as the roleAssignments arg", async () => {
        const viaGrants = await runStack({
            stack: "code",
            program: () => {
                const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                const cluster = new WorkloadIdentityCluster("main", clusterArgs(group));
                const { roleAssignments: _, ...rest } = identityArgs(group, { main: cluster.bindWorkload("api") });
                void _;
                const identity = new WorkloadIdentity("api", rest);
                identity.grants.assign("reader", { role: "Reader", scope: group.id });
            },
        });
        const shapeOf = (run: RunResult): Record<string, unknown>[] => children(run, "api-ra-reader");
        assert.equal(shapeOf(viaGrants).length, 1, "grants.assign registered the assignment");
        assert.deepEqual(shapeOf(viaGrants), shapeOf(typescript));
    });

    it("refuses, naming them, plain arguments that arrive as one Output (property dependencies only)", async () => {
        const failure = await runStack({
            stack: "code",
            program: async () => {
                const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                const cluster = await construct("main", WORKLOAD_IDENTITY_CLUSTER_TYPE, { ...clusterArgs(group) }, false);
                const k8s = new KubernetesProvider("caller-k8s-main", { kubeconfig: cluster.kubeconfig as pulumi.Output<string> });
                await construct(
                    "api",
                    WORKLOAD_IDENTITY_TYPE,
                    { ...identityArgs(group, { main: { oidcIssuerUrl: cluster.oidcIssuerUrl as pulumi.Output<string>, kubernetesProvider: k8s } }) },
                    false,
                );
            },
        }).then(
            () => assert.fail("the construct was expected to fail"),
            (error: Error) => error,
        );
        const plain =
            "must be known when the program runs (it decides which resources exist, or names them), but it arrived as a value known only at deploy time (an output, or a secret). Pass it as a plain value; the values inside it may be outputs.";
        assert.equal(failure.message, `Invalid WorkloadIdentity "api":\n  - clusters: ${plain}\n  - roleAssignments: ${plain}`);
    });

    it("says what is wrong with a provider that is not a kubernetes Provider", async () => {
        const failure = await runStack({
            stack: "code",
            program: async () => {
                const group = new resources.ResourceGroup("rg", { resourceGroupName: "rg-main" });
                await construct(
                    "api",
                    WORKLOAD_IDENTITY_TYPE,
                    { ...identityArgs(group, { main: { oidcIssuerUrl: "https://westeurope.oic.prod-aks.azure.com/t/c/", kubernetesProvider: "urn:pulumi:code::p::pulumi:providers:kubernetes::k8s" } }) },
                    true,
                );
            },
        }).then(
            () => assert.fail("the construct was expected to fail"),
            (error: Error) => error,
        );
        assert.equal(
            failure.message,
            'Invalid WorkloadIdentity "api":\n  - clusters.main.kubernetesProvider: expected a kubernetes Provider resource, got the string "urn:pulumi:code::p::pulumi:providers:kubernetes::k8s": pass the Provider object itself, not its ID or URN.',
        );
    });

    it("registers the same adopted-cluster children", async () => {
        const adoptedArgs = { resourceGroupName: "rg-legacy", clusterName: "aks-legacy", clusterAdmins: { ops: { objectId: OPS_OBJECT_ID, principalType: "Group" as const } }, namespaces: ["batch"] };
        const viaTypescript = await runStack({ stack: "code", program: () => void new AdoptedCluster("legacy", adoptedArgs) });
        const viaConstruct = await runStack({
            stack: "code",
            program: async () => {
                const state = await construct("legacy", ADOPTED_CLUSTER_TYPE, adoptedArgs, true);
                assert.deepEqual(Object.keys(state).sort(), ["kubeconfig", "name", "oidcIssuerUrl", "resourceId"]);
            },
        });
        assert.deepEqual(children(viaConstruct, "legacy"), children(viaTypescript, "legacy"));
        assert.deepEqual(
            children(viaConstruct, "legacy").map((resource) => `${String(resource.type)} ${String(resource.name)}`),
            [
                "aks-workload-identity:index:AdoptedCluster legacy",
                "azure-native:authorization:RoleAssignment legacy-admin-ops",
                "kubernetes:core/v1:Namespace legacy-ns-batch",
                "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness legacy-rbac-ready",
                "pulumi:providers:kubernetes legacy-k8s",
            ],
        );
    });
});
