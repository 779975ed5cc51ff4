import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deletesFirst, kubeconfigForcesReplacement, REPLACE_RULES, ruleForPath, rulesFor } from "../plan/replacements";
import { runCommittedStack } from "../testing/mock-runner";

/** The changed paths of `paths` that force a replacement of a `type`. */
function replacing(type: string, paths: readonly string[]): string[] {
    return paths.filter((path) => ruleForPath(type, path) !== undefined);
}

const KUBECONFIG = (server: string, login: string): string =>
    [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: aks",
        "  cluster:",
        "    certificate-authority-data: Q0E=",
        `    server: ${server}`,
        "contexts:",
        "- name: aks",
        "  context: { cluster: aks, user: u }",
        "current-context: aks",
        "users:",
        `- name: u`,
        `  user: { exec: { command: kubelogin, args: [get-token, --login, ${login}] } }`,
        "",
    ].join("\n");

describe("replace-on-change rules", () => {
    it("cover every resource type the committed stacks register, each rule with its source", async () => {
        const types = new Set<string>();
        for (const stack of ["dev", "staging", "prod"]) {
            (await runCommittedStack(stack)).resources.filter((r) => r.custom).forEach((r) => types.add(r.type));
        }
        assert.deepEqual(
            [...types].filter((type) => rulesFor(type) === undefined),
            [],
            "a type without rules would show every change as an update",
        );
        for (const entry of REPLACE_RULES) {
            assert.ok(entry.deleteFirstSource.length > 0, `${entry.type} names where its delete-first rule comes from`);
            for (const rule of entry.replaceOn) {
                assert.match(rule.source, /^(pulumi-azure-native|terraform-provider-azuread|x-ms-mutability|pulumi-kubernetes) /, `${entry.type} ${rule.path}`);
            }
        }
    });

    it("ResourceGroup: its name and location replace it; tags update", () => {
        const type = "azure-native:resources:ResourceGroup";
        assert.deepEqual(replacing(type, ["resourceGroupName", "location", "tags.team"]), ["resourceGroupName", "location"]);
        assert.equal(deletesFirst(type, ["location"], false), true);
    });

    it("ManagedCluster: the network fields azure-native forces, dnsPrefix, location and the path replace it; the inline pool, the API server, load balancer and add-ons update", () => {
        const type = "azure-native:containerservice:ManagedCluster";
        assert.deepEqual(
            replacing(type, [
                "networkProfile.networkPolicy",
                "networkProfile.networkPlugin",
                "networkProfile.networkPluginMode",
                "networkProfile.networkDataplane",
                "networkProfile.podCidr",
                "networkProfile.serviceCidr",
                "networkProfile.dnsServiceIP",
                "networkProfile.outboundType",
                "dnsPrefix",
                "location",
                "resourceName",
                "resourceGroupName",
                "nodeResourceGroup",
                "linuxProfile.ssh.publicKeys[0].keyData",
            ]),
            [
                "networkProfile.networkPolicy",
                "networkProfile.networkPlugin",
                "networkProfile.networkPluginMode",
                "networkProfile.networkDataplane",
                "networkProfile.podCidr",
                "networkProfile.serviceCidr",
                "networkProfile.dnsServiceIP",
                "networkProfile.outboundType",
                "dnsPrefix",
                "location",
                "resourceName",
                "resourceGroupName",
                "nodeResourceGroup",
                "linuxProfile.ssh.publicKeys[0].keyData",
            ],
        );
        assert.deepEqual(
            replacing(type, [
                "networkProfile.loadBalancerSku",
                "networkProfile.advancedNetworking.enabled",
                "agentPoolProfiles[0].vmSize",
                "agentPoolProfiles[0].osDiskSizeGB",
                "agentPoolProfiles[0].availabilityZones[0]",
                "apiServerAccessProfile.authorizedIPRanges[0]",
                "kubernetesVersion",
                "addonProfiles.azurepolicy.enabled",
                "sku.tier",
                "tags.team",
            ]),
            [],
            "AKS rejects some of these in place (the diff says so), but azure-native does not replace for them",
        );
        assert.equal(ruleForPath(type, "networkProfile.networkPolicy")?.source, "pulumi-azure-native provider/pkg/gen/replacement.go forceNewMap ContainerService.ManagedCluster");
        assert.equal(deletesFirst(type, ["dnsPrefix"], false), true, "azure-native deletes first: the name is fixed");
    });

    it("AgentPool: vmSize and the path replace it; counts, zones and mode update", () => {
        const type = "azure-native:containerservice:AgentPool";
        assert.deepEqual(
            replacing(type, ["vmSize", "agentPoolName", "resourceName", "resourceGroupName", "gpuInstanceProfile", "minCount", "maxCount", "count", "availabilityZones[1]", "mode", "osDiskSizeGB"]),
            ["vmSize", "agentPoolName", "resourceName", "resourceGroupName", "gpuInstanceProfile"],
        );
        assert.equal(deletesFirst(type, ["vmSize"], false), true);
    });

    it("UserAssignedIdentity: its name, group and location replace it; tags update", () => {
        const type = "azure-native:managedidentity:UserAssignedIdentity";
        assert.deepEqual(replacing(type, ["resourceName", "resourceGroupName", "location", "tags.environment"]), ["resourceName", "resourceGroupName", "location"]);
        assert.match(ruleForPath(type, "location")?.source ?? "", /^x-ms-mutability \[read, create\]: TrackedResource\.location/);
    });

    it("FederatedIdentityCredential: its name and its identity replace it; issuer, subject and audiences update in place", () => {
        const type = "azure-native:managedidentity:FederatedIdentityCredential";
        assert.deepEqual(
            replacing(type, ["federatedIdentityCredentialResourceName", "resourceName", "resourceGroupName", "issuer", "subject", "audiences[0]"]),
            ["federatedIdentityCredentialResourceName", "resourceName", "resourceGroupName"],
        );
    });

    it("RoleAssignment: scope, name and principal replace it; description and condition update", () => {
        const type = "azure-native:authorization:RoleAssignment";
        assert.deepEqual(
            replacing(type, ["scope", "roleAssignmentName", "principalId", "description", "condition", "principalType", "roleDefinitionId"]),
            ["scope", "roleAssignmentName", "principalId"],
        );
    });

    it("Application: only a template replaces it; the display name updates; created before the old one goes unless deleteBeforeReplace", () => {
        const type = "azuread:index/application:Application";
        assert.deepEqual(replacing(type, ["templateId", "displayName", "owners[0]", "description", "signInAudience"]), ["templateId"]);
        assert.equal(deletesFirst(type, ["templateId"], false), false);
        assert.equal(deletesFirst(type, ["templateId"], true), true);
    });

    it("ServicePrincipal: its client ID replaces it", () => {
        const type = "azuread:index/servicePrincipal:ServicePrincipal";
        assert.deepEqual(replacing(type, ["clientId", "owners[0]", "appRoleAssignmentRequired"]), ["clientId"]);
    });

    it("ApplicationFederatedIdentityCredential: application and display name replace it; issuer and subject update", () => {
        const type = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";
        assert.deepEqual(replacing(type, ["applicationId", "displayName", "issuer", "subject", "audiences[0]", "description"]), ["applicationId", "displayName"]);
        assert.equal(deletesFirst(type, ["displayName"], true), true, "the program sets deleteBeforeReplace on FICs");
    });

    it("Kubernetes objects: metadata.name and namespace replace every kind; Jobs also their pod template; Patch resources only name and namespace", () => {
        for (const type of ["kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccountPatch", "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"]) {
            assert.deepEqual(replacing(type, ["metadata.name", "metadata.namespace", 'metadata.annotations["azure.workload.identity/client-id"]', "metadata.labels.app"]), ["metadata.name", "metadata.namespace"], type);
        }
        assert.deepEqual(replacing("kubernetes:batch/v1:Job", ["spec.template.spec.containers[0].image", "spec.backoffLimit", "spec.ttlSecondsAfterFinished"]), ["spec.template.spec.containers[0].image"]);
        assert.deepEqual(replacing("kubernetes:apps/v1:Deployment", ["spec.selector.matchLabels.app", "spec.template.spec.containers[0].image", "spec.replicas"]), ["spec.selector.matchLabels.app"]);
        assert.deepEqual(replacing("kubernetes:batch/v1:JobPatch", ["spec.template.spec.containers[0].image", "metadata.name"]), ["metadata.name"]);
        assert.equal(deletesFirst("kubernetes:core/v1:ServiceAccount", ["metadata.namespace"], false), false, "moved to another namespace: created first");
        assert.equal(deletesFirst("kubernetes:batch/v1:Job", ["spec.template"], false), true, "same name and namespace: deleted first");
        assert.equal(ruleForPath("kubernetes:core/v1:ServiceAccount", "metadata", true)?.path, "metadata.name", "an unknown metadata may change the name");
    });

    it("Kubernetes provider: replaced when its kubeconfig selects another cluster or is unknown, not when only the login changes", () => {
        const a = KUBECONFIG("https://aks-a.hcp.westeurope.azmk8s.io:443", "azurecli");
        assert.equal(kubeconfigForcesReplacement(a, KUBECONFIG("https://aks-a.hcp.westeurope.azmk8s.io:443", "workloadidentity"), false), false);
        assert.equal(kubeconfigForcesReplacement(a, KUBECONFIG("https://aks-b.hcp.westeurope.azmk8s.io:443", "azurecli"), false), true);
        assert.equal(kubeconfigForcesReplacement(a, a, true), true);
    });
});
