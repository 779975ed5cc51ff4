import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { PLACEHOLDER_SUBSCRIPTION_ID, placeholderIssuerUrl, runStack } from "../testing/mock-runner";
import { named, ofType } from "../testing/graph";
import { WorkloadIdentity, WorkloadIdentityCluster, type WorkloadIdentityClusterArgs } from "../components";

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const GROUP = "11111111-1111-1111-1111-111111111111";

const clusterArgs: WorkloadIdentityClusterArgs = {
    resourceGroupName: "rg-code",
    location: "westeurope",
    clusterName: "aks-code",
    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
    adminGroupObjectIds: [GROUP],
    privateCluster: true,
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
                    clusters: { main: cluster.bindWorkload("api", true) },
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
        assert.ok(reader.dependencies.includes(named(run.resources, "azure-native:resources:ResourceGroup", "data").urn));
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
        assert.deepEqual(cluster.inputs.apiServerAccessProfile, { enablePrivateCluster: true });
        assert.equal((cluster.inputs.networkProfile as { networkPolicy: string }).networkPolicy, "cilium");
        assert.equal(cluster.protect, false);
        assert.ok(kubeconfig);
        assert.equal(await pulumi.isSecret(kubeconfig), true, "the kubeconfig output is a secret");
    });

    it("refuses invalid cluster args before creating any child", async () => {
        const error = await failureOf(() => {
            new WorkloadIdentityCluster("bad", {
                ...clusterArgs,
                adminGroupObjectIds: [],
                privateCluster: false,
                authorizedIpRanges: ["10.0.0.0/40"],
                systemPool: { vmSize: "Standard_D2ds_v5", minCount: 0, maxCount: 2 },
                nodePools: { System: { vmSize: "Standard_D2ds_v5", minCount: 0, maxCount: 1 } },
                clusterAdmins: { ops: { objectId: "nope", principalType: "User" } },
            });
        });
        assert.ok(error instanceof pulumi.ResourceError);
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
            const binding = cluster.bindWorkload("app", false);
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
