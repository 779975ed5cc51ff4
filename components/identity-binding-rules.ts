import { createHash } from "node:crypto";
import { AKS_IDENTITY_BINDING_CREDENTIAL, IDENTITY_BINDING_API_GROUP, MAX_FEDERATED_CREDENTIALS, USE_MANAGED_IDENTITY_VERB } from "./constants";
import { namespaceProblem, serviceAccountNameProblem } from "./kubernetes-names";
import { federatedCredentialName, normalizeNamePart } from "./names";

/**
 * AKS identity bindings, the pure part: names and their rules, the federated credential budget of
 * both modes, and the Kubernetes RBAC that lets a ServiceAccount use an identity through a
 * binding. No Pulumi import: the config layer, the policy pack and the doctor use these too.
 *
 * Sources: AKS docs "Identity bindings for Azure Kubernetes Service (AKS)" and "Set up identity
 * bindings" (MicrosoftDocs/azure-aks-docs, 2026-08), the REST spec
 * `specification/containerservice/.../aks/IdentityBinding.tsp` (added in API 2026-04-01; 2026-05-01
 * example `IdentityBindings_Create_Or_Update.json`).
 */

/**
 * The ARM API version the identity bindings are written with: stable, so no `IdentityBindingPreview`
 * feature flag. azure-native 3.28's typed `containerservice.IdentityBinding` only speaks
 * 2025-06-02-preview, so the component writes them as a generic `resources.Resource`.
 */
export const IDENTITY_BINDING_API_VERSION = "2026-05-01";
export const IDENTITY_BINDING_PROVIDER_NAMESPACE = "Microsoft.ContainerService";
export const IDENTITY_BINDING_RESOURCE_TYPE = "identityBindings";

/** Binding names: the spec's `NamePattern` `^[a-z][a-z0-9]{0,63}$` with `maxLength` 63 (no hyphens). */
export const IDENTITY_BINDING_NAME_PATTERN = /^[a-z][a-z0-9]*$/;
export const IDENTITY_BINDING_NAME_MAX_LENGTH = 63;

export function identityBindingNameProblem(name: string): string | undefined {
    return IDENTITY_BINDING_NAME_PATTERN.test(name) && name.length <= IDENTITY_BINDING_NAME_MAX_LENGTH
        ? undefined
        : `invalid identity binding name "${name}". Allowed values are 1 to ${IDENTITY_BINDING_NAME_MAX_LENGTH} lower-case letters and digits, starting with a letter (no "-").`;
}

const NAME_HASH_LENGTH = 8;

/**
 * The identity binding name of a workload, the same on every cluster: its key in lower case
 * without the characters binding names refuse. When that changes the key (a `-`, an upper-case
 * letter, a leading digit, more than 63 characters), the first 8 hex digits of the key's SHA-256
 * follow, so `orders-api` and `ordersapi` still get different names. Names are public API: a new
 * name replaces the binding.
 */
export function identityBindingName(workloadKey: string): string {
    let base = workloadKey.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (!/^[a-z]/.test(base)) {
        base = `ib${base}`;
    }
    if (base === workloadKey && base.length <= IDENTITY_BINDING_NAME_MAX_LENGTH) {
        return base;
    }
    const hash = createHash("sha256").update(workloadKey, "utf8").digest("hex").slice(0, NAME_HASH_LENGTH);
    return `${base.slice(0, IDENTITY_BINDING_NAME_MAX_LENGTH - NAME_HASH_LENGTH)}${hash}`;
}

/**
 * Workloads whose identity binding names would be the same: on a shared cluster the second one's
 * write would take over the first one's binding. One message per clash, for the config layer
 * (which sees every workload); `[]` when all names differ.
 */
export function identityBindingNameClashes(workloadKeys: readonly string[]): string[] {
    const owners = new Map<string, string>();
    const problems: string[] = [];
    for (const key of workloadKeys) {
        const name = identityBindingName(key);
        const owner = owners.get(name);
        if (owner === undefined) {
            owners.set(name, key);
        } else {
            problems.push(`workloads "${owner}" and "${key}" would both name their identity binding "${name}"; rename one of them.`);
        }
    }
    return problems;
}

/**
 * `properties.managedIdentity.resourceId` of a binding: the spec allows only letters, digits and
 * `-` in the subscription, resource group and identity names (stricter than Azure's own rules for
 * those names). The fixed segments are compared case-insensitively, as ARM compares IDs.
 */
const BINDING_IDENTITY_ID = /^\/subscriptions\/[a-zA-Z0-9-]+\/resourceGroups\/[a-zA-Z0-9-]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[a-zA-Z0-9-]+$/i;
const BINDING_NAME_PART = /^[a-zA-Z0-9-]+$/;

export function bindingIdentityResourceIdProblem(resourceId: string): string | undefined {
    return BINDING_IDENTITY_ID.test(resourceId)
        ? undefined
        : `the identity's resource ID "${resourceId}" cannot be bound: identity bindings accept /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> with only letters, digits and "-" in the resource group and identity names.`;
}

/** A resource group or identity name that the binding's `managedIdentity.resourceId` would refuse. */
export function bindingIdentityNamePartProblem(what: "resource group" | "identity", name: string): string | undefined {
    return BINDING_NAME_PART.test(name)
        ? undefined
        : `${what} name "${name}" cannot be used with identityBinding: identity bindings accept only letters, digits and "-" in the resource group and identity names of managedIdentity.resourceId.`;
}

/**
 * A cluster with API server VNet integration cannot take identity bindings (AKS docs, "Identity
 * bindings" limitations). For a cluster the stack adopts, the config layer checks the looked-up
 * cluster with this before anything is created.
 */
export function apiServerVnetIntegrationProblem(
    clusterKey: string,
    cluster: { readonly apiServerAccessProfile?: { readonly enableVnetIntegration?: boolean } },
): string | undefined {
    return cluster.apiServerAccessProfile?.enableVnetIntegration === true
        ? `cluster ${clusterKey} uses API server VNet integration, which AKS identity bindings do not support; keep the workloads on it in classic mode (identityBinding: false).`
        : undefined;
}

/** A Kubernetes ServiceAccount by namespace and name. */
export interface ServiceAccountRef {
    readonly namespace: string;
    readonly name: string;
}

export function sameServiceAccount(a: ServiceAccountRef, b: ServiceAccountRef): boolean {
    return a.namespace === b.namespace && a.name === b.name;
}

/** Each entry of `serviceAccounts`: a valid namespace and name, given once; `path` prefixes every message. */
export function serviceAccountRefProblems(path: string, refs: readonly unknown[]): string[] {
    const problems: string[] = [];
    const seen: ServiceAccountRef[] = [];
    refs.forEach((ref, index) => {
        const at = `${path}[${index}]`;
        const entry = ref as Partial<Record<string, unknown>> | null;
        if (entry === null || typeof entry !== "object" || typeof entry.namespace !== "string" || typeof entry.name !== "string") {
            problems.push(`${at}: expected { namespace, name } with two strings, got ${JSON.stringify(ref)}.`);
            return;
        }
        const account = { namespace: entry.namespace, name: entry.name };
        const problem = namespaceProblem(account.namespace) ?? serviceAccountNameProblem(account.name);
        if (problem !== undefined) {
            problems.push(`${at}: ${problem}`);
            return;
        }
        const first = seen.findIndex((other) => sameServiceAccount(other, account));
        if (first >= 0) {
            problems.push(`${at}: ${account.namespace}/${account.name} is listed twice (also ${path}[${first}]).`);
        }
        seen.push(account);
    });
    return problems;
}

/** What the federated credential budget of one identity depends on. */
export interface CredentialBudget {
    readonly clusters: number;
    readonly serviceAccounts: number;
    readonly federations: number;
    readonly identityBinding: boolean;
    readonly keepClassicCredentials: boolean;
}

/**
 * The federated credentials one identity ends up with: one per (cluster, ServiceAccount) in
 * classic mode (and while `keepClassicCredentials` keeps them), one that AKS creates for all the
 * identity's bindings (it keeps counting after the last binding goes: AKS never deletes it), and
 * one per federation.
 */
export function federatedCredentialCount(budget: CredentialBudget): number {
    const classic = !budget.identityBinding || budget.keepClassicCredentials ? budget.clusters * budget.serviceAccounts : 0;
    return classic + (budget.identityBinding ? 1 : 0) + budget.federations;
}

function counted(count: number, noun: string): string {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** More federated credentials than Entra ID allows on one identity, said for the mode in use. */
export function federatedCredentialBudgetProblem(budget: CredentialBudget): string | undefined {
    const count = federatedCredentialCount(budget);
    if (count <= MAX_FEDERATED_CREDENTIALS) {
        return undefined;
    }
    const classic = `${counted(budget.clusters, "cluster")} × ${counted(budget.serviceAccounts, "ServiceAccount")}`;
    const federations = counted(budget.federations, "federation");
    const limit = `Entra ID allows at most ${MAX_FEDERATED_CREDENTIALS} per identity`;
    if (!budget.identityBinding) {
        return `${count} federated credentials for one identity (${classic} + ${federations}); ${limit}. Set identityBinding: true: with AKS identity bindings the identity needs one federated credential however many clusters and ServiceAccounts use it.`;
    }
    if (budget.keepClassicCredentials) {
        return `${count} federated credentials for one identity (${classic} kept by keepClassicCredentials + 1 ${AKS_IDENTITY_BINDING_CREDENTIAL} + ${federations}); ${limit}. Move the pods to the binding and drop keepClassicCredentials, or migrate fewer clusters at a time.`;
    }
    return `${count} federated credentials for one identity (1 ${AKS_IDENTITY_BINDING_CREDENTIAL}, which AKS creates for the identity bindings, + ${federations}); ${limit}. Give some federations an identity of their own.`;
}

/**
 * The key of a classic-mode federated credential: the cluster key for the workload's own
 * ServiceAccount (the name every classic FIC has had, so none is replaced), and
 * `<cluster>-<namespace>-<serviceAccount>` for each further one. The Azure name is
 * `fic-<key>` (`federatedCredentialName`).
 */
export function classicCredentialKey(clusterKey: string, account: ServiceAccountRef, own: ServiceAccountRef | undefined): string {
    return own !== undefined && sameServiceAccount(account, own) ? clusterKey : `${clusterKey}-${account.namespace}-${account.name}`;
}

/** Credential keys whose Azure FIC names would be the same (`fic-<normalized key>`). */
export function credentialNameClashes(keys: readonly { key: string; path: string }[]): string[] {
    const owners = new Map<string, string>();
    const problems: string[] = [];
    for (const { key, path } of keys) {
        const name = federatedCredentialName(key);
        const owner = owners.get(name);
        if (owner === undefined) {
            owners.set(name, path);
        } else {
            problems.push(`${path}: its federated credential would be named ${name}, like that of ${owner}; rename one of them.`);
        }
    }
    return problems;
}

/**
 * Name of the ClusterRole and ClusterRoleBinding that let a workload's ServiceAccounts use its
 * identity through the binding (cluster-scoped, so one per workload and cluster).
 */
export function useManagedIdentityRbacName(workloadName: string): string {
    return `use-managed-identity-${normalizeNamePart(workloadName)}`.slice(0, 253).replace(/-+$/, "");
}

/** The RBAC rule the AKS proxy checks: verb `use-managed-identity` on `cid.wi.aks.azure.com/<client ID>`. */
export function useManagedIdentityRule<T>(clientId: T): { apiGroups: string[]; resources: T[]; verbs: string[] } {
    return { apiGroups: [IDENTITY_BINDING_API_GROUP], resources: [clientId], verbs: [USE_MANAGED_IDENTITY_VERB] };
}

/** ClusterRoleBinding subjects naming each ServiceAccount (never a group). */
export function serviceAccountSubjects(accounts: readonly ServiceAccountRef[]): { kind: string; name: string; namespace: string }[] {
    return accounts.map((account) => ({ kind: "ServiceAccount", name: account.name, namespace: account.namespace }));
}

/** The binding's OIDC issuer URL from its ARM `properties` (`oidcIssuer.oidcIssuerUrl`), when Azure reported it. */
export function identityBindingIssuerUrl(properties: unknown): string | undefined {
    const issuer = (properties as { oidcIssuer?: { oidcIssuerUrl?: unknown } } | null | undefined)?.oidcIssuer?.oidcIssuerUrl;
    return typeof issuer === "string" && issuer !== "" ? issuer : undefined;
}

/**
 * The issuer AKS keeps per identity for its bindings, as the AKS docs show it:
 * `https://ib.oic.prod-aks.azure.com/<tenant>/<client ID>`. Tokens with it are the AKS proxy's,
 * presented to Entra ID and matched by the `aks-identity-binding` credential.
 */
const BINDING_ISSUER = /^https:\/\/ib\.oic\.prod-aks\.azure\.com\/([0-9a-fA-F-]{36})\/([0-9a-fA-F-]{36})\/?$/;

export function parseIdentityBindingIssuer(issuer: string): { tenantId: string; clientId: string } | undefined {
    const match = BINDING_ISSUER.exec(issuer);
    return match === null ? undefined : { tenantId: match[1], clientId: match[2] };
}
