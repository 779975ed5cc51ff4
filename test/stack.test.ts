import assert from "node:assert/strict";
import { describe, it, before } from "node:test";
import * as pulumi from "@pulumi/pulumi";
// The runner installs the mocks before it loads the program.
import {
    PLACEHOLDER_SUBSCRIPTION_ID,
    PLACEHOLDER_TENANT_ID,
    flattenConfig,
    lastRun,
    placeholderClientId,
    placeholderIssuerUrl,
    placeholderPrincipalId,
    runCommittedStack,
    runStack,
    type RecordedResource,
    type RunResult,
} from "../testing/mock-runner";
import { byUrn, childrenOf, dependsTransitively, isSecretValue, named, ofType, unwrapSecret } from "../testing/graph";
import { roleAssignmentName } from "../components/names";

const T = {
    stack: "pulumi:pulumi:Stack",
    rg: "azure-native:resources:ResourceGroup",
    clusterComponent: "aks-workload-identity:index:WorkloadIdentityCluster",
    workloadComponent: "aks-workload-identity:index:WorkloadIdentity",
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    app: "azuread:index/application:Application",
    sp: "azuread:index/servicePrincipal:ServicePrincipal",
    appFic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    k8sProvider: "pulumi:providers:kubernetes",
    namespace: "kubernetes:core/v1:Namespace",
    sa: "kubernetes:core/v1:ServiceAccount",
    saPatch: "kubernetes:core/v1:ServiceAccountPatch",
    readiness: "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness",
    generic: "azure-native:resources:Resource",
} as const;

const SUB = PLACEHOLDER_SUBSCRIPTION_ID;
const ROLE_DEF = (guid: string) => `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

function typeCounts(resources: readonly RecordedResource[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of resources) {
        counts[r.type] = (counts[r.type] ?? 0) + 1;
    }
    return counts;
}

/** The issuer each cluster component's ManagedCluster got from the mocks, keyed by component URN. */
function issuersByClusterComponent(resources: readonly RecordedResource[]): Map<string, string> {
    const issuers = new Map<string, string>();
    for (const cluster of ofType(resources, T.cluster)) {
        const profile = cluster.state.oidcIssuerProfile as { issuerURL: string };
        issuers.set(cluster.parent as string, profile.issuerURL);
    }
    return issuers;
}

/**
 * The invariants every stack must hold, whatever its config: FIC issuer = own cluster's issuer,
 * subject and audience exact, ServiceAccount annotated with the client ID of the identity whose
 * FIC names it, FIC chains within an identity and none across identities.
 */
function assertTrustChain(run: RunResult): void {
    const { resources } = run;
    const issuers = issuersByClusterComponent(resources);
    const providerCluster = new Map<string, string>();
    for (const provider of ofType(resources, T.k8sProvider)) {
        providerCluster.set(provider.urn, provider.parent as string);
    }
    const fics = [...ofType(resources, T.fic), ...ofType(resources, T.appFic)];
    const accounts = [...ofType(resources, T.sa), ...ofType(resources, T.saPatch)];
    assert.ok(accounts.length > 0, "the stack has ServiceAccounts to check");
    for (const account of accounts) {
        const metadata = account.inputs.metadata as { name: string; namespace: string; annotations: Record<string, string> };
        const clusterComponent = providerCluster.get((account.provider as string).split("::").slice(0, -1).join("::"));
        assert.ok(clusterComponent, `${account.name} uses a cluster's provider`);
        const issuer = issuers.get(clusterComponent);
        const subject = `system:serviceaccount:${metadata.namespace}:${metadata.name}`;
        const matching = fics.filter((f) => f.inputs.issuer === issuer && f.inputs.subject === subject);
        const bindings = resources.filter((r) => r.parent === account.parent && r.type === T.generic && r.inputs.resourceType === "identityBindings");
        if (bindings.length > 0) {
            // Identity binding mode: AKS's own credential trusts it through the binding, none of ours does.
            assert.equal(matching.length, 0, `no FIC of ours trusts ${subject} in binding mode`);
            const clusterName = (resources.find((r) => r.parent === clusterComponent && r.type === T.cluster)?.inputs.resourceName ?? "") as string;
            assert.equal(bindings.filter((b) => b.inputs.parentResourcePath === `managedClusters/${clusterName}`).length, 1, `one binding on ${clusterName} for ${subject}`);
            continue;
        }
        assert.equal(matching.length, 1, `exactly one FIC trusts ${subject} from ${issuer}`);
        const fic = matching[0];
        assert.deepEqual(fic.inputs.audiences, ["api://AzureADTokenExchange"]);
        assert.equal(fic.deleteBeforeReplace, true, `${fic.name} is deleted before it is replaced`);
        // The principal that owns the FIC is the one whose client ID the ServiceAccount carries.
        const owner = resources.filter((r) => r.parent === fic.parent && (r.type === T.identity || r.type === T.app));
        assert.equal(owner.length, 1);
        assert.equal(metadata.annotations["azure.workload.identity/client-id"], owner[0].state.clientId);
        assert.equal(metadata.annotations["azure.workload.identity/tenant-id"], PLACEHOLDER_TENANT_ID);
        assert.equal(account.parent, fic.parent, "ServiceAccount and FIC belong to the same WorkloadIdentity");
    }
    for (const workload of ofType(resources, T.workloadComponent)) {
        const own = fics.filter((f) => f.parent === workload.urn);
        for (let i = 1; i < own.length; i++) {
            assert.deepEqual(
                own[i].dependencies.filter((d) => fics.some((f) => f.urn === d)),
                [own[i - 1].urn],
                `${own[i].name} waits for ${own[i - 1].name} and no other FIC`,
            );
        }
        if (own.length > 0) {
            assert.equal(own[0].dependencies.filter((d) => fics.some((f) => f.urn === d)).length, 0, `${own[0].name} starts its chain`);
        }
        for (const fic of own) {
            for (const other of fics.filter((f) => f.parent !== workload.urn)) {
                assert.equal(dependsTransitively(resources, fic, other), false, `${fic.name} does not wait for ${other.name}`);
            }
        }
    }
}

describe("dev stack: one cluster, managed identities", () => {
    let run: RunResult;
    before(async () => {
        run = await runCommittedStack("dev");
    });

    it("registers exactly these resources", () => {
        assert.deepEqual(typeCounts(run.resources), {
            [T.stack]: 1,
            [T.rg]: 1,
            [T.clusterComponent]: 1,
            [T.cluster]: 1,
            [T.k8sProvider]: 1,
            [T.namespace]: 1,
            [T.workloadComponent]: 2,
            [T.identity]: 2,
            [T.fic]: 2,
            [T.role]: 2,
            [T.sa]: 2,
            "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass": 1,
            "kubernetes:batch/v1:Job": 1,
            [T.readiness]: 1,
        });
    });

    it("creates the resource group with the CAF name and the configured tags", () => {
        const rg = named(run.resources, T.rg, "resource-group");
        assert.deepEqual(rg.inputs, { resourceGroupName: "rg-workload-identity-dev", location: "westeurope", tags: { environment: "dev", team: "platform" } });
        assert.equal(byUrn(run.resources, rg.parent as string).type, T.stack);
    });

    it("declares the cluster with the OIDC issuer, workload identity and the security baseline", () => {
        const cluster = named(run.resources, T.cluster, "main-aks");
        assert.deepEqual(cluster.inputs, {
            resourceGroupName: "rg-workload-identity-dev",
            location: "westeurope",
            resourceName: "aks-main-dev",
            dnsPrefix: "aks-main-dev",
            kubernetesVersion: "1.36",
            sku: { name: "Base", tier: "Free" },
            identity: { type: "SystemAssigned" },
            enableRBAC: true,
            disableLocalAccounts: true,
            aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: ["11111111-1111-1111-1111-111111111111"] },
            oidcIssuerProfile: { enabled: true },
            addonProfiles: {
                azurepolicy: { enabled: true },
                // orders-api mounts Key Vault secrets on this cluster.
                azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
            },
            securityProfile: { workloadIdentity: { enabled: true }, imageCleaner: { enabled: true, intervalHours: 168 } },
            autoUpgradeProfile: { upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" },
            apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] },
            networkProfile: {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane: "cilium",
                networkPolicy: "cilium",
                loadBalancerSku: "standard",
                // Defaults the azure-native SDK fills in.
                dnsServiceIP: "10.0.0.10",
                outboundType: "loadBalancer",
                podCidr: "10.244.0.0/16",
                serviceCidr: "10.0.0.0/16",
            },
            agentPoolProfiles: [
                {
                    name: "system",
                    mode: "System",
                    osType: "Linux",
                    vmSize: "Standard_D2ds_v5",
                    enableAutoScaling: true,
                    minCount: 1,
                    maxCount: 3,
                    count: 1,
                    type: "VirtualMachineScaleSets",
                },
            ],
            tags: { environment: "dev", team: "platform" },
        });
        assert.deepEqual(cluster.ignoreChanges, ["agentPoolProfiles[0].count", "kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]);
        assert.equal(cluster.protect, true, "clusters are protected in every environment unless protect: false");
        assert.equal(byUrn(run.resources, cluster.parent as string).name, "main");
    });

    it("builds the Kubernetes provider from the user kubeconfig with kubelogin (azurecli), as a secret", () => {
        const provider = named(run.resources, T.k8sProvider, "main-k8s");
        assert.ok(isSecretValue(provider.inputs.kubeconfig), "the kubeconfig is sent as a secret");
        const kubeconfig = unwrapSecret(provider.inputs.kubeconfig) as string;
        assert.match(kubeconfig, /args:\n {10}- get-token\n {10}- --login\n {10}- azurecli\n {10}- --server-id\n {10}- 6dae42f8-4368-4678-94ff-3960e28e3630\n/);
        assert.doesNotMatch(kubeconfig, /devicecode|client-certificate|token:/);
        assert.deepEqual(run.invokes, [
            {
                token: "azure-native:containerservice:listManagedClusterUserCredentials",
                args: { format: "exec", resourceGroupName: "rg-workload-identity-dev", resourceName: "aks-main-dev" },
            },
        ]);
    });

    it("federates each identity with the cluster's issuer and annotates its ServiceAccount", () => {
        const issuer = placeholderIssuerUrl("westeurope", "aks-main-dev");
        const fic = named(run.resources, T.fic, "orders-api-fic-main");
        assert.deepEqual(fic.inputs, {
            resourceGroupName: "rg-workload-identity-dev",
            resourceName: "id-orders-api-dev",
            federatedIdentityCredentialResourceName: "fic-main",
            issuer,
            subject: "system:serviceaccount:orders:orders-api",
            audiences: ["api://AzureADTokenExchange"],
        });
        const sa = named(run.resources, T.sa, "orders-api-sa-main");
        assert.deepEqual(sa.inputs, {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: {
                name: "orders-api",
                namespace: "orders",
                annotations: {
                    "azure.workload.identity/client-id": placeholderClientId("id-orders-api-dev"),
                    "azure.workload.identity/tenant-id": PLACEHOLDER_TENANT_ID,
                },
            },
        });
        const reports = named(run.resources, T.sa, "reports-sa-main");
        assert.deepEqual(reports.inputs.metadata, {
            name: "reports-job",
            namespace: "orders",
            annotations: {
                "azure.workload.identity/client-id": placeholderClientId("id-reports-dev"),
                "azure.workload.identity/tenant-id": PLACEHOLDER_TENANT_ID,
                "azure.workload.identity/service-account-token-expiration": "7200",
            },
        });
        assert.equal(named(run.resources, T.fic, "reports-fic-main").inputs.subject, "system:serviceaccount:orders:reports-job");
        assertTrustChain(run);
    });

    it("creates the shared namespace once, and the ServiceAccount waits for it", () => {
        const namespace = named(run.resources, T.namespace, "main-ns-orders");
        assert.deepEqual(namespace.inputs, { apiVersion: "v1", kind: "Namespace", metadata: { name: "orders" } });
        assert.equal(byUrn(run.resources, namespace.parent as string).type, T.clusterComponent);
        // The namespace belongs to the cluster: every ServiceAccount in it waits for it, whichever
        // workload declared it (issue 12 #5: removing that workload no longer deletes it).
        assert.ok(named(run.resources, T.sa, "orders-api-sa-main").dependencies.includes(namespace.urn), "orders-api's ServiceAccount waits for the cluster's namespace");
        assert.ok(named(run.resources, T.sa, "reports-sa-main").dependencies.includes(namespace.urn), "reports' ServiceAccount waits for the cluster's namespace");
    });

    it("assigns roles with deterministic names and principalType ServicePrincipal", () => {
        const scope = `/subscriptions/${SUB}/resourceGroups/rg-data-dev/providers/Microsoft.KeyVault/vaults/kv-orders-dev`;
        const principalId = placeholderPrincipalId("id-orders-api-dev");
        const assignment = named(run.resources, T.role, "orders-api-ra-keyvault-secrets");
        assert.deepEqual(assignment.inputs, {
            scope,
            principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: ROLE_DEF(KV_SECRETS_USER),
            roleAssignmentName: roleAssignmentName(scope, principalId, ROLE_DEF(KV_SECRETS_USER)),
            description: "Key Vault Secrets User for workload orders-api (keyvault-secrets).",
        });
        assert.equal(named(run.resources, T.role, "reports-ra-blobs").inputs.roleDefinitionId, ROLE_DEF("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"));
    });

    it("parents every child to its component", () => {
        const workload = named(run.resources, T.workloadComponent, "orders-api");
        assert.deepEqual(
            childrenOf(run.resources, workload).map((r) => `${r.type}::${r.name}`).sort(),
            [
                `${T.identity}::orders-api-id`,
                `${T.fic}::orders-api-fic-main`,
                `${T.sa}::orders-api-sa-main`,
                `${T.role}::orders-api-ra-keyvault-secrets`,
                "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass::orders-api-spc-main",
                "kubernetes:batch/v1:Job::orders-api-quickstart-main",
            ].sort(),
        );
        const cluster = named(run.resources, T.clusterComponent, "main");
        assert.deepEqual(
            childrenOf(run.resources, cluster).map((r) => `${r.type}::${r.name}`).sort(),
            [`${T.cluster}::main-aks`, `${T.k8sProvider}::main-k8s`, `${T.namespace}::main-ns-orders`, `${T.readiness}::main-rbac-ready`].sort(),
        );
    });

    it("exports the stack outputs with the kubeconfigs", () => {
        const outputs = run.outputs as {
            clusters: Record<string, unknown>;
            workloads: Record<string, unknown>;
            kubeconfigs: Record<string, string>;
        };
        assert.deepEqual(outputs.clusters, {
            main: {
                name: "aks-main-dev",
                resourceId: `/subscriptions/${SUB}/resourceGroups/rg-workload-identity-dev/providers/Microsoft.ContainerService/managedClusters/aks-main-dev`,
                oidcIssuerUrl: placeholderIssuerUrl("westeurope", "aks-main-dev"),
            },
        });
        assert.deepEqual(outputs.workloads["orders-api"], {
            clientId: placeholderClientId("id-orders-api-dev"),
            principalId: placeholderPrincipalId("id-orders-api-dev"),
            tenantId: PLACEHOLDER_TENANT_ID,
            namespace: "orders",
            serviceAccount: "orders-api",
            podLabels: { "azure.workload.identity/use": "true" },
            podAnnotations: {},
            serviceAccountAnnotations: {
                "azure.workload.identity/client-id": placeholderClientId("id-orders-api-dev"),
                "azure.workload.identity/tenant-id": PLACEHOLDER_TENANT_ID,
            },
        });
        assert.deepEqual(Object.keys(outputs.kubeconfigs), ["main"]);
    });
});

describe("prod stack: blue and green clusters, an application principal, a chart-owned ServiceAccount", () => {
    let run: RunResult;
    before(async () => {
        run = await runCommittedStack("prod");
    });

    it("registers exactly these resources", () => {
        assert.deepEqual(typeCounts(run.resources), {
            [T.stack]: 1,
            [T.clusterComponent]: 2,
            [T.cluster]: 2,
            [T.pool]: 2,
            [T.role]: 2 + 5,
            [T.k8sProvider]: 2,
            [T.namespace]: 6,
            [T.workloadComponent]: 4,
            [T.identity]: 3,
            [T.fic]: 4,
            [T.app]: 1,
            [T.sp]: 1,
            [T.appFic]: 2,
            [T.sa]: 6,
            [T.readiness]: 2,
            // reports in identity binding mode: one binding and its RBAC per cluster, no FIC.
            [T.generic]: 2,
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": 2,
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": 2,
        });
    });

    it("deploys into the existing resource group and protects the clusters", () => {
        assert.equal(ofType(run.resources, T.rg).length, 0);
        for (const cluster of ofType(run.resources, T.cluster)) {
            assert.equal(cluster.inputs.resourceGroupName, "rg-workload-identity-prod");
            assert.equal(cluster.protect, true, `${cluster.name} is protected`);
            assert.deepEqual(cluster.inputs.sku, { name: "Base", tier: "Standard" });
            // The patch channel never changes the minor version: a minor edit in config is a real
            // update, so kubernetesVersion is not ignored (issue 12 #2).
            assert.deepEqual(cluster.ignoreChanges, ["agentPoolProfiles[0].count"]);
            assert.deepEqual((cluster.inputs.agentPoolProfiles as { availabilityZones: string[] }[])[0].availabilityZones, ["1", "2", "3"]);
        }
    });

    it("declares extra pools as AgentPool resources that are deleted before replacement", () => {
        const pool = named(run.resources, T.pool, "blue-pool-apps");
        assert.deepEqual(pool.inputs, {
            resourceGroupName: "rg-workload-identity-prod",
            resourceName: "aks-blue-prod",
            agentPoolName: "apps",
            mode: "User",
            osType: "Linux",
            vmSize: "Standard_D8ds_v5",
            enableAutoScaling: true,
            minCount: 3,
            maxCount: 12,
            count: 3,
            availabilityZones: ["1", "2", "3"],
            type: "VirtualMachineScaleSets",
            tags: { environment: "prod", team: "platform", criticality: "high" },
        });
        assert.equal(pool.deleteBeforeReplace, true);
        assert.deepEqual(pool.ignoreChanges, ["count"]);
        assert.equal(pool.parent, named(run.resources, T.clusterComponent, "blue").urn);
    });

    it("grants the configured cluster admins with their exact principalType, and Kubernetes objects wait for it", () => {
        const cluster = named(run.resources, T.cluster, "blue-aks");
        const scope = `/subscriptions/${SUB}/resourceGroups/rg-workload-identity-prod/providers/Microsoft.ContainerService/managedClusters/aks-blue-prod`;
        const admin = named(run.resources, T.role, "blue-admin-pipeline");
        assert.deepEqual(admin.inputs, {
            scope,
            principalId: "55555555-5555-5555-5555-555555555555",
            principalType: "ServicePrincipal",
            roleDefinitionId: ROLE_DEF(AKS_RBAC_CLUSTER_ADMIN),
            roleAssignmentName: roleAssignmentName(scope, "55555555-5555-5555-5555-555555555555", ROLE_DEF(AKS_RBAC_CLUSTER_ADMIN)),
            description: 'Cluster admin "pipeline" of blue, declared in clusterAdmins.',
        });
        assert.ok(admin.dependencies.includes(cluster.urn), "the admin grant waits for the cluster");
        const provider = named(run.resources, T.k8sProvider, "blue-k8s");
        assert.ok(provider.dependencies.includes(admin.urn), "the provider waits for the admin grant");
        for (const r of [...ofType(run.resources, T.namespace), ...ofType(run.resources, T.sa), ...ofType(run.resources, T.saPatch)]) {
            const clusterKey = (r.provider as string).includes("blue-k8s") ? "blue" : "green";
            assert.ok(r.dependencies.includes(named(run.resources, T.role, `${clusterKey}-admin-pipeline`).urn), `${r.name} waits for the ${clusterKey} admin grant`);
        }
    });

    it("federates every workload to both clusters, each FIC with its own cluster's issuer", () => {
        const blue = placeholderIssuerUrl("westeurope", "aks-blue-prod");
        const green = placeholderIssuerUrl("westeurope", "aks-green-prod");
        assert.notEqual(blue, green);
        assert.equal(named(run.resources, T.fic, "orders-api-fic-blue").inputs.issuer, blue);
        assert.equal(named(run.resources, T.fic, "orders-api-fic-green").inputs.issuer, green);
        assert.equal(named(run.resources, T.appFic, "payments-fic-blue").inputs.issuer, blue);
        assert.equal(named(run.resources, T.appFic, "payments-fic-green").inputs.issuer, green);
        assertTrustChain(run);
    });

    it("chains the two FICs of one identity and leaves identities parallel", () => {
        const first = named(run.resources, T.fic, "orders-api-fic-blue");
        const second = named(run.resources, T.fic, "orders-api-fic-green");
        assert.ok(second.dependencies.includes(first.urn), "the second FIC of the identity waits for the first");
        assert.equal(first.dependencies.includes(second.urn), false);
        const ingest = named(run.resources, T.fic, "ingest-fic-blue");
        assert.equal(dependsTransitively(run.resources, ingest, second), false);
        assert.equal(dependsTransitively(run.resources, second, ingest), false);
    });

    it("uses an app registration and service principal for principal: application, with no secret", () => {
        const app = named(run.resources, T.app, "payments-app");
        assert.deepEqual(app.inputs, {
            displayName: "app-payments-prod",
            description: "Workload identity payments (federated, no secrets).",
            signInAudience: "AzureADMyOrg",
            owners: ["55555555-5555-5555-5555-555555555555"],
        });
        const sp = named(run.resources, T.sp, "payments-sp");
        assert.deepEqual(sp.inputs, { clientId: app.state.clientId, owners: ["55555555-5555-5555-5555-555555555555"] });
        const fic = named(run.resources, T.appFic, "payments-fic-blue");
        assert.deepEqual(fic.inputs, {
            applicationId: `/applications/${app.state.objectId as string}`,
            displayName: "fic-blue",
            description: "Cluster blue: system:serviceaccount:payments:payments",
            issuer: placeholderIssuerUrl("westeurope", "aks-blue-prod"),
            subject: "system:serviceaccount:payments:payments",
            audiences: ["api://AzureADTokenExchange"],
        });
        const assignment = named(run.resources, T.role, "payments-ra-secrets");
        assert.equal(assignment.inputs.principalId, sp.state.objectId);
        assert.equal(assignment.inputs.principalType, "ServicePrincipal");
        assert.equal(assignment.inputs.roleDefinitionId, ROLE_DEF(KV_SECRETS_USER));
        assert.equal(
            run.resources.some((r) => /Password|Certificate/.test(r.type)),
            false,
            "no password or certificate resource anywhere",
        );
    });

    it("creates no Kubernetes object for createServiceAccount: false and outputs the annotations the chart takes", () => {
        assert.equal(ofType(run.resources, T.saPatch).length, 0);
        assert.equal(ofType(run.resources, T.sa).some((sa) => (sa.inputs.metadata as { name: string }).name === "ingest-chart"), false);
        assert.equal(ofType(run.resources, T.namespace).some((n) => (n.inputs.metadata as { name: string }).name === "ingest"), false);
        const ingest = (run.outputs as { workloads: Record<string, { serviceAccountAnnotations: unknown }> }).workloads.ingest;
        assert.deepEqual(ingest.serviceAccountAnnotations, {
            "azure.workload.identity/client-id": placeholderClientId("id-ingest-prod"),
            "azure.workload.identity/tenant-id": PLACEHOLDER_TENANT_ID,
        });
    });

    it("writes the same kubeconfig whoever runs it: azurecli unless AAD_LOGIN_METHOD overrides it at run time", () => {
        const kubeconfig = unwrapSecret(named(run.resources, T.k8sProvider, "green-k8s").inputs.kubeconfig) as string;
        assert.match(kubeconfig, /- --login\n {10}- azurecli\n/);
        assert.doesNotMatch(kubeconfig, /workloadidentity|AAD_LOGIN_METHOD/);
    });
});

describe("who runs the program does not change what it registers", () => {
    it("registers identical inputs for a laptop and a pipeline environment", async () => {
        const saved = { ...process.env };
        const pipelineEnv = {
            AAD_LOGIN_METHOD: "workloadidentity",
            AZURE_CLIENT_ID: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            AZURE_TENANT_ID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            AZURE_FEDERATED_TOKEN_FILE: "/tmp/token",
            ARM_USE_OIDC: "true",
            GITHUB_ACTIONS: "true",
            CI: "true",
        };
        const inputsOf = (r: RunResult) => r.resources.map((x) => [x.urn, x.inputs]);
        let laptop: RunResult;
        let pipeline: RunResult;
        try {
            for (const name of Object.keys(pipelineEnv)) {
                delete process.env[name];
            }
            laptop = await runCommittedStack("staging");
            Object.assign(process.env, pipelineEnv);
            pipeline = await runCommittedStack("staging");
        } finally {
            process.env = saved;
        }
        assert.deepEqual(inputsOf(pipeline), inputsOf(laptop));
    });
});

describe("a stack with an application principal only", () => {
    it("registers the app, its service principal and a chain of app FICs", async () => {
        const run = await runStack({
            stack: "apptest",
            config: flattenConfig({
                "azure-native:location": "northeurope",
                "aks-workload-identity:clusters": {
                    a: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true, network: { vnetSubnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks-a" }, adminGroupObjectIds: ["66666666-6666-6666-6666-666666666666"], upgradeChannel: "none" },
                    b: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true, network: { vnetSubnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks-b" }, adminGroupObjectIds: ["66666666-6666-6666-6666-666666666666"], upgradeChannel: "none" },
                    c: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true, network: { vnetSubnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks-c" }, adminGroupObjectIds: ["66666666-6666-6666-6666-666666666666"], upgradeChannel: "none" },
                },
                "aks-workload-identity:applicationOwners": ["7d3c2f9e-5b1a-4c8d-9e2f-1a3b5c7d9e0f"],
                "aks-workload-identity:workloads": { web: { namespace: "web", principal: "application" } },
            }),
        });
        const fics = ofType(run.resources, T.appFic);
        assert.deepEqual(fics.map((f) => f.name), ["web-fic-a", "web-fic-b", "web-fic-c"]);
        assert.ok(fics[1].dependencies.includes(fics[0].urn), "the second FIC of the app registration waits for the first");
        assert.ok(fics[2].dependencies.includes(fics[1].urn), "the third FIC of the app registration waits for the second");
        assert.equal(fics[2].dependencies.includes(fics[0].urn), false);
        assert.equal(ofType(run.resources, T.identity).length, 0);
        const cluster = named(run.resources, T.cluster, "a-aks");
        assert.deepEqual(cluster.inputs.apiServerAccessProfile, { enablePrivateCluster: true, privateDNSZone: "system" });
        // Without an upgrade channel the version is ours to manage: only the count is ignored.
        assert.deepEqual(cluster.ignoreChanges, ["agentPoolProfiles[0].count"]);
        assertTrustChain(run);
    });
});

describe("an invalid config", () => {
    it("fails with every problem and registers nothing but the stack", async () => {
        await assert.rejects(
            runStack({
                stack: "broken",
                config: flattenConfig({
                    "azure-native:location": "westeurope",
                    "aks-workload-identity:clusters": {
                        main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 3, maxCount: 1 }, adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"], authorizedIpRanges: ["203.0.113.0/24"] },
                    },
                    "aks-workload-identity:workloads": { api: { namespace: "kube-system", clusters: ["mian"] } },
                }),
            }),
            (error: Error) => {
                assert.equal(error.name, "StackConfigError");
                assert.ok(pulumi.RunError.isInstance(error), "a RunError, which the Pulumi host prints without a stack trace");
                assert.equal(
                    error.message,
                    [
                        "Invalid stack config (3 problems); nothing was created:",
                        '  - aks-workload-identity:workloads.api.namespace: namespace "kube-system" is refused: AKS excludes it from the workload identity webhook, so pods there never get a token.',
                        "  - aks-workload-identity:clusters.main.systemPool: minCount 3 is greater than maxCount 1.",
                        '  - aks-workload-identity:workloads.api.clusters: unknown cluster "mian". Did you mean "main"? Allowed values are: main.',
                    ].join("\n"),
                );
                return true;
            },
        );
        assert.deepEqual(lastRun()?.resources.map((r) => r.type), [T.stack]);
    });
});

describe("federations with issuers outside the stack", () => {
    it("adds each federation to the identity's FIC chain, and needs no cluster", async () => {
        const run = await runStack({
            stack: "fed",
            config: flattenConfig({
                "azure-native:location": "westeurope",
                "aks-workload-identity:clusters": {
                    main: { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, private: true, network: { vnetSubnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks" }, adminGroupObjectIds: ["66666666-6666-6666-6666-666666666666"] },
                },
                "aks-workload-identity:workloads": {
                    api: {
                        namespace: "api",
                        federations: {
                            deploy: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:example/api:environment:fed" },
                            "gov-cloud": {
                                issuer: "https://issuer.example.com/",
                                subject: "svc",
                                audiences: ["api://AzureADTokenExchangeUSGov"],
                                allowCustomAudience: true,
                            },
                        },
                    },
                    pipeline: {
                        clusters: [],
                        federations: { pr: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:example/api:pull_request" } },
                    },
                },
            }),
        });
        const fics = ofType(run.resources, T.fic).filter((f) => f.parent === named(run.resources, T.workloadComponent, "api").urn);
        assert.deepEqual(fics.map((f) => f.name), ["api-fic-main", "api-fic-deploy", "api-fic-gov-cloud"]);
        assert.deepEqual(named(run.resources, T.fic, "api-fic-deploy").inputs, {
            resourceGroupName: "rg-workload-identity-fed",
            resourceName: "id-api-fed",
            federatedIdentityCredentialResourceName: "fic-deploy",
            issuer: "https://token.actions.githubusercontent.com",
            subject: "repo:example/api:environment:fed",
            audiences: ["api://AzureADTokenExchange"],
        });
        assert.deepEqual(named(run.resources, T.fic, "api-fic-gov-cloud").inputs.audiences, ["api://AzureADTokenExchangeUSGov"]);
        assert.ok(fics[1].dependencies.includes(fics[0].urn), "the second FIC of the identity waits for the first");
        assert.ok(fics[2].dependencies.includes(fics[1].urn), "the third FIC of the identity waits for the second");
        assertTrustChain(run);

        const pipeline = named(run.resources, T.workloadComponent, "pipeline");
        assert.deepEqual(
            childrenOf(run.resources, pipeline).map((r) => `${r.type}::${r.name}`),
            [`${T.identity}::pipeline-id`, `${T.fic}::pipeline-fic-pr`],
        );
        const outputs = run.outputs as { workloads: Record<string, Record<string, unknown>> };
        assert.equal(outputs.workloads.pipeline.namespace, undefined);
        assert.equal(outputs.workloads.pipeline.serviceAccount, undefined);
    });
});
