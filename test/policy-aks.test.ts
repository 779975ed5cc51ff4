import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    aksApiServerRestricted,
    aksAzurePolicyAddon,
    aksDefender,
    aksEntraIdAzureRbac,
    aksImageCleaner,
    aksKeyVaultSecretsProvider,
    aksLocalAccountsDisabled,
    aksNetworkPolicy,
    aksOidcIssuer,
    aksPaidTierInProduction,
    aksPolicies,
    aksUpgradeChannels,
    aksWorkloadIdentity,
} from "../policy/aks";
import { UNKNOWN_AT_PREVIEW, resourceArgs, violationsOf } from "../policy/testing";
import { TYPES } from "../policy/resource-types";

const CLUSTER: string = TYPES.managedCluster;
const NAME = "main-aks";

/** A cluster that meets every rule, mandatory and advisory. */
function goodCluster(): Record<string, unknown> {
    return {
        resourceGroupName: "rg-apps",
        resourceName: "aks-main-dev",
        sku: { name: "Base", tier: "Standard" },
        enableRBAC: true,
        disableLocalAccounts: true,
        aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: ["11111111-1111-1111-1111-111111111111"] },
        oidcIssuerProfile: { enabled: true },
        securityProfile: {
            workloadIdentity: { enabled: true },
            defender: {
                securityMonitoring: { enabled: true },
                logAnalyticsWorkspaceResourceId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops",
            },
            imageCleaner: { enabled: true, intervalHours: 168 },
        },
        autoUpgradeProfile: { upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" },
        apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24"] },
        networkProfile: { networkPlugin: "azure", networkPluginMode: "overlay", networkDataplane: "cilium", networkPolicy: "cilium" },
        addonProfiles: {
            azurepolicy: { enabled: true },
            azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true" } },
        },
    };
}

/** The good cluster with values set at dotted paths; `undefined` removes the property. */
function cluster(changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const props = goodCluster();
    for (const [path, value] of Object.entries(changes)) {
        const keys = path.split(".");
        const last = keys.pop() as string;
        let target = props;
        for (const key of keys) {
            target = target[key] as Record<string, unknown>;
        }
        if (value === undefined) {
            delete target[last];
        } else {
            target[last] = value;
        }
    }
    return props;
}

function check(policy: (typeof aksPolicies)[number], props: Record<string, unknown>, stack = "dev", config: object = {}): string[] {
    return violationsOf(policy, resourceArgs({ type: CLUSTER, name: NAME, props, stack, config }));
}

describe("AKS policies: the good cluster", () => {
    it("passes every AKS policy, in dev and in prod", () => {
        for (const policy of aksPolicies) {
            assert.deepEqual(check(policy, goodCluster(), "dev"), [], policy.name);
            assert.deepEqual(check(policy, goodCluster(), "prod"), [], policy.name);
        }
    });

    it("ignores resources of other types", () => {
        for (const policy of aksPolicies) {
            assert.deepEqual(violationsOf(policy, resourceArgs({ type: "azure-native:resources:ResourceGroup", name: "rg", props: {} })), [], policy.name);
        }
    });

    it("has the documented names and enforcement levels", () => {
        assert.deepEqual(
            aksPolicies.map((p) => [p.name, p.enforcementLevel]),
            [
                ["aks-oidc-issuer", "mandatory"],
                ["aks-workload-identity", "mandatory"],
                ["aks-local-accounts-disabled", "mandatory"],
                ["aks-entra-id-azure-rbac", "mandatory"],
                ["aks-api-server-restricted", "mandatory"],
                ["aks-network-policy", "mandatory"],
                ["aks-upgrade-channels", "mandatory"],
                ["aks-azure-policy-addon", "advisory"],
                ["aks-key-vault-secrets-provider", "advisory"],
                ["aks-defender", "advisory"],
                ["aks-image-cleaner", "advisory"],
                ["aks-paid-tier-in-production", "advisory"],
            ],
        );
    });
});

describe("aks-oidc-issuer", () => {
    it("fires when the issuer is off or missing", () => {
        assert.deepEqual(check(aksOidcIssuer, cluster({ "oidcIssuerProfile.enabled": false })), [
            'ManagedCluster "main-aks": the OIDC issuer is not enabled (oidcIssuerProfile.enabled is false). Set oidcIssuerProfile: { enabled: true }; without it no federated credential can trust this cluster\'s ServiceAccount tokens.',
        ]);
        assert.deepEqual(check(aksOidcIssuer, cluster({ oidcIssuerProfile: undefined })), [
            'ManagedCluster "main-aks": the OIDC issuer is not enabled (oidcIssuerProfile.enabled is not set). Set oidcIssuerProfile: { enabled: true }; without it no federated credential can trust this cluster\'s ServiceAccount tokens.',
        ]);
    });

    it("does not judge a value unknown at preview", () => {
        assert.deepEqual(check(aksOidcIssuer, cluster({ "oidcIssuerProfile.enabled": UNKNOWN_AT_PREVIEW })), []);
        assert.deepEqual(check(aksOidcIssuer, cluster({ oidcIssuerProfile: UNKNOWN_AT_PREVIEW })), []);
    });
});

describe("aks-workload-identity", () => {
    it("fires when the webhook is off", () => {
        assert.deepEqual(check(aksWorkloadIdentity, cluster({ "securityProfile.workloadIdentity.enabled": false })), [
            'ManagedCluster "main-aks": workload identity is not enabled (securityProfile.workloadIdentity.enabled is false). Set securityProfile: { workloadIdentity: { enabled: true } }; without the webhook pods get no federated token.',
        ]);
    });

    it("fires when the security profile is missing", () => {
        assert.deepEqual(check(aksWorkloadIdentity, cluster({ securityProfile: undefined })), [
            'ManagedCluster "main-aks": workload identity is not enabled (securityProfile.workloadIdentity.enabled is not set). Set securityProfile: { workloadIdentity: { enabled: true } }; without the webhook pods get no federated token.',
        ]);
    });
});

describe("aks-local-accounts-disabled", () => {
    it("fires when local accounts stay on", () => {
        assert.deepEqual(check(aksLocalAccountsDisabled, cluster({ disableLocalAccounts: false })), [
            'ManagedCluster "main-aks": local accounts are not disabled (disableLocalAccounts is false). Set disableLocalAccounts: true; the static admin kubeconfig bypasses Entra ID and cannot be revoked per user.',
        ]);
        assert.equal(check(aksLocalAccountsDisabled, cluster({ disableLocalAccounts: undefined })).length, 1);
    });
});

describe("aks-entra-id-azure-rbac", () => {
    it("fires on a cluster without managed Entra ID, listing what is missing", () => {
        assert.deepEqual(check(aksEntraIdAzureRbac, cluster({ aadProfile: undefined })), [
            'ManagedCluster "main-aks": managed Entra ID with Azure RBAC is not configured (aadProfile.managed is not set, aadProfile.enableAzureRBAC is not set). Set aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [<admin group>] } and keep enableRBAC: true.',
        ]);
    });

    it("fires on Kubernetes RBAC instead of Azure RBAC, and on enableRBAC: false", () => {
        assert.deepEqual(
            check(aksEntraIdAzureRbac, cluster({ "aadProfile.enableAzureRBAC": false, enableRBAC: false })),
            [
                'ManagedCluster "main-aks": managed Entra ID with Azure RBAC is not configured (aadProfile.enableAzureRBAC is false, enableRBAC is false). Set aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [<admin group>] } and keep enableRBAC: true.',
            ],
        );
    });
});

describe("aks-api-server-restricted", () => {
    it("fires on an API server open to the internet", () => {
        const expected = [
            'ManagedCluster "main-aks": the API server is open to the internet (no apiServerAccessProfile.authorizedIPRanges, not a private cluster). Set apiServerAccessProfile.authorizedIPRanges to the ranges that administer the cluster (your pipeline\'s and your own), or apiServerAccessProfile.enablePrivateCluster: true.',
        ];
        assert.deepEqual(check(aksApiServerRestricted, cluster({ apiServerAccessProfile: undefined })), expected);
        assert.deepEqual(check(aksApiServerRestricted, cluster({ "apiServerAccessProfile.authorizedIPRanges": [] })), expected);
    });

    it("fires on 0.0.0.0/0 among the authorized ranges", () => {
        assert.deepEqual(check(aksApiServerRestricted, cluster({ "apiServerAccessProfile.authorizedIPRanges": ["203.0.113.0/24", "0.0.0.0/0"] })), [
            'ManagedCluster "main-aks": apiServerAccessProfile.authorizedIPRanges contains "0.0.0.0/0", which lets the whole internet reach the API server. List only the ranges that administer the cluster, or set apiServerAccessProfile.enablePrivateCluster: true.',
        ]);
    });

    it("passes a private cluster and ranges unknown at preview", () => {
        assert.deepEqual(check(aksApiServerRestricted, cluster({ apiServerAccessProfile: { enablePrivateCluster: true } })), []);
        assert.deepEqual(check(aksApiServerRestricted, cluster({ "apiServerAccessProfile.authorizedIPRanges": UNKNOWN_AT_PREVIEW })), []);
    });
});

describe("aks-network-policy", () => {
    it("fires without a network policy and on none", () => {
        assert.deepEqual(check(aksNetworkPolicy, cluster({ "networkProfile.networkPolicy": undefined })), [
            'ManagedCluster "main-aks": no network policy engine (networkProfile.networkPolicy is not set), so every pod can reach every other. Set networkProfile.networkPolicy to "cilium" (with networkDataplane: "cilium" on Azure CNI overlay), "calico" or "azure".',
        ]);
        assert.deepEqual(check(aksNetworkPolicy, cluster({ "networkProfile.networkPolicy": "none" })), [
            'ManagedCluster "main-aks": no network policy engine (networkProfile.networkPolicy is "none"), so every pod can reach every other. Set networkProfile.networkPolicy to "cilium" (with networkDataplane: "cilium" on Azure CNI overlay), "calico" or "azure".',
        ]);
    });

    it("passes calico and azure", () => {
        assert.deepEqual(check(aksNetworkPolicy, cluster({ "networkProfile.networkPolicy": "calico" })), []);
        assert.deepEqual(check(aksNetworkPolicy, cluster({ "networkProfile.networkPolicy": "azure" })), []);
    });
});

describe("aks-upgrade-channels", () => {
    it("fires on upgrade channel none and on a missing node OS channel, once each", () => {
        assert.deepEqual(check(aksUpgradeChannels, cluster({ autoUpgradeProfile: { upgradeChannel: "none" } })), [
            'ManagedCluster "main-aks": no cluster auto-upgrade channel (autoUpgradeProfile.upgradeChannel is "none"), so the cluster falls out of support unless someone upgrades it by hand. Set autoUpgradeProfile.upgradeChannel to "stable", "patch", "rapid" or "node-image".',
            'ManagedCluster "main-aks": no node OS upgrade channel (autoUpgradeProfile.nodeOSUpgradeChannel is not set), so nodes miss OS security patches. Set autoUpgradeProfile.nodeOSUpgradeChannel to "NodeImage", "SecurityPatch" or "Unmanaged".',
        ]);
    });

    it("fires on node OS channel None alone", () => {
        assert.deepEqual(check(aksUpgradeChannels, cluster({ "autoUpgradeProfile.nodeOSUpgradeChannel": "None" })), [
            'ManagedCluster "main-aks": no node OS upgrade channel (autoUpgradeProfile.nodeOSUpgradeChannel is "None"), so nodes miss OS security patches. Set autoUpgradeProfile.nodeOSUpgradeChannel to "NodeImage", "SecurityPatch" or "Unmanaged".',
        ]);
    });

    it("passes patch with SecurityPatch", () => {
        assert.deepEqual(check(aksUpgradeChannels, cluster({ autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "SecurityPatch" } })), []);
    });
});

describe("aks-azure-policy-addon (advisory)", () => {
    it("fires without the add-on", () => {
        assert.deepEqual(check(aksAzurePolicyAddon, cluster({ addonProfiles: undefined })), [
            'ManagedCluster "main-aks": the Azure Policy add-on is not enabled (addonProfiles.azurepolicy.enabled is not set). Set addonProfiles: { azurepolicy: { enabled: true } } so Azure Policy can audit and enforce pod security in the cluster.',
        ]);
    });

    it("finds the add-on key case-insensitively, as ARM does", () => {
        assert.deepEqual(check(aksAzurePolicyAddon, cluster({ addonProfiles: { azurePolicy: { enabled: true } } })), []);
    });
});

describe("aks-key-vault-secrets-provider (advisory)", () => {
    it("fires without the provider", () => {
        assert.deepEqual(check(aksKeyVaultSecretsProvider, cluster({ "addonProfiles.azureKeyvaultSecretsProvider": undefined })), [
            'ManagedCluster "main-aks": the Key Vault secrets provider is not enabled (addonProfiles.azureKeyvaultSecretsProvider.enabled is not set). Set addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true" } } } to mount Key Vault secrets with the workload\'s identity.',
        ]);
    });

    it("fires without secret rotation", () => {
        assert.deepEqual(check(aksKeyVaultSecretsProvider, cluster({ "addonProfiles.azureKeyvaultSecretsProvider": { enabled: true } })), [
            'ManagedCluster "main-aks": the Key Vault secrets provider does not rotate secrets (addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation is not set). Set config: { enableSecretRotation: "true" } so pods see rotated secrets without a restart.',
        ]);
    });
});

describe("aks-defender (advisory)", () => {
    it("fires without Defender", () => {
        assert.deepEqual(check(aksDefender, cluster({ "securityProfile.defender": undefined })), [
            'ManagedCluster "main-aks": Microsoft Defender is not enabled (securityProfile.defender.securityMonitoring.enabled is not set). Set securityProfile.defender: { securityMonitoring: { enabled: true }, logAnalyticsWorkspaceResourceId: <Log Analytics workspace ID> }.',
        ]);
    });
});

describe("aks-image-cleaner (advisory)", () => {
    it("fires without the image cleaner", () => {
        assert.deepEqual(check(aksImageCleaner, cluster({ "securityProfile.imageCleaner.enabled": false })), [
            'ManagedCluster "main-aks": the image cleaner is not enabled (securityProfile.imageCleaner.enabled is false). Set securityProfile.imageCleaner: { enabled: true, intervalHours: 168 } to remove unused images from the nodes.',
        ]);
    });
});

describe("aks-paid-tier-in-production (advisory)", () => {
    it("fires on a Free or unset tier in a stack named prod", () => {
        assert.deepEqual(check(aksPaidTierInProduction, cluster({ "sku.tier": "Free" }), "prod"), [
            'ManagedCluster "main-aks": stack "prod" is production, but the cluster runs on the Free tier (sku.tier is "Free"), which has no uptime SLA. Set sku: { name: "Base", tier: "Standard" } (or "Premium").',
        ]);
        assert.deepEqual(check(aksPaidTierInProduction, cluster({ sku: undefined }), "prod"), [
            'ManagedCluster "main-aks": stack "prod" is production, but the cluster runs on the Free tier (sku.tier is not set), which has no uptime SLA. Set sku: { name: "Base", tier: "Standard" } (or "Premium").',
        ]);
    });

    it("leaves other stacks alone", () => {
        assert.deepEqual(check(aksPaidTierInProduction, cluster({ "sku.tier": "Free" }), "dev"), []);
    });

    it("takes the production stacks from its config", () => {
        const config = { productionStacks: ["live", "prod-eu"] };
        const free = cluster({ "sku.tier": "Free" });
        assert.equal(check(aksPaidTierInProduction, free, "prod-eu", config).length, 1);
        assert.deepEqual(check(aksPaidTierInProduction, free, "prod", config), []);
        assert.deepEqual(check(aksPaidTierInProduction, cluster({ "sku.tier": "Premium" }), "live", config), []);
    });
});
