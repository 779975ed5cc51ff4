import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { parseStackConfig } from "../stacks/config";
import { validateClusterArgs, workloadIdentityProblems, type WorkloadIdentityClusterArgs } from "../components";

/**
 * One rule set: a rule that both the stack config and the component args check says the same
 * thing in both, word for word after its path, because both call the one function in
 * components/rules.ts. Each case breaks one rule once in config and once in args.
 */

const TODAY = new Date("2026-12-01T12:00:00Z");
const GROUP = "3b9f1d2e-4c5a-4e6f-8a7b-9c0d1e2f3a4b";
const SCOPE = "/subscriptions/2f6a1c3e-8b4d-4e5f-9a6b-7c8d9e0f1a2b/resourceGroups/rg-data";
const VAULT = `${SCOPE}/providers/Microsoft.KeyVault/vaults/kv-data`;

const cluster = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["203.0.113.0/24"] };
/** A cluster binding as another language passes it (the provider is checked, not used, by the rules). */
const binding = { oidcIssuerUrl: "https://westeurope.oic.prod-aks.azure.com/t/c/", kubernetesProvider: new KubernetesProvider("k8s", { kubeconfig: "unused" }) };
const clusterArgs: WorkloadIdentityClusterArgs = { resourceGroupName: "rg", ...cluster };

/** The config's problems at `path`, without the path. */
function configSays(clusters: Record<string, unknown>, workloads: Record<string, unknown>, path: string): string[] {
    const result = parseStackConfig({ location: "westeurope", clusters, workloads }, "dev", { today: TODAY });
    assert.ok("problems" in result, "the config is refused");
    const prefix = `aks-workload-identity:${path}: `;
    return result.problems.map((p) => `${p.path}: ${p.message}`).filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
}

/** Every problem of a config, or none when it parses. */
function configSaysAll(clusters: Record<string, unknown>): string[] {
    const result = parseStackConfig({ location: "westeurope", clusters }, "dev", { today: TODAY });
    return "problems" in result ? result.problems.map((p) => `${p.path}: ${p.message}`) : [];
}

/** The component's problems at `path`, without the path. */
function argsSay(problems: readonly string[], path: string): string[] {
    return problems.filter((problem) => problem.startsWith(`${path}: `)).map((problem) => problem.slice(path.length + 2));
}

describe("one rule set for config and component args", () => {
    it("no admin", () => {
        const inConfig = configSays({ main: { ...cluster, adminGroupObjectIds: [] } }, {}, "clusters.main");
        const inArgs = argsSay(validateClusterArgs({ ...clusterArgs, adminGroupObjectIds: [] }), "admins");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("a user pool named system", () => {
        const pool = { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 };
        const inConfig = configSays({ main: { ...cluster, nodePools: { system: pool } } }, {}, "clusters.main.nodePools.system");
        const inArgs = argsSay(validateClusterArgs({ ...clusterArgs, nodePools: { system: pool } }), "nodePools.system");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("an API server open to the internet", () => {
        const open = { systemPool: cluster.systemPool, adminGroupObjectIds: cluster.adminGroupObjectIds };
        const openArgs: WorkloadIdentityClusterArgs = { resourceGroupName: "rg", ...open };
        const inConfig = configSays({ main: open }, {}, "clusters.main");
        const inArgs = argsSay(validateClusterArgs(openArgs), "apiServerAccess");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("a role assignment key the keyVault entry owns", () => {
        const inConfig = configSays({ main: cluster }, { api: { namespace: "api", roleAssignments: { "keyvault-secrets": { role: "Reader", scope: SCOPE } } } }, "workloads.api.roleAssignments.keyvault-secrets");
        const inArgs = argsSay(
            workloadIdentityProblems("api", { resourceGroupName: "rg", namespace: "api", roleAssignments: { "keyvault-secrets": { role: "Reader", scope: SCOPE } }, keyVault: { resourceId: VAULT, secrets: ["s"] } }),
            "roleAssignments.keyvault-secrets",
        );
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("more than 20 federated credentials on one identity", () => {
        const federations = Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`f${index}`, { issuer: `https://issuer${index}.example.com`, subject: "s" }]));
        const inConfig = configSays({ main: cluster }, { api: { clusters: [], federations } }, "workloads.api");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", federations }), "federatedCredentials");
        assert.equal(inArgs.length, 1, "the component refuses it once, in one message");
        assert.deepEqual(inConfig, inArgs);
    });

    it("a private cluster without its own subnet", () => {
        const inConfig = configSays({ main: { ...cluster, authorizedIpRanges: undefined, private: true } }, {}, "clusters.main.network");
        const inArgs = argsSay(validateClusterArgs({ resourceGroupName: "rg", systemPool: cluster.systemPool, adminGroupObjectIds: [GROUP], private: true }), "network");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("a workload on a cluster without a namespace", () => {
        const inConfig = configSays({ main: cluster }, { api: {} }, "workloads.api.namespace");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", clusters: { main: binding } }), "namespace");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("annotating an existing ServiceAccount that is also created", () => {
        const inConfig = configSays({ main: cluster }, { api: { namespace: "api", annotateExistingServiceAccount: true } }, "workloads.api.annotateExistingServiceAccount");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", namespace: "api", annotateExistingServiceAccount: true }), "annotateExistingServiceAccount");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("the quick-start without a secret", () => {
        const inConfig = configSays({ main: cluster }, { api: { namespace: "api", quickstart: true } }, "workloads.api.quickstart");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", namespace: "api", quickstart: true }), "quickstart");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("identity binding mode with an app registration", () => {
        const inConfig = configSays({ main: cluster }, { api: { namespace: "api", principal: "application", identityBinding: true } }, "workloads.api.identityBinding");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", namespace: "api", principal: "application", identityBinding: true }), "identityBinding");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("two grants of one role at one scope", () => {
        const roleAssignments = { read: { role: "Reader", scope: SCOPE }, again: { role: "reader", scope: SCOPE } };
        const inConfig = configSays({ main: cluster }, { api: { namespace: "api", roleAssignments } }, "workloads.api.roleAssignments.again");
        const inArgs = argsSay(workloadIdentityProblems("api", { resourceGroupName: "rg", namespace: "api", roleAssignments }), "roleAssignments.again");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("a Kubernetes version AKS no longer creates", () => {
        const inConfig = configSays({ main: { ...cluster, kubernetesVersion: "1.33" } }, {}, "clusters.main.kubernetesVersion");
        const inArgs = argsSay(validateClusterArgs({ ...clusterArgs, kubernetesVersion: "1.33" }, TODAY), "kubernetesVersion");
        assert.deepEqual(inArgs, [
            'Kubernetes version "1.33" is out of AKS support since 2026-07-31 (AKS release calendar): AKS creates no cluster on it. Allowed values are the minor versions AKS supports: 1.35 (until 2027-03-31), 1.36 (until 2027-06-30), 1.37 (until 2027-10-31). Under upgradeChannel stable it is only the version a new cluster starts on, and it is ignored afterwards: changing it does not touch a running cluster.',
        ]);
        assert.deepEqual(inConfig, inArgs);
    });

    it("a Kubernetes version AKS no longer creates, under a channel that leaves the version to the config", () => {
        const inConfig = configSays({ main: { ...cluster, kubernetesVersion: "1.33", upgradeChannel: "none" } }, {}, "clusters.main.kubernetesVersion");
        const inArgs = argsSay(validateClusterArgs({ ...clusterArgs, kubernetesVersion: "1.33", upgradeChannel: "none" }, TODAY), "kubernetesVersion");
        assert.deepEqual(inArgs, [
            'Kubernetes version "1.33" is out of AKS support since 2026-07-31 (AKS release calendar): AKS creates no cluster on it. Allowed values are the minor versions AKS supports: 1.35 (until 2027-03-31), 1.36 (until 2027-06-30), 1.37 (until 2027-10-31).',
        ]);
        assert.deepEqual(inConfig, inArgs);
    });

    it("the network of a cluster: a misaligned pod range, overlapping ranges, a DNS IP outside the service range", () => {
        const subnet = "/subscriptions/2f6a1c3e-8b4d-4e5f-9a6b-7c8d9e0f1a2b/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks";
        for (const network of [
            { vnetSubnetId: subnet, podCidr: "10.244.0.1/16" },
            { vnetSubnetId: subnet, podCidr: "10.0.0.0/8" },
            { vnetSubnetId: subnet, serviceCidr: "10.96.0.0/16", dnsServiceIp: "10.0.0.10" },
            { vnetSubnetId: subnet, privateDnsZone: "none" },
        ]) {
            const inConfig = [
                ...["vnetSubnetId", "podCidr", "serviceCidr", "dnsServiceIp", "privateDnsZone"].flatMap((field) =>
                    configSays({ main: { ...cluster, network } }, {}, `clusters.main.network.${field}`).map((message) => `${field}: ${message}`),
                ),
            ];
            const inArgs = validateClusterArgs({ ...clusterArgs, network })
                .filter((problem) => problem.startsWith("network."))
                .map((problem) => problem.slice("network.".length));
            assert.equal(inArgs.length, 1, `the component refuses ${JSON.stringify(network)} once`);
            assert.deepEqual(inConfig, inArgs);
        }
    });

    it("a namespace Kubernetes owns", () => {
        const inConfig = configSays({ main: { ...cluster, namespaces: ["kube-system"] } }, {}, "clusters.main.namespaces.0");
        const inArgs = argsSay(validateClusterArgs({ ...clusterArgs, namespaces: ["kube-system"] }), "namespaces");
        assert.equal(inArgs.length, 1, "the component refuses it once");
        assert.deepEqual(inConfig, inArgs);
    });

    it("leaves the default private DNS zone alone on a public cluster, as a stack file that omits it", () => {
        const subnet = "/subscriptions/2f6a1c3e-8b4d-4e5f-9a6b-7c8d9e0f1a2b/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks";
        assert.deepEqual(validateClusterArgs({ ...clusterArgs, network: { vnetSubnetId: subnet, privateDnsZone: "system" } }), []);
        assert.deepEqual(configSaysAll({ main: { ...cluster, network: { vnetSubnetId: subnet } } }), []);
    });
});

