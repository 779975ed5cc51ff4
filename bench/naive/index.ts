// The "what most people write" baseline for the bench: one file, the azure-native and kubernetes
// package roots, no components, values inline. Not part of the product; never deployed.
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import * as k8s from "@pulumi/kubernetes";

const config = new pulumi.Config();
const env = pulumi.getStack();
const location = "westeurope";

const rg = new azure.resources.ResourceGroup("rg", { resourceGroupName: `rg-naive-${env}`, location });

const cluster = new azure.containerservice.ManagedCluster("aks", {
    resourceGroupName: rg.name,
    resourceName: `aks-naive-${env}`,
    dnsPrefix: `aks-naive-${env}`,
    identity: { type: azure.containerservice.ResourceIdentityType.SystemAssigned },
    oidcIssuerProfile: { enabled: true },
    securityProfile: { workloadIdentity: { enabled: true } },
    aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [config.get("adminGroup") ?? "11111111-1111-1111-1111-111111111111"] },
    disableLocalAccounts: true,
    apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] },
    agentPoolProfiles: [{ name: "system", mode: "System", vmSize: "Standard_D2ds_v5", count: 1, minCount: 1, maxCount: 3, enableAutoScaling: true }],
});

const creds = azure.containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName: rg.name, resourceName: cluster.name });
const kubeconfig = creds.kubeconfigs.apply((k) => Buffer.from(k[0].value, "base64").toString());
const provider = new k8s.Provider("k8s", { kubeconfig });

for (const app of ["orders-api", "reports"]) {
    const id = new azure.managedidentity.UserAssignedIdentity(`${app}-id`, { resourceGroupName: rg.name, location });
    new azure.managedidentity.FederatedIdentityCredential(`${app}-fic`, {
        resourceGroupName: rg.name,
        resourceName: id.name,
        issuer: cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? ""),
        subject: `system:serviceaccount:orders:${app}`,
        audiences: ["api://AzureADTokenExchange"],
    });
    new azure.authorization.RoleAssignment(`${app}-kv`, {
        principalId: id.principalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
        scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data-dev/providers/Microsoft.KeyVault/vaults/kv-orders-dev",
    });
    new k8s.core.v1.ServiceAccount(
        `${app}-sa`,
        { metadata: { name: app, namespace: "orders", annotations: { "azure.workload.identity/client-id": id.clientId } } },
        { provider },
    );
}

export const clusterName = cluster.name;
