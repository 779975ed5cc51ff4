/**
 * Generated stack configs for the scaling bench: `workloads` workloads, each on 2 clusters with 2
 * role assignments. Pure: the same count gives the same config.
 */
export function scaleConfig(workloads: number): Record<string, unknown> {
    const cluster = {
        systemPool: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 },
        adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"],
        private: true,
    };
    const sub = "/subscriptions/00000000-0000-0000-0000-000000000000";
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
            "aks-workload-identity:clusters": { blue: cluster, green: cluster },
            "aks-workload-identity:workloads": entries,
        },
    };
}
