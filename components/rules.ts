import { federatedCredentialName } from "./names";
import {
    ENTRA_TOKEN_EXCHANGE_AUDIENCE,
    GITHUB_ACTIONS_ISSUER,
    MAX_FEDERATED_CREDENTIALS,
    MAX_TOKEN_EXPIRATION_SECONDS,
    MIN_TOKEN_EXPIRATION_SECONDS,
    RESERVED_NAMESPACES,
} from "./constants";
import { KUBELOGIN_MODES } from "./kubeconfig";
import { namespaceProblem, serviceAccountNameProblem } from "./kubernetes-names";
import { AZURE_REGIONS } from "./regions";
import { closestMatch } from "./suggest";
import { broadScopeProblem, invalidScopeMessage, parseScope, resolveRole, GUID_PATTERN, type ResolvedRole } from "./roles";

export { namespaceProblem, serviceAccountNameProblem };

/**
 * Pure validation rules shared by the stack config and the components' args, with no Pulumi
 * import: each takes plain values. Each rule returns
 * a message (the bad value and what is allowed) or undefined; callers prefix the path.
 */

export function tokenExpirationProblem(seconds: number): string | undefined {
    if (!Number.isInteger(seconds) || seconds < MIN_TOKEN_EXPIRATION_SECONDS || seconds > MAX_TOKEN_EXPIRATION_SECONDS) {
        return `invalid token expiration ${seconds}. Allowed values are whole seconds from ${MIN_TOKEN_EXPIRATION_SECONDS} to ${MAX_TOKEN_EXPIRATION_SECONDS}: the webhook rejects pods outside that range.`;
    }
    return undefined;
}

export function guidProblem(value: string): string | undefined {
    return GUID_PATTERN.test(value) ? undefined : `invalid GUID "${value}". Allowed values look like 00000000-0000-0000-0000-000000000000.`;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;

export function cidrProblem(cidr: string): string | undefined {
    const match = IPV4_CIDR.exec(cidr);
    const valid =
        match !== null &&
        match.slice(1, 5).every((octet) => Number(octet) <= 255) &&
        (match[5] === undefined || Number(match[5]) <= 32);
    return valid ? undefined : `invalid IP range "${cidr}". Allowed values are IPv4 addresses or CIDR ranges such as 203.0.113.0/24.`;
}

const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;

export function poolNameProblem(name: string): string | undefined {
    return POOL_NAME.test(name)
        ? undefined
        : `invalid node pool name "${name}". Allowed values are 1 to 12 lower-case letters and digits, starting with a letter.`;
}

/** AKS limits for an autoscaled pool: 0..1000 nodes (a system pool needs at least 1). */
export function poolCountsProblem(minCount: number, maxCount: number, system: boolean): string | undefined {
    const lowest = system ? 1 : 0;
    if (!Number.isInteger(minCount) || minCount < lowest || minCount > 1000) {
        return `invalid minCount ${minCount}. Allowed values are whole numbers from ${lowest} to 1000.`;
    }
    if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > 1000) {
        return `invalid maxCount ${maxCount}. Allowed values are whole numbers from 1 to 1000.`;
    }
    if (minCount > maxCount) {
        return `minCount ${minCount} is greater than maxCount ${maxCount}.`;
    }
    return undefined;
}

/** The API server must be restricted unless the override is explicit. */
export function apiServerAccessProblem(
    authorizedIpRanges: readonly unknown[] | undefined,
    privateCluster: boolean,
    allowPublicApiServer: boolean,
): string | undefined {
    const hasRanges = authorizedIpRanges !== undefined && authorizedIpRanges.length > 0;
    if (hasRanges && privateCluster) {
        return "authorizedIpRanges and private: true exclude each other. A private API server has no public endpoint to restrict.";
    }
    if (!hasRanges && !privateCluster && !allowPublicApiServer) {
        return "the API server is open to the internet. Set authorizedIpRanges (include your own IP to reach it from a laptop), or private: true, or allowPublicApiServer: true to accept an open API server.";
    }
    return undefined;
}

export function kubeloginModeProblem(mode: string): string | undefined {
    return (KUBELOGIN_MODES as readonly string[]).includes(mode)
        ? undefined
        : `invalid kubelogin mode "${mode}". Allowed values are: ${KUBELOGIN_MODES.join(", ")}.`;
}

export function federatedCredentialCountProblem(count: number): string | undefined {
    return count > MAX_FEDERATED_CREDENTIALS
        ? `${count} federated credentials for one identity; Entra ID allows at most ${MAX_FEDERATED_CREDENTIALS}.`
        : undefined;
}

/** A role assignment: the role resolves, the scope is an ARM ID, and no owner-like role at broad scope. */
export function roleAssignmentProblems(role: string, scope: string | undefined, allowBroadScope: boolean): { role?: string; scope?: string } {
    const resolved = resolveRole(role);
    return "error" in resolved ? { role: resolved.error } : resolvedRoleAssignmentProblems(resolved, scope, allowBroadScope);
}

/** `roleAssignmentProblems` for a role already resolved: the scope's shape and the broad-scope guard. */
export function resolvedRoleAssignmentProblems(resolved: ResolvedRole, scope: string | undefined, allowBroadScope: boolean): { role?: string; scope?: string } {
    if (scope === undefined) {
        return {};
    }
    const parsed = parseScope(scope);
    if (parsed === undefined) {
        return { scope: invalidScopeMessage(scope) };
    }
    const broad = broadScopeProblem(resolved, parsed, allowBroadScope);
    return broad === undefined ? {} : { role: broad };
}

/** A known Azure region name, with a suggestion for a near miss (`West Europe` -> `westeurope`). */
export function locationProblem(location: string): string | undefined {
    if (AZURE_REGIONS.includes(location)) {
        return undefined;
    }
    const folded = location.toLowerCase().replace(/[\s_-]+/g, "");
    const suggestion = AZURE_REGIONS.includes(folded) ? folded : closestMatch(folded, AZURE_REGIONS);
    const hint = suggestion === undefined ? "" : ` Did you mean "${suggestion}"?`;
    return `unknown Azure region "${location}".${hint} Allowed values are region names as \`az account list-locations --query [].name\` prints them, such as westeurope or eastus2.`;
}

const RESOURCE_GROUP_NAME = /^[-\w.()]{1,90}$/;
const CLUSTER_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;

export function resourceGroupNameProblem(name: string): string | undefined {
    return RESOURCE_GROUP_NAME.test(name) && !name.endsWith(".")
        ? undefined
        : `invalid resource group name "${name}". Allowed values are 1 to 90 letters, digits, "-", "_", ".", "(" and ")".`;
}

export function clusterNameProblem(name: string): string | undefined {
    return CLUSTER_NAME.test(name)
        ? undefined
        : `invalid cluster name "${name}". Allowed values are 1 to 63 letters, digits, "-" and "_", starting and ending with a letter or digit.`;
}

/** A user-assigned identity name (also used for app registration display names here). */
export function identityNameProblem(name: string): string | undefined {
    return IDENTITY_NAME.test(name)
        ? undefined
        : `invalid identity name "${name}". Allowed values are 3 to 128 letters, digits, "-" and "_", starting with a letter or digit.`;
}

/** An issuer a federation may trust: https, at most 600 characters, GitHub's without its slash. */
export function federationIssuerProblem(issuer: string): string | undefined {
    let url: URL | undefined;
    try {
        url = new URL(issuer);
    } catch {
        url = undefined;
    }
    if (url === undefined || url.protocol !== "https:" || issuer.length > 600) {
        return `invalid issuer "${issuer}". Allowed values are https URLs of at most 600 characters, exactly as the issuer writes them into its tokens' iss claim.`;
    }
    if (issuer === `${GITHUB_ACTIONS_ISSUER}/`) {
        return `GitHub's issuer has no trailing slash: use "${GITHUB_ACTIONS_ISSUER}" (Entra ID compares the iss claim exactly).`;
    }
    return undefined;
}

/** `["api://AzureADTokenExchange"]` unless a custom audience is explicitly allowed. */
export function audiencesProblem(audiences: readonly string[], allowCustomAudience: boolean): string | undefined {
    if (audiences.length !== 1) {
        return `${audiences.length} audiences; a federated credential takes exactly one.`;
    }
    if (audiences[0] !== ENTRA_TOKEN_EXCHANGE_AUDIENCE && !allowCustomAudience) {
        return `audience "${audiences[0]}" is not Entra ID's "${ENTRA_TOKEN_EXCHANGE_AUDIENCE}". Remove audiences, or set allowCustomAudience: true for a cloud that uses another one.`;
    }
    return undefined;
}

/** A federation key and a cluster key would both name the FIC `fic-<key>`. */
export function ficNameClash(federationKey: string, clusterKeys: readonly string[]): string | undefined {
    const clash = clusterKeys.find((clusterKey) => federatedCredentialName(clusterKey) === federatedCredentialName(federationKey));
    return clash === undefined
        ? undefined
        : `federation key "${federationKey}" and cluster "${clash}" would both name the federated credential ${federatedCredentialName(clash)}; rename the federation.`;
}

/** What `getManagedCluster` tells about an existing cluster, as far as this project needs it. */
export interface LookedUpCluster {
    readonly oidcIssuerProfile?: { readonly enabled?: boolean; readonly issuerURL?: string };
    readonly securityProfile?: { readonly workloadIdentity?: { readonly enabled?: boolean } };
    readonly addonProfiles?: Readonly<Record<string, { readonly enabled: boolean; readonly config?: Readonly<Record<string, string>> }>>;
}

/** The add-on key AKS uses for the Secrets Store CSI driver with the Azure Key Vault provider. */
export const KEY_VAULT_SECRETS_PROVIDER_ADDON = "azureKeyvaultSecretsProvider";

/**
 * Why an existing cluster cannot be adopted as it is, each with the command that fixes it. The
 * program never changes an adopted cluster: enabling the issuer restarts the API server and gives
 * the cluster a token issuer that other systems may start to trust.
 */
export function adoptedClusterProblems(
    key: string,
    resourceGroupName: string,
    clusterName: string,
    cluster: LookedUpCluster,
    needsKeyVaultSecretsProvider: boolean,
): string[] {
    const problems: string[] = [];
    const where = `--resource-group ${resourceGroupName} --name ${clusterName}`;
    const issuer = cluster.oidcIssuerProfile?.enabled === true && (cluster.oidcIssuerProfile.issuerURL ?? "") !== "";
    const webhook = cluster.securityProfile?.workloadIdentity?.enabled === true;
    if (!issuer || !webhook) {
        const missing = [issuer ? undefined : "the OIDC issuer", webhook ? undefined : "workload identity"].filter((m) => m !== undefined).join(" and ");
        problems.push(
            `Existing cluster ${key} (${clusterName} in ${resourceGroupName}) has ${missing} disabled, and this program does not enable it for you ` +
                `(it restarts the API server and changes the token issuer). Run: az aks update ${where} --enable-oidc-issuer --enable-workload-identity`,
        );
    }
    if (needsKeyVaultSecretsProvider) {
        const addon = cluster.addonProfiles?.[KEY_VAULT_SECRETS_PROVIDER_ADDON];
        if (addon?.enabled !== true) {
            problems.push(
                `Existing cluster ${key} (${clusterName} in ${resourceGroupName}) has no Key Vault secrets provider, which a workload on it needs. ` +
                    `Run: az aks enable-addons --addons azure-keyvault-secrets-provider --enable-secret-rotation ${where}`,
            );
        } else if (addon.config?.enableSecretRotation !== "true") {
            problems.push(
                `Existing cluster ${key} (${clusterName} in ${resourceGroupName}) runs the Key Vault secrets provider without secret rotation. ` +
                    `Run: az aks addon update --addon azure-keyvault-secrets-provider --enable-secret-rotation ${where}`,
            );
        }
    }
    return problems;
}

const KEY_VAULT_ID = new RegExp(
    "^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\\w.()]{1,90}/providers/Microsoft\\.KeyVault/vaults/([a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9])$",
    "i",
);

/** The vault name of a Key Vault resource ID, or undefined when it is not one. */
export function keyVaultName(resourceId: string): string | undefined {
    return KEY_VAULT_ID.exec(resourceId)?.[1];
}

export function keyVaultIdProblem(resourceId: string): string | undefined {
    return keyVaultName(resourceId) !== undefined
        ? undefined
        : `invalid Key Vault ID "${resourceId}". Allowed values are /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>.`;
}

export function keyVaultObjectNameProblem(name: string): string | undefined {
    return /^[0-9a-zA-Z-]{1,127}$/.test(name) ? undefined : `invalid Key Vault object name "${name}". Allowed values are 1 to 127 letters, digits and "-".`;
}

export function workspaceIdProblem(resourceId: string): string | undefined {
    return /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.OperationalInsights\/workspaces\/[-\w]{4,63}$/i.test(resourceId)
        ? undefined
        : `invalid Log Analytics workspace ID "${resourceId}". Allowed values are /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>.`;
}

/** A namespace Kubernetes owns; refused for `namespaces`. */
export function reservedNamespaceProblem(namespace: string): string | undefined {
    return RESERVED_NAMESPACES.includes(namespace)
        ? `namespace "${namespace}" is refused: ${RESERVED_NAMESPACES.join(", ")} come with every cluster, and a stack that created one would delete it on destroy.`
        : undefined;
}

/** The role assignment keys a workload's `keyVault` entry uses for its own grants. */
export const KEY_VAULT_GRANT_KEYS: readonly string[] = ["keyvault-secrets", "keyvault-certificates"];

/** A role assignment key that is the `keyVault` entry's own. */
export function reservedRoleAssignmentKeyProblem(key: string): string | undefined {
    return KEY_VAULT_GRANT_KEYS.includes(key) ? `the key "${key}" is the keyVault entry's own; choose another key.` : undefined;
}

/** A cluster nobody could administer: local accounts are off and Entra RBAC is on. */
export function clusterAdminsProblem(hasAdminGroups: boolean, hasClusterAdmins: boolean): string | undefined {
    return hasAdminGroups || hasClusterAdmins
        ? undefined
        : "no adminGroupObjectIds and no clusterAdmins. With local accounts off and Entra RBAC on, nobody could create the ServiceAccounts: name an admin group or a cluster admin.";
}

/** A node pool key that is the inline system pool's name. */
export function systemPoolNameProblem(key: string): string | undefined {
    return key === "system" ? 'the name "system" is the inline system pool\'s; choose another pool name.' : undefined;
}

/** A private cluster without a subnet of the user's. */
export function privateClusterNetworkProblem(isPrivate: boolean, hasNetwork: boolean): string | undefined {
    return isPrivate && !hasNetwork
        ? "required with private: true. Without a subnet of yours AKS creates a virtual network of its own during the deployment, and no runner can be inside it to reach the private API server: give network.vnetSubnetId, a subnet of a virtual network your runner reaches."
        : undefined;
}

/** A workload on a cluster without the namespace of its ServiceAccount. */
export function workloadNamespaceProblem(hasNamespace: boolean, onCluster: boolean): string | undefined {
    return !hasNamespace && onCluster
        ? "required string is missing: the workload runs on a cluster, and its ServiceAccount lives in a namespace. An identity that only has federations runs on no cluster (clusters: [] in config, no clusters in args)."
        : undefined;
}

/** `annotateExistingServiceAccount` while the ServiceAccount is also created. */
export function annotateExistingProblem(annotateExisting: boolean, createServiceAccount: boolean): string | undefined {
    return annotateExisting && createServiceAccount
        ? "true annotates a ServiceAccount that already exists, so it needs createServiceAccount: false (the default true creates the ServiceAccount)."
        : undefined;
}

/** The quick-start without a Key Vault secret to read. */
export function quickstartSecretProblem(quickstart: boolean, secrets: number): string | undefined {
    return quickstart && secrets === 0 ? "true, but the quick-start reads a Key Vault secret: give keyVault with at least one secret." : undefined;
}

/** Identity binding mode with an app registration. */
export function identityBindingPrincipalProblem(identityBinding: boolean, principal: string | undefined): string | undefined {
    return identityBinding && principal === "application"
        ? "true, but principal is application: AKS identity bindings map a user-assigned managed identity only. Use principal: managedIdentity, or identityBinding: false."
        : undefined;
}

/**
 * Grants of one role at one scope, which would get the same deterministic assignment name:
 * `[where, message]` for each after the first. `grants` are `[where, role, scope]`, roles
 * unresolved or scopes unknown skipped.
 */
export function duplicateGrantProblems(grants: readonly (readonly [string, string | undefined, string | undefined])[]): [string, string][] {
    const assigned = new Map<string, string>();
    const problems: [string, string][] = [];
    for (const [where, role, scope] of grants) {
        const resolved = role === undefined ? undefined : resolveRole(role);
        if (resolved === undefined || "error" in resolved || scope === undefined) {
            continue;
        }
        const id = `${resolved.guid}|${scope.toLowerCase()}`;
        const first = assigned.get(id);
        if (first !== undefined) {
            problems.push([where, `assigns the same role at the same scope as ${first}; keep one of them.`]);
        } else {
            assigned.set(id, where);
        }
    }
    return problems;
}
