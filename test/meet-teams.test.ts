import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    PLACEHOLDER_TENANT_ID,
    flattenConfig,
    lastRun,
    placeholderClientId,
    placeholderIssuerUrl,
    placeholderPrincipalId,
    runStack,
} from "../testing/mock-runner";
import { childrenOf, named, ofType } from "../testing/graph";
import { roleAssignmentName } from "../components/names";
import { QUICKSTART_IMAGE, quickstartScript } from "../components/workload-identity";

const SUB = "00000000-0000-0000-0000-000000000000";
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-orders`;
const GROUP = "11111111-1111-1111-1111-111111111111";
const GET_CLUSTER = "azure-native:containerservice:getManagedCluster";

function config(clusters: Record<string, unknown>, workloads: Record<string, unknown>): Record<string, string> {
    return flattenConfig({ "azure-native:location": "westeurope", "aks-workload-identity:clusters": clusters, "aks-workload-identity:workloads": workloads });
}

const legacy = { existing: { name: "aks-legacy", resourceGroupName: "rg-legacy" } };
const created = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["203.0.113.0/24"] };

describe("an existing cluster", () => {
    it("is adopted as it is: nothing created for it, FICs use the looked-up issuer", async () => {
        const run = await runStack({ stack: "dev", config: config({ legacy }, { api: { namespace: "api" } }) });
        assert.equal(ofType(run.resources, "azure-native:containerservice:ManagedCluster").length, 0);
        const adopted = named(run.resources, "aks-workload-identity:index:AdoptedCluster", "legacy");
        assert.deepEqual(childrenOf(run.resources, adopted).map((r) => `${r.type}::${r.name}`), [
            "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness::legacy-rbac-ready",
            "pulumi:providers:kubernetes::legacy-k8s",
        ]);
        assert.equal(named(run.resources, "azure-native:managedidentity:FederatedIdentityCredential", "api-fic-legacy").inputs.issuer, placeholderIssuerUrl("westeurope", "aks-legacy"));
        assert.deepEqual(
            run.invokes.map((i) => [i.token, i.args]),
            [
                // Once: the component checks the preflight's answer instead of asking again.
                [GET_CLUSTER, { resourceGroupName: "rg-legacy", resourceName: "aks-legacy" }],
                ["azure-native:containerservice:listManagedClusterUserCredentials", { format: "exec", resourceGroupName: "rg-legacy", resourceName: "aks-legacy" }],
            ],
        );
        const sa = named(run.resources, "kubernetes:core/v1:ServiceAccount", "api-sa-legacy");
        assert.equal(sa.provider?.split("::").slice(0, -1).join("::"), named(run.resources, "pulumi:providers:kubernetes", "legacy-k8s").urn);
    });

    it("without the OIDC issuer or workload identity is refused with the az command, before anything is created", async () => {
        await assert.rejects(
            runStack({
                stack: "dev",
                config: config({ legacy, main: created }, { api: { namespace: "api", keyVault: { resourceId: VAULT, secrets: ["db-password"] } } }),
                invokes: {
                    [GET_CLUSTER]: () => ({ id: "x", name: "aks-legacy", oidcIssuerProfile: { enabled: false }, securityProfile: { workloadIdentity: { enabled: false } } }),
                },
            }),
            {
                message: [
                    "Cannot adopt the existing clusters as they are; nothing was created:",
                    "  - Existing cluster legacy (aks-legacy in rg-legacy) has the OIDC issuer and workload identity disabled, and this program does not enable it for you (it restarts the API server and changes the token issuer). Run: az aks update --resource-group rg-legacy --name aks-legacy --enable-oidc-issuer --enable-workload-identity",
                    "  - Existing cluster legacy (aks-legacy in rg-legacy) has no Key Vault secrets provider, which a workload on it needs. Run: az aks enable-addons --addons azure-keyvault-secrets-provider --enable-secret-rotation --resource-group rg-legacy --name aks-legacy",
                ].join("\n"),
            },
        );
        assert.deepEqual(lastRun()?.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
    });

    it("with the secrets provider but no rotation is refused with the command that turns rotation on", async () => {
        await assert.rejects(
            runStack({
                stack: "dev",
                config: config({ legacy }, { api: { namespace: "api", keyVault: { resourceId: VAULT, secrets: ["db-password"] } } }),
                invokes: {
                    [GET_CLUSTER]: () => ({
                        oidcIssuerProfile: { enabled: true, issuerURL: "https://westeurope.oic.prod-aks.azure.com/t/c/" },
                        securityProfile: { workloadIdentity: { enabled: true } },
                        addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "false" } } },
                    }),
                },
            }),
            {
                message:
                    "Cannot adopt the existing clusters as they are; nothing was created:\n  - Existing cluster legacy (aks-legacy in rg-legacy) runs the Key Vault secrets provider without secret rotation. Run: az aks addon update --addon azure-keyvault-secrets-provider --enable-secret-rotation --resource-group rg-legacy --name aks-legacy",
            },
        );
    });
});

describe("Key Vault secrets and the quick-start", () => {
    const workloads = {
        "orders-api": {
            namespace: "orders",
            createNamespace: true,
            keyVault: { resourceId: VAULT, secrets: ["db-password", "api-key"], certificates: ["tls"] },
            quickstart: true,
        },
        reports: { namespace: "orders" },
    };

    it("grants the vault roles, enables the add-on with rotation, and binds the objects in a SecretProviderClass", async () => {
        const run = await runStack({ stack: "dev", config: config({ main: created, spare: { ...created } }, { ...workloads, "orders-api": { ...workloads["orders-api"], clusters: ["main"] } }) });
        const principalId = placeholderPrincipalId("id-orders-api-dev");
        const secretsUser = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`;
        const certificateUser = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/db79e9a7-68ee-4b58-9aeb-b90e7c24fcba`;
        assert.deepEqual(named(run.resources, "azure-native:authorization:RoleAssignment", "orders-api-ra-keyvault-secrets").inputs, {
            scope: VAULT,
            principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: secretsUser,
            roleAssignmentName: roleAssignmentName(VAULT, principalId, secretsUser),
            description: "Key Vault Secrets User for workload orders-api (keyvault-secrets).",
        });
        assert.equal(named(run.resources, "azure-native:authorization:RoleAssignment", "orders-api-ra-keyvault-certificates").inputs.roleDefinitionId, certificateUser);

        // Only the cluster the Key Vault workload runs on gets the add-on.
        assert.deepEqual(named(run.resources, "azure-native:containerservice:ManagedCluster", "main-aks").inputs.addonProfiles, {
            azurepolicy: { enabled: true },
            azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
        });
        assert.deepEqual(named(run.resources, "azure-native:containerservice:ManagedCluster", "spare-aks").inputs.addonProfiles, { azurepolicy: { enabled: true } });

        const spc = named(run.resources, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "orders-api-spc-main");
        assert.deepEqual(spc.inputs, {
            apiVersion: "secrets-store.csi.x-k8s.io/v1",
            kind: "SecretProviderClass",
            metadata: { name: "orders-api-keyvault", namespace: "orders" },
            spec: {
                provider: "azure",
                parameters: {
                    usePodIdentity: "false",
                    clientID: placeholderClientId("id-orders-api-dev"),
                    tenantId: PLACEHOLDER_TENANT_ID,
                    keyvaultName: "kv-orders",
                    objects: "array:\n  - |\n    objectName: db-password\n    objectType: secret\n  - |\n    objectName: api-key\n    objectType: secret\n  - |\n    objectName: tls\n    objectType: cert\n",
                },
            },
        });
        assert.ok(spc.dependencies.includes(named(run.resources, "kubernetes:core/v1:Namespace", "main-ns-orders").urn), "the SecretProviderClass waits for its namespace");
        assert.equal(ofType(run.resources, "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass").length, 1);
    });

    it("runs the quick-start Job with the pod label and the workload's ServiceAccount, and says how to read its log", async () => {
        const run = await runStack({ stack: "dev", config: config({ main: created }, workloads) });
        const job = named(run.resources, "kubernetes:batch/v1:Job", "orders-api-quickstart-main");
        const spec = job.inputs.spec as {
            template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: { image: string; command: string[] }[] } };
        };
        assert.deepEqual((job.inputs.metadata as { name: string; namespace: string }).name, "orders-api-quickstart");
        assert.deepEqual(spec.template.metadata.labels, { app: "orders-api-quickstart", "azure.workload.identity/use": "true" });
        assert.equal(spec.template.spec.serviceAccountName, "orders-api");
        assert.equal(spec.template.spec.containers[0].image, QUICKSTART_IMAGE);
        assert.equal(spec.template.spec.containers[0].command[2], quickstartScript("kv-orders", "db-password"));
        assert.ok(job.dependencies.includes(named(run.resources, "kubernetes:core/v1:ServiceAccount", "orders-api-sa-main").urn), "the quick-start Job waits for its ServiceAccount");
        assert.deepEqual((run.outputs as { quickstart: unknown }).quickstart, {
            "orders-api": {
                main: "az aks get-credentials --resource-group rg-workload-identity-dev --name aks-main-dev --overwrite-existing && kubelogin convert-kubeconfig -l azurecli && kubectl logs --namespace orders job/orders-api-quickstart",
            },
        });
        assert.equal(ofType(run.resources, "kubernetes:batch/v1:Job").length, 1, "only the quick-start workload runs one");
        assert.equal(ofType(run.resources, "kubernetes:apps/v1:Deployment").length, 0, "no long-running quick-start that logs the secret");
    });
});
