import { createHash } from "node:crypto";

/**
 * Pure name builders. Names of cloud resources are public API: a changed name replaces the
 * resource, so every name here derives from stable config keys, never from list positions.
 */

/** Lower-case, with every run of characters outside [a-z0-9-] folded into one `-`. */
export function normalizeNamePart(value: string): string {
    return value
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-{2,}/g, "-")
        .replace(/^-+|-+$/g, "");
}

/** Cloud Adoption Framework abbreviations used by this project. */
export type CafPrefix = "rg" | "aks" | "id" | "app";

/** `<prefix>-<key>-<environment>`, e.g. `id-orders-api-dev`; `rg-<key>-<environment>` for groups. */
export function cafName(prefix: CafPrefix, key: string, environment: string): string {
    return [prefix, normalizeNamePart(key), normalizeNamePart(environment)].filter((p) => p !== "").join("-");
}

/** The FIC subject a projected ServiceAccount token carries. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** Managed-identity FIC names: `^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$`. */
export const FEDERATED_CREDENTIAL_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;

/**
 * Azure name of the federated credential for one issuer of an identity: `fic-<key>`, where key is
 * the cluster key (or the federation key). One identity has one FIC per key, so it is unique.
 */
export function federatedCredentialName(key: string): string {
    return `fic-${normalizeNamePart(key)}`.slice(0, 120).replace(/-+$/, "");
}

/** DNS prefix of an AKS cluster: 1..54 characters, alphanumerics and hyphens. */
export function dnsPrefix(clusterName: string): string {
    return normalizeNamePart(clusterName).slice(0, 54).replace(/-+$/, "");
}

/** Azure name of a cluster this stack creates, unless its config sets `name`: `aks-<key>-<env>`. */
export function clusterName(clusterKey: string, environment: string): string {
    return cafName("aks", clusterKey, environment);
}

/** Azure name of a workload's managed identity, or display name of its app registration, unless config sets `name`. */
export function workloadIdentityName(workloadKey: string, environment: string, principal: "managedIdentity" | "application"): string {
    return cafName(principal === "application" ? "app" : "id", workloadKey, environment);
}

/** The resource group this stack creates unless config names an existing one: `rg-workload-identity-<env>`. */
export function stackResourceGroupName(environment: string): string {
    return cafName("rg", "workload-identity", environment);
}

/**
 * The node resource group AKS creates for a cluster when none is given:
 * `MC_<resource group>_<cluster>_<location>`. AKS refuses the cluster when it is longer than 80
 * characters ("The length of the node resource group name is too long. The maximum length is 80",
 * quoted in rancher/rancher#21264 and Azure/aad-pod-identity#810).
 */
export function aksNodeResourceGroupName(resourceGroupName: string, clusterName: string, location: string): string {
    return `MC_${resourceGroupName}_${clusterName}_${location}`;
}

/** The SecretProviderClass of a workload's Key Vault objects: `<key>-keyvault`. */
export function secretProviderClassName(workloadKey: string): string {
    return `${normalizeNamePart(workloadKey)}-keyvault`;
}

/** Name (and `app` label value) of a workload's quick-start: `<key>-quickstart`. */
export function quickstartName(workloadKey: string): string {
    return `${normalizeNamePart(workloadKey)}-quickstart`;
}

/** The limits of one kind of name, with where they come from. */
export interface NameLimit {
    /** What the name is, as a message says it: "DNS prefix". */
    readonly what: string;
    readonly maxLength: number;
    readonly pattern: RegExp;
    /** The rule in words, for messages. */
    readonly allowed: string;
    readonly source: string;
}

/**
 * Limits of derived names that no validation rule covers yet. (Cluster, identity, resource group,
 * namespace and ServiceAccount names have their rules in validation.ts and kubernetes-names.ts.)
 */
export const NAME_LIMITS = {
    dnsPrefix: {
        what: "DNS prefix",
        maxLength: 54,
        pattern: /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,52}[a-zA-Z0-9])?$/,
        allowed: '1 to 54 letters, digits and "-", starting and ending with a letter or digit',
        source: "AKS naming rules (aka.ms/aks-naming-rules): dnsPrefix",
    },
    nodeResourceGroup: {
        what: "node resource group",
        maxLength: 80,
        pattern: /^[-\w.()]{1,80}$/,
        allowed: "at most 80 characters",
        source: "AKS: the node resource group name is at most 80 characters",
    },
    federatedCredential: {
        what: "federated credential name",
        maxLength: 120,
        pattern: FEDERATED_CREDENTIAL_NAME_PATTERN,
        allowed: '3 to 120 letters, digits, "-" and "_", starting with a letter or digit',
        source: "Microsoft.ManagedIdentity federatedIdentityCredentials name; Graph federatedIdentityCredential name (120, URL friendly)",
    },
    kubernetesLabelValue: {
        what: "label value",
        maxLength: 63,
        pattern: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
        allowed: 'at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
        source: "Kubernetes label values (Labels and Selectors, syntax and character set)",
    },
} as const satisfies Record<string, NameLimit>;

/** Why `name` breaks `limit`, or undefined. */
export function nameLimitProblem(limit: NameLimit, name: string): string | undefined {
    if (name.length <= limit.maxLength && limit.pattern.test(name)) {
        return undefined;
    }
    const length = name.length > limit.maxLength ? ` has ${name.length} characters and` : "";
    return `${limit.what} "${name}"${length} is not allowed: ${limit.allowed}.`;
}

/** RFC 4122 name-based UUID (version 5, SHA-1), the same construction as Bicep's `guid()` uses. */
export function uuidV5(name: string, namespace: string): string {
    const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
    if (ns.length !== 16) {
        throw new Error(`Invalid UUID namespace: ${namespace}`);
    }
    const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
    const bytes = Buffer.from(hash.subarray(0, 16));
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace of this project's role assignment names (a fixed, random UUID: never change it). */
export const ROLE_ASSIGNMENT_NAMESPACE = "1b4f3a0e-6a55-4d8e-9c1e-3f0d2b7a9c41";

/**
 * Deterministic role assignment name: UUIDv5 of (scope, principal, role definition), compared
 * case-insensitively as Azure compares IDs. The same triple always yields the same name, so a
 * re-run never creates a duplicate (`RoleAssignmentExists`).
 */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionId: string): string {
    return uuidV5([scope, principalId, roleDefinitionId].map((s) => s.toLowerCase()).join("|"), ROLE_ASSIGNMENT_NAMESPACE);
}
