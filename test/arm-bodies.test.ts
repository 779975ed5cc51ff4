import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PLACEHOLDER_SUBSCRIPTION_ID, runCommittedStack, runStack, type RecordedResource } from "../testing/mock-runner";
import { armRequestProblems, type ArmOperation } from "../testing/arm-schema";
import { unwrapSecret } from "../testing/graph";
import { WorkloadIdentity, WorkloadIdentityCluster } from "../components";

const AKS = "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/managedClusters.json";
const MSI = "msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json";
const RBAC = "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json";
const GROUPS = "resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.excerpt.json";
const GROUP_NAME = "../../../../../common-types/resource-management/v5/types.json#/parameters/ResourceGroupNameParameter";
const AKS_GROUP_NAME = "../../../../../../common-types/resource-management/v5/types.json#/parameters/ResourceGroupNameParameter";

/** The ARM PUT of each azure-native type the program registers (API versions of azure-native 3.28). */
const OPERATIONS: Readonly<Record<string, ArmOperation>> = {
    "azure-native:containerservice:ManagedCluster": {
        file: AKS,
        definition: "ManagedCluster",
        pathParameters: { resourceGroupName: AKS_GROUP_NAME, resourceName: "#/parameters/ResourceNameParameter" },
    },
    "azure-native:containerservice:AgentPool": {
        file: AKS,
        definition: "AgentPool",
        pathParameters: { resourceGroupName: AKS_GROUP_NAME, resourceName: "#/parameters/ResourceNameParameter", agentPoolName: "#/parameters/AgentPoolNameParameter" },
    },
    "azure-native:managedidentity:UserAssignedIdentity": {
        file: MSI,
        definition: "Identity",
        pathParameters: { resourceGroupName: GROUP_NAME, resourceName: undefined },
    },
    "azure-native:managedidentity:FederatedIdentityCredential": {
        file: MSI,
        definition: "FederatedIdentityCredential",
        pathParameters: { resourceGroupName: GROUP_NAME, resourceName: undefined, federatedIdentityCredentialResourceName: "#/parameters/FederatedIdentityCredentialResourceNameParameter" },
    },
    "azure-native:authorization:RoleAssignment": {
        file: RBAC,
        definition: "RoleAssignmentCreateParameters",
        pathParameters: { scope: undefined, roleAssignmentName: undefined },
    },
    "azure-native:resources:ResourceGroup": {
        file: GROUPS,
        definition: "ResourceGroup",
        pathParameters: { resourceGroupName: undefined },
    },
};

/**
 * Types whose body the vendored specs do not cover, and where they are checked instead. The
 * identity binding (a generic resource with the stable 2026-05-01 API) is checked against that
 * API's name and ID patterns by the policy pack (identity-binding-well-formed) and its tests.
 */
const CHECKED_ELSEWHERE: ReadonlySet<string> = new Set(["azure-native:resources:Resource"]);

function bodyProblems(resources: readonly RecordedResource[]): string[] {
    return resources
        .filter((r) => r.custom && r.type.startsWith("azure-native:") && !CHECKED_ELSEWHERE.has(r.type))
        .flatMap((r) => {
            const operation = OPERATIONS[r.type];
            if (operation === undefined) {
                return [`${r.type} ${r.name}: no spec mapped for this type (add it to OPERATIONS)`];
            }
            const inputs = Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, unwrapSecret(v)]));
            return armRequestProblems(operation, inputs).map((p) => `${r.type} ${r.name}: ${p}`);
        });
}

describe("the ARM request bodies the program sends match Azure's REST API specs", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`for every azure-native resource of the committed ${stack} stack`, async () => {
            const run = await runCommittedStack(stack);
            assert.deepEqual(bodyProblems(run.resources), []);
        });
    }

    it("with every cluster option on (private, own subnet, address ranges, Defender, pools, Key Vault)", async () => {
        const subnet = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks`;
        const run = await runStack({
            stack: "max",
            program: () => {
                const cluster = new WorkloadIdentityCluster("max", {
                    resourceGroupName: "rg-max",
                    location: "westeurope",
                    clusterName: "aks-max",
                    kubernetesVersion: "1.35",
                    sku: "Standard",
                    upgradeChannel: "patch",
                    systemPool: { vmSize: "Standard_D4ds_v5", minCount: 3, maxCount: 5, zones: ["1", "2", "3"], osDiskSizeGB: 128, taints: ["CriticalAddonsOnly=true:NoSchedule"] },
                    nodePools: { apps: { vmSize: "Standard_D8ds_v5", minCount: 0, maxCount: 10, labels: { tier: "apps" } }, sys2: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3, mode: "System" } },
                    adminGroupObjectIds: ["5f1d3c2b-8a9e-4b7c-9d6e-2f4a1b3c5d7e"],
                    clusterAdmins: { ops: { objectId: "6a2e4d3c-9b8f-4c7d-8e5f-3a5b2c4d6e8f", principalType: "Group" } },
                    private: true,
                    network: { vnetSubnetId: subnet, podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIp: "10.0.0.10", privateDnsZone: "none" },
                    keyVaultSecretsProvider: true,
                    defender: { logAnalyticsWorkspaceResourceId: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/law` },
                    namespaces: ["api"],
                    tags: { env: "max" },
                });
                const api = new WorkloadIdentity("api", {
                    resourceGroupName: "rg-max",
                    location: "westeurope",
                    namespace: "api",
                    clusters: { max: cluster.bindWorkload("api") },
                    federations: { ci: { issuer: "https://token.actions.githubusercontent.com", subject: "repo:o/r:environment:max" } },
                    keyVault: { resourceId: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-max`, secrets: ["s"], certificates: ["c"] },
                    tags: { env: "max" },
                });
                api.grants.assign("rbac", {
                    role: "Role Based Access Control Administrator",
                    scope: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/rg-max`,
                    condition: "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})))",
                });
            },
        });
        assert.deepEqual(bodyProblems(run.resources), []);
    });

    it("reports a misspelt property, a bad enum and a broken name pattern (the check can fail)", () => {
        assert.deepEqual(
            armRequestProblems(OPERATIONS["azure-native:containerservice:ManagedCluster"], {
                resourceGroupName: "rg",
                resourceName: "-bad-",
                location: "westeurope",
                networkProfile: { networkPlugin: "azure", dnsServiceIp: "10.0.0.10", outboundType: "sideways" },
                apiServerAccessProfile: { privateDnsZone: "system" },
            }),
            [
                'path resourceName: "-bad-" does not match ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$',
                "body.properties.networkProfile.dnsServiceIp: not a property in the spec (did you mean dnsServiceIP?)",
                'body.properties.networkProfile.outboundType: "sideways" is not one of "loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"',
                "body.properties.apiServerAccessProfile.privateDnsZone: not a property in the spec (did you mean privateDNSZone?)",
            ],
        );
    });
});
