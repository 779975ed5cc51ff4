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
