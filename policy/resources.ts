import type { PolicyResource } from "@pulumi/policy";
import { TYPES } from "./resource-types";
import { UnknownValueError } from "./sdk";

/**
 * What the rules share: reads that survive values unknown at preview, and the links between
 * resources that the rules follow through the resource graph (the types: ./resource-types).
 * Pure functions; nothing here registers or starts anything.
 */

/**
 * Whether a resource is an AKS identity binding: the typed resource, or a generic resource of
 * provider namespace Microsoft.ContainerService and type identityBindings (compared as ARM does,
 * case-insensitively).
 */
export function isIdentityBinding(type: string, props: unknown): boolean {
    if (type === TYPES.identityBinding) {
        return true;
    }
    if (type !== TYPES.genericResource) {
        return false;
    }
    const namespace = stringAt(props, "resourceProviderNamespace");
    const resourceType = stringAt(props, "resourceType");
    return typeof namespace === "string" && namespace.toLowerCase() === "microsoft.containerservice" && typeof resourceType === "string" && resourceType.toLowerCase() === "identitybindings";
}

/** The binding's name: `resourceName` of a generic resource, `identityBindingName` of the typed one. */
export function identityBindingNameOf(binding: { readonly type: string; readonly props: unknown }): string | Unknown | undefined {
    return stringAt(binding.props, binding.type === TYPES.identityBinding ? "identityBindingName" : "resourceName");
}

const IDENTITY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i;

/**
 * The key of the managed identity a binding maps (the same key `principalOfCredential` groups
 * that identity's FICs by): the UserAssignedIdentity its `properties` come from, or the resource
 * group and name of a literal resource ID.
 */
export function principalKeyOfBinding(binding: PolicyResource): string | undefined {
    const identity = propertySources(binding, "properties").find((r) => r.type === TYPES.userAssignedIdentity);
    if (identity !== undefined) {
        return identity.urn;
    }
    const id = stringAt(binding.props, "properties", "managedIdentity", "resourceId");
    const match = typeof id === "string" ? IDENTITY_ID.exec(id) : null;
    return match === null ? undefined : `managed-identity:${match[1].toLowerCase()}/${match[2].toLowerCase()}`;
}

export const FEDERATED_CREDENTIAL_TYPES: readonly string[] = [TYPES.federatedIdentityCredential, TYPES.applicationFederatedIdentityCredential];
export const SERVICE_ACCOUNT_TYPES: readonly string[] = [TYPES.serviceAccount, TYPES.serviceAccountPatch];
/** Resources whose output is the principal's object ID: what a workload role assignment's principalId comes from. */
export const WORKLOAD_PRINCIPAL_TYPES: readonly string[] = [TYPES.userAssignedIdentity, TYPES.servicePrincipal];

/** Stands for a value that is unknown during preview (it comes from a resource not created yet). */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/**
 * The value at `path` under `value`: `UNKNOWN` when the value or a step on the way is unknown
 * during preview, undefined when a step is missing. CrossGuard hands policies proxies that throw
 * on unknown values, and turns a throw into an advisory "can't run during preview"; reading
 * through here lets a rule decide on what it does know instead.
 */
export function at(value: unknown, ...path: readonly (string | number)[]): unknown {
    let current = value;
    for (const key of path) {
        if (current === UNKNOWN) {
            return UNKNOWN;
        }
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        try {
            current = (current as Record<string | number, unknown>)[key];
        } catch (error) {
            if (error instanceof UnknownValueError) {
                return UNKNOWN;
            }
            throw error;
        }
    }
    return current;
}

/** The string at `path`; UNKNOWN, or undefined when absent or not a string. */
export function stringAt(value: unknown, ...path: readonly (string | number)[]): string | Unknown | undefined {
    const found = at(value, ...path);
    return found === UNKNOWN || typeof found === "string" ? found : undefined;
}

/** The elements of the array at `path` (each read safely); UNKNOWN, or undefined when absent. */
export function arrayAt(value: unknown, ...path: readonly (string | number)[]): unknown[] | Unknown | undefined {
    const found = at(value, ...path);
    if (found === UNKNOWN) {
        return UNKNOWN;
    }
    if (!Array.isArray(found)) {
        return undefined;
    }
    const items: unknown[] = [];
    for (let index = 0; index < found.length; index++) {
        items.push(at(found, index));
    }
    return items;
}

/** The keys of the object at `path`; UNKNOWN, or an empty list when absent. */
export function keysAt(value: unknown, ...path: readonly (string | number)[]): string[] | Unknown {
    const found = at(value, ...path);
    if (found === UNKNOWN) {
        return UNKNOWN;
    }
    return found !== null && typeof found === "object" && !Array.isArray(found) ? Object.keys(found) : [];
}

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
    const match = /^urn:pulumi:([^:]+)::/.exec(urn);
    return match?.[1];
}

/** The last part of a type token: `ManagedCluster`, `ServiceAccount`, ... */
export function shortType(type: string): string {
    const parts = type.split(":");
    return parts[parts.length - 1];
}

/** How a message names a resource: its kind and its Pulumi name, e.g. `ManagedCluster "main-aks"`. */
export function label(resource: { readonly type: string; readonly name: string }): string {
    return `${shortType(resource.type)} "${resource.name}"`;
}

/** JSON for a value in a message; `unknown` for a value unknown during preview. */
export function show(value: unknown): string {
    if (value === UNKNOWN) {
        return "unknown";
    }
    return value === undefined ? "not set" : JSON.stringify(value);
}

/** The resources a property's value comes from (its property dependencies). */
export function propertySources(resource: PolicyResource, property: string): readonly PolicyResource[] {
    return resource.propertyDependencies[property] ?? [];
}

/** Whether `from` depends on `to` through its dependencies, directly or transitively. */
export function dependsOn(from: PolicyResource, to: PolicyResource): boolean {
    const seen = new Set<string>();
    const pending = [...from.dependencies];
    while (pending.length > 0) {
        const next = pending.pop() as PolicyResource;
        if (next.urn === to.urn) {
            return true;
        }
        if (!seen.has(next.urn)) {
            seen.add(next.urn);
            pending.push(...next.dependencies);
        }
    }
    return false;
}

/** The principal a federated credential belongs to: a resource of the stack, or one known only by its name. */
export interface FederatedPrincipal {
    /** Groups the credentials of one principal. */
    readonly key: string;
    /** How messages name it. */
    readonly label: string;
    /** The principal's resource, when it is in the stack. */
    readonly resource: PolicyResource | undefined;
    /**
     * The resources whose outputs carry this principal's client ID: the managed identity, or the
     * application and its service principals.
     */
    readonly clientIdSources: readonly PolicyResource[];
}

/**
 * The principal of a federated credential. A managed identity's FIC names it in `resourceName`
 * (usually the identity's `name` output), an application's in `applicationId` (its `id`): the
 * property dependencies lead to the resource even while those values are unknown at preview;
 * known literal values group credentials of principals outside the stack.
 */
export function principalOfCredential(credential: PolicyResource, resources: readonly PolicyResource[]): FederatedPrincipal | undefined {
    if (credential.type === TYPES.federatedIdentityCredential) {
        const identity = propertySources(credential, "resourceName").find((r) => r.type === TYPES.userAssignedIdentity);
        if (identity !== undefined) {
            return { key: identity.urn, label: label(identity), resource: identity, clientIdSources: [identity] };
        }
        const group = stringAt(credential.props, "resourceGroupName");
        const name = stringAt(credential.props, "resourceName");
        if (typeof group === "string" && typeof name === "string") {
            return {
                key: `managed-identity:${group.toLowerCase()}/${name.toLowerCase()}`,
                label: `user-assigned identity "${name}" (resource group "${group}")`,
                resource: undefined,
                clientIdSources: [],
            };
        }
        return undefined;
    }
    if (credential.type === TYPES.applicationFederatedIdentityCredential) {
        const application = propertySources(credential, "applicationId").find((r) => r.type === TYPES.application);
        if (application !== undefined) {
            const servicePrincipals = resources.filter(
                (r) => r.type === TYPES.servicePrincipal && propertySources(r, "clientId").some((source) => source.urn === application.urn),
            );
            return { key: application.urn, label: label(application), resource: application, clientIdSources: [application, ...servicePrincipals] };
        }
        const id = stringAt(credential.props, "applicationId");
        if (typeof id === "string") {
            return { key: `application:${id.toLowerCase()}`, label: `application "${id}"`, resource: undefined, clientIdSources: [] };
        }
    }
    return undefined;
}

/** The client ID outputs of a principal's resources that are known. */
export function knownClientIds(principal: FederatedPrincipal): string[] {
    return principal.clientIdSources
        .map((source) => stringAt(source.props, "clientId"))
        .filter((id): id is string => typeof id === "string" && id !== "");
}

/** `system:serviceaccount:<namespace>:<name>`, parsed; undefined for any other subject. */
export function parseServiceAccountSubject(subject: string): { namespace: string; name: string } | undefined {
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
    return match === null ? undefined : { namespace: match[1], name: match[2] };
}

/** Where a Kubernetes object is written: the ManagedCluster behind its provider, when the graph tells, and the provider. */
export interface KubernetesPlacement {
    /** The ManagedCluster the provider's kubeconfig comes from. */
    readonly cluster: PolicyResource | undefined;
    /** The provider's URN, or `default` for the ambient provider. */
    readonly provider: string;
}

export function kubernetesPlacement(resource: PolicyResource, resources: readonly PolicyResource[]): KubernetesPlacement {
    const urn = resource.provider?.urn;
    if (urn === undefined) {
        return { cluster: undefined, provider: "default" };
    }
    const provider = resources.find((r) => r.urn === urn);
    const cluster = provider === undefined ? undefined : propertySources(provider, "kubeconfig").find((r) => r.type === TYPES.managedCluster);
    return { cluster, provider: urn };
}

/** Whether two Kubernetes objects are written to the same cluster: the same ManagedCluster, else the same provider. */
export function sameCluster(a: KubernetesPlacement, b: KubernetesPlacement): boolean {
    return a.cluster !== undefined && b.cluster !== undefined ? a.cluster.urn === b.cluster.urn : a.provider === b.provider;
}

/**
 * The ManagedCluster whose issuer a federated credential trusts: the one its issuer comes from,
 * or the one whose issuer URL equals it; undefined when neither tells (an external issuer).
 */
export function clusterOfCredential(credential: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
    const source = propertySources(credential, "issuer").find((r) => r.type === TYPES.managedCluster);
    if (source !== undefined) {
        return source;
    }
    const issuer = stringAt(credential.props, "issuer");
    if (typeof issuer !== "string") {
        return undefined;
    }
    return resources.find((r) => r.type === TYPES.managedCluster && stringAt(r.props, "oidcIssuerProfile", "issuerURL") === issuer);
}

/** Namespace and name of a Kubernetes object's metadata, when known; the namespace defaults to `default`. */
export function objectName(props: unknown): { namespace: string; name: string } | undefined {
    const name = stringAt(props, "metadata", "name");
    const namespace = stringAt(props, "metadata", "namespace");
    if (typeof name !== "string" || namespace === UNKNOWN) {
        return undefined;
    }
    return { namespace: namespace === undefined || namespace === "" ? "default" : namespace, name };
}
