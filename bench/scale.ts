/**
 * Generated stack configs for the scaling bench: `workloads` workloads, each on 2 clusters with 2
 * role assignments. Pure: the same count gives the same config.
 */
export function scaleConfig(workloads: number): Record<string, unknown> {
    const sub = "/subscriptions/00000000-0000-0000-0000-000000000000";
    // A private cluster needs a subnet of a virtual network the runner reaches (the config
    // requires network.vnetSubnetId with private: true); each cluster gets its own subnet.
    const cluster = (key: string): Record<string, unknown> => ({
        systemPool: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 },
        adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"],
        private: true,
        network: { vnetSubnetId: `${sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-scale/subnets/aks-${key}` },
    });
    const entries: Record<string, unknown> = {};
    for (let i = 0; i < workloads; i++) {
        entries[`app-${i}`] = {
            namespace: `ns-${i % 50}`,
            roleAssignments: {
                secrets: { role: "Key Vault Secrets User", scope: `${sub}/resourceGroups/rg-data-${i}/providers/Microsoft.KeyVault/vaults/kv-app-${i}` },
                blobs: { role: "Storage Blob Data Reader", scope: `${sub}/resourceGroups/rg-data-${i}/providers/Microsoft.Storage/storageAccounts/stapp${i}` },
            },
        };
    }
    return {
        config: {
            "azure-native:location": "westeurope",
            "aks-workload-identity:clusters": { blue: cluster("blue"), green: cluster("green") },
            "aks-workload-identity:workloads": entries,
        },
    };
}
