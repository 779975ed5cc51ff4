import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { ofTypes, resourcePolicy } from "./define";
import { TYPES } from "./resource-types";
import { UNKNOWN, arrayAt, at, keysAt, label, show, stackOfUrn, stringAt } from "./resources";

/**
 * The AKS baseline for workload identity (checkov, Azure Policy and the AVM WAF example agree on
 * it), as resource policies on `azure-native:containerservice:ManagedCluster` inputs. A value
 * still unknown at preview is not judged: CrossGuard runs resource policies again before the
 * resource is written, with every input known.
 */

const cluster = ofTypes(TYPES.managedCluster);

function isTrue(value: unknown): boolean | undefined {
    return value === UNKNOWN ? undefined : value === true;
}

/** A value of `addonProfiles`, whose keys ARM compares case-insensitively. */
function addon(props: unknown, key: string): unknown {
    const keys = keysAt(props, "addonProfiles");
    if (keys === UNKNOWN) {
        return UNKNOWN;
    }
    const found = keys.find((k) => k.toLowerCase() === key.toLowerCase());
    return found === undefined ? undefined : at(props, "addonProfiles", found);
}

function flag(args: ResourceValidationArgs, ok: boolean | undefined, message: string): string[] {
    return ok === false ? [`${label(args)}: ${message}`] : [];
}

export const aksOidcIssuer = resourcePolicy({
    name: "aks-oidc-issuer",
    description: "AKS clusters publish an OIDC issuer, the issuer every federated credential of a workload trusts.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set oidcIssuerProfile: { enabled: true } on the ManagedCluster.",
    appliesTo: cluster,
    check: (args) => {
        const enabled = at(args.props, "oidcIssuerProfile", "enabled");
        return flag(
            args,
            isTrue(enabled),
            `the OIDC issuer is not enabled (oidcIssuerProfile.enabled is ${show(enabled)}). Set oidcIssuerProfile: { enabled: true }; without it no federated credential can trust this cluster's ServiceAccount tokens.`,
        );
    },
});

export const aksWorkloadIdentity = resourcePolicy({
    name: "aks-workload-identity",
    description: "AKS clusters run the workload identity webhook, which projects the token and the AZURE_* variables into pods.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set securityProfile: { workloadIdentity: { enabled: true } } on the ManagedCluster.",
    appliesTo: cluster,
    check: (args) => {
        const enabled = at(args.props, "securityProfile", "workloadIdentity", "enabled");
        return flag(
            args,
            isTrue(enabled),
            `workload identity is not enabled (securityProfile.workloadIdentity.enabled is ${show(enabled)}). Set securityProfile: { workloadIdentity: { enabled: true } }; without the webhook pods get no federated token.`,
        );
    },
});

export const aksLocalAccountsDisabled = resourcePolicy({
    name: "aks-local-accounts-disabled",
    description: "AKS clusters have local (certificate) accounts disabled, so every login goes through Entra ID (checkov CKV_AZURE_141).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set disableLocalAccounts: true (it needs managed Entra ID integration).",
    appliesTo: cluster,
    check: (args) => {
        const disabled = at(args.props, "disableLocalAccounts");
        return flag(
            args,
            isTrue(disabled),
            `local accounts are not disabled (disableLocalAccounts is ${show(disabled)}). Set disableLocalAccounts: true; the static admin kubeconfig bypasses Entra ID and cannot be revoked per user.`,
        );
    },
});

export const aksEntraIdAzureRbac = resourcePolicy({
    name: "aks-entra-id-azure-rbac",
    description: "AKS clusters use managed Entra ID integration with Azure RBAC for Kubernetes authorization.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [...] } and leave enableRBAC on.",
    appliesTo: cluster,
    check: (args) => {
        const managed = at(args.props, "aadProfile", "managed");
        const azureRbac = at(args.props, "aadProfile", "enableAzureRBAC");
        const kubernetesRbac = at(args.props, "enableRBAC");
        const missing = [
            ...(isTrue(managed) === false ? [`aadProfile.managed is ${show(managed)}`] : []),
            ...(isTrue(azureRbac) === false ? [`aadProfile.enableAzureRBAC is ${show(azureRbac)}`] : []),
            ...(kubernetesRbac === false ? ["enableRBAC is false"] : []),
        ];
        return missing.length === 0
            ? []
            : [
                  `${label(args)}: managed Entra ID with Azure RBAC is not configured (${missing.join(", ")}). Set aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [<admin group>] } and keep enableRBAC: true.`,
              ];
    },
});

export const aksApiServerRestricted = resourcePolicy({
    name: "aks-api-server-restricted",
    description: "The AKS API server is not open to the internet: authorized IP ranges (CKV_AZURE_6) or a private cluster (CKV_AZURE_115).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set apiServerAccessProfile.authorizedIPRanges to the ranges that administer the cluster, or apiServerAccessProfile.enablePrivateCluster: true.",
    appliesTo: cluster,
    check: (args) => {
        const isPrivate = at(args.props, "apiServerAccessProfile", "enablePrivateCluster");
        if (isPrivate === true || isPrivate === UNKNOWN) {
            return [];
        }
        const ranges = arrayAt(args.props, "apiServerAccessProfile", "authorizedIPRanges");
        if (ranges === UNKNOWN || (ranges !== undefined && ranges.includes(UNKNOWN))) {
            return [];
        }
        const open = (ranges ?? []).filter((range) => range === "0.0.0.0/0" || range === "0.0.0.0");
        if (open.length > 0) {
            return [
                `${label(args)}: apiServerAccessProfile.authorizedIPRanges contains ${show(open[0])}, which lets the whole internet reach the API server. List only the ranges that administer the cluster, or set apiServerAccessProfile.enablePrivateCluster: true.`,
            ];
        }
        if (ranges === undefined || ranges.length === 0) {
            return [
                `${label(args)}: the API server is open to the internet (no apiServerAccessProfile.authorizedIPRanges, not a private cluster). Set apiServerAccessProfile.authorizedIPRanges to the ranges that administer the cluster (your pipeline's and your own), or apiServerAccessProfile.enablePrivateCluster: true.`,
            ];
        }
        return [];
    },
});

export const aksNetworkPolicy = resourcePolicy({
    name: "aks-network-policy",
    description: "AKS clusters enforce Kubernetes network policies (CKV_AZURE_7).",
    enforcementLevel: "mandatory",
    remediationSteps: 'Set networkProfile.networkPolicy to "cilium" (with networkDataplane "cilium"), "calico" or "azure".',
    appliesTo: cluster,
    check: (args) => {
        const policy = stringAt(args.props, "networkProfile", "networkPolicy");
        if (policy === UNKNOWN || (policy !== undefined && policy.toLowerCase() !== "none" && policy !== "")) {
            return [];
        }
        return [
            `${label(args)}: no network policy engine (networkProfile.networkPolicy is ${show(policy)}), so every pod can reach every other. Set networkProfile.networkPolicy to "cilium" (with networkDataplane: "cilium" on Azure CNI overlay), "calico" or "azure".`,
        ];
    },
});

export const aksUpgradeChannels = resourcePolicy({
    name: "aks-upgrade-channels",
    description: "AKS clusters have an auto-upgrade channel other than none (CKV_AZURE_171) and a node OS upgrade channel.",
    enforcementLevel: "mandatory",
    remediationSteps: 'Set autoUpgradeProfile: { upgradeChannel: "stable" (or rapid, patch, node-image), nodeOSUpgradeChannel: "NodeImage" (or SecurityPatch, Unmanaged) }.',
    appliesTo: cluster,
    check: (args) => {
        const problems: string[] = [];
        const channel = stringAt(args.props, "autoUpgradeProfile", "upgradeChannel");
        if (channel !== UNKNOWN && (channel === undefined || channel === "" || channel.toLowerCase() === "none")) {
            problems.push(
                `${label(args)}: no cluster auto-upgrade channel (autoUpgradeProfile.upgradeChannel is ${show(channel)}), so the cluster falls out of support unless someone upgrades it by hand. Set autoUpgradeProfile.upgradeChannel to "stable", "patch", "rapid" or "node-image".`,
            );
        }
        const nodeChannel = stringAt(args.props, "autoUpgradeProfile", "nodeOSUpgradeChannel");
        if (nodeChannel !== UNKNOWN && (nodeChannel === undefined || nodeChannel === "" || nodeChannel.toLowerCase() === "none")) {
            problems.push(
                `${label(args)}: no node OS upgrade channel (autoUpgradeProfile.nodeOSUpgradeChannel is ${show(nodeChannel)}), so nodes miss OS security patches. Set autoUpgradeProfile.nodeOSUpgradeChannel to "NodeImage", "SecurityPatch" or "Unmanaged".`,
            );
        }
        return problems;
    },
});

export const aksAzurePolicyAddon = resourcePolicy({
    name: "aks-azure-policy-addon",
    description: "AKS clusters run the Azure Policy add-on (CKV_AZURE_116).",
    enforcementLevel: "advisory",
    remediationSteps: "Set addonProfiles: { azurepolicy: { enabled: true } }.",
    appliesTo: cluster,
    check: (args) => {
        const enabled = at(addon(args.props, "azurepolicy"), "enabled");
        return flag(
            args,
            isTrue(enabled),
            `the Azure Policy add-on is not enabled (addonProfiles.azurepolicy.enabled is ${show(enabled)}). Set addonProfiles: { azurepolicy: { enabled: true } } so Azure Policy can audit and enforce pod security in the cluster.`,
        );
    },
});

export const aksKeyVaultSecretsProvider = resourcePolicy({
    name: "aks-key-vault-secrets-provider",
    description: "AKS clusters run the Key Vault secrets provider (CSI driver) with secret rotation (CKV_AZURE_172).",
    enforcementLevel: "advisory",
    remediationSteps: 'Set addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true" } } }.',
    appliesTo: cluster,
    check: (args) => {
        const profile = addon(args.props, "azureKeyvaultSecretsProvider");
        const enabled = at(profile, "enabled");
        const rotation = at(profile, "config", "enableSecretRotation");
        if (enabled === UNKNOWN || rotation === UNKNOWN) {
            return [];
        }
        if (enabled !== true) {
            return [
                `${label(args)}: the Key Vault secrets provider is not enabled (addonProfiles.azureKeyvaultSecretsProvider.enabled is ${show(enabled)}). Set addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true" } } } to mount Key Vault secrets with the workload's identity.`,
            ];
        }
        if (typeof rotation !== "string" || rotation.toLowerCase() !== "true") {
            return [
                `${label(args)}: the Key Vault secrets provider does not rotate secrets (addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation is ${show(rotation)}). Set config: { enableSecretRotation: "true" } so pods see rotated secrets without a restart.`,
            ];
        }
        return [];
    },
});

export const aksDefender = resourcePolicy({
    name: "aks-defender",
    description: "AKS clusters run Microsoft Defender for Containers threat detection.",
    enforcementLevel: "advisory",
    remediationSteps: "Set securityProfile.defender: { securityMonitoring: { enabled: true }, logAnalyticsWorkspaceResourceId: <workspace ID> }.",
    appliesTo: cluster,
    check: (args) => {
        const enabled = at(args.props, "securityProfile", "defender", "securityMonitoring", "enabled");
        return flag(
            args,
            isTrue(enabled),
            `Microsoft Defender is not enabled (securityProfile.defender.securityMonitoring.enabled is ${show(enabled)}). Set securityProfile.defender: { securityMonitoring: { enabled: true }, logAnalyticsWorkspaceResourceId: <Log Analytics workspace ID> }.`,
        );
    },
});

export const aksImageCleaner = resourcePolicy({
    name: "aks-image-cleaner",
    description: "AKS clusters run the image cleaner, which removes unused (and often vulnerable) images from the nodes.",
    enforcementLevel: "advisory",
    remediationSteps: "Set securityProfile.imageCleaner: { enabled: true, intervalHours: 168 }.",
    appliesTo: cluster,
    check: (args) => {
        const enabled = at(args.props, "securityProfile", "imageCleaner", "enabled");
        return flag(
            args,
            isTrue(enabled),
            `the image cleaner is not enabled (securityProfile.imageCleaner.enabled is ${show(enabled)}). Set securityProfile.imageCleaner: { enabled: true, intervalHours: 168 } to remove unused images from the nodes.`,
        );
    },
});

/** Config of `aks-paid-tier-in-production`. */
export interface PaidTierConfig {
    /** Stack names that are production. Default: ["prod"]. */
    readonly productionStacks?: readonly string[];
}

const PAID_TIERS = ["standard", "premium"];

export const aksPaidTierInProduction = resourcePolicy({
    name: "aks-paid-tier-in-production",
    description: "AKS clusters of production stacks use a paid tier (Standard or Premium), which carries the uptime SLA.",
    enforcementLevel: "advisory",
    remediationSteps: 'Set sku: { name: "Base", tier: "Standard" } (or "Premium") on the clusters of production stacks.',
    configSchema: {
        properties: {
            productionStacks: {
                type: "array",
                items: { type: "string" },
                default: ["prod"],
                description: "Stack names whose clusters must use a paid tier.",
            },
        },
    },
    appliesTo: cluster,
    check: (args) => {
        const configured = args.getConfig<PaidTierConfig>().productionStacks;
        const productionStacks: readonly unknown[] = Array.isArray(configured) ? (configured as unknown[]) : ["prod"];
        const stack = stackOfUrn(args.urn);
        if (stack === undefined || !productionStacks.includes(stack)) {
            return [];
        }
        const tier = stringAt(args.props, "sku", "tier");
        if (tier === UNKNOWN || (tier !== undefined && PAID_TIERS.includes(tier.toLowerCase()))) {
            return [];
        }
        return [
            `${label(args)}: stack "${stack}" is production, but the cluster runs on the ${tier ?? "Free"} tier (sku.tier is ${show(tier)}), which has no uptime SLA. Set sku: { name: "Base", tier: "Standard" } (or "Premium").`,
        ];
    },
});

export const aksPolicies: readonly ResourceValidationPolicy[] = [
    aksOidcIssuer,
    aksWorkloadIdentity,
    aksLocalAccountsDisabled,
    aksEntraIdAzureRbac,
    aksApiServerRestricted,
    aksNetworkPolicy,
    aksUpgradeChannels,
    aksAzurePolicyAddon,
    aksKeyVaultSecretsProvider,
    aksDefender,
    aksImageCleaner,
    aksPaidTierInProduction,
];
