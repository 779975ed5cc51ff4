import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aksApiServerRestricted, aksKeyVaultSecretsProvider } from "../policy/aks";
import { UNKNOWN_AT_PREVIEW, resourceArgs, violationsOf } from "../policy/testing";

/*
 * Edge cases of two CrossGuard rules on ManagedCluster inputs that the rule tests in
 * policy-aks.test.ts leave open: an open authorized range written without its prefix, and the
 * value of the Key Vault add-on's enableSecretRotation.
 */

const CLUSTER = "azure-native:containerservice:ManagedCluster";

function check(policy: typeof aksApiServerRestricted, props: Record<string, unknown>): string[] {
    return violationsOf(policy, resourceArgs({ type: CLUSTER, name: "main-aks", props }));
}

describe("aks-api-server-restricted: an open range without its prefix", () => {
    const ranges = (authorizedIPRanges: unknown): Record<string, unknown> => ({ apiServerAccessProfile: { authorizedIPRanges } });
    const open = (range: string): string =>
        `ManagedCluster "main-aks": apiServerAccessProfile.authorizedIPRanges contains "${range}", which lets the whole internet reach the API server. List only the ranges that administer the cluster, or set apiServerAccessProfile.enablePrivateCluster: true.`;

    it("flags a bare 0.0.0.0 as it flags 0.0.0.0/0", () => {
        assert.deepEqual(check(aksApiServerRestricted, ranges(["0.0.0.0"])), [open("0.0.0.0")]);
        assert.deepEqual(check(aksApiServerRestricted, ranges(["203.0.113.0/24", "0.0.0.0"])), [open("0.0.0.0")], "among other ranges too");
        assert.deepEqual(check(aksApiServerRestricted, ranges(["0.0.0.0/0"])), [open("0.0.0.0/0")]);
    });

    it("names the first open range once, whichever spelling comes first", () => {
        assert.deepEqual(check(aksApiServerRestricted, ranges(["0.0.0.0", "0.0.0.0/0"])), [open("0.0.0.0")]);
        assert.deepEqual(check(aksApiServerRestricted, ranges(["0.0.0.0/0", "0.0.0.0"])), [open("0.0.0.0/0")]);
    });

    it("passes a single host address and a private cluster", () => {
        assert.deepEqual(check(aksApiServerRestricted, ranges(["198.51.100.7"])), []);
        assert.deepEqual(check(aksApiServerRestricted, { apiServerAccessProfile: { enablePrivateCluster: true, authorizedIPRanges: ["0.0.0.0"] } }), [], "a private API server has no public endpoint");
    });
});

describe("aks-key-vault-secrets-provider: the value of enableSecretRotation", () => {
    const addon = (config: unknown, key = "azureKeyvaultSecretsProvider"): Record<string, unknown> => ({ addonProfiles: { [key]: { enabled: true, config } } });
    const noRotation = (shown: string): string =>
        `ManagedCluster "main-aks": the Key Vault secrets provider does not rotate secrets (addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation is ${shown}). Set config: { enableSecretRotation: "true" } so pods see rotated secrets without a restart.`;

    it('flags rotation "false" and an empty value', () => {
        assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: "false" })), [noRotation('"false"')]);
        assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: "" })), [noRotation('""')]);
    });

    it("flags a boolean: the add-on's config is a map of strings", () => {
        assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: true })), [noRotation("true")]);
    });

    it('passes "true" in any case, and finds the add-on key case-insensitively', () => {
        for (const value of ["true", "True", "TRUE"]) {
            assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: value, rotationPollInterval: "2m" })), [], value);
        }
        assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: "false" }, "AzureKeyvaultSecretsProvider")), [noRotation('"false"')], "the add-on key as ARM may spell it");
    });

    it("does not judge a rotation value unknown at preview", () => {
        assert.deepEqual(check(aksKeyVaultSecretsProvider, addon({ enableSecretRotation: UNKNOWN_AT_PREVIEW })), []);
    });
});
