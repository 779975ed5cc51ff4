import { closestMatch } from "./suggest";

/**
 * Built-in Azure role definitions by name. IDs are the same in every tenant and subscription.
 * Source: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
 */
export const BUILT_IN_ROLES = {
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    AcrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    AcrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
} as const;

export type BuiltInRoleName = keyof typeof BUILT_IN_ROLES;

const BUILT_IN_ROLE_NAMES = Object.keys(BUILT_IN_ROLES) as BuiltInRoleName[];

/** Roles that can take over what they are assigned on; never at subscription or management-group scope for a workload. */
export const PRIVILEGED_ROLE_IDS: ReadonlySet<string> = new Set([
    BUILT_IN_ROLES.Owner,
    BUILT_IN_ROLES.Contributor,
    BUILT_IN_ROLES["User Access Administrator"],
    BUILT_IN_ROLES["Role Based Access Control Administrator"],
]);

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
export const GUID_PATTERN = new RegExp(`^${GUID}$`);
const ROLE_DEFINITION_ID_PATTERN = new RegExp(
    `^(?:/subscriptions/${GUID}|/providers/Microsoft\\.Management/managementGroups/[^/]+)?/providers/Microsoft\\.Authorization/roleDefinitions/(${GUID})$`,
    "i",
);

/** A role as the config or code gave it, resolved to its definition GUID. */
export interface ResolvedRole {
    /** The built-in role name, when the role is a known built-in (also when given by GUID). */
    readonly name?: BuiltInRoleName;
    /** The role definition GUID, lower-case. */
    readonly guid: string;
    /** The full role definition ID, when the role was given as one (kept as given). */
    readonly definitionId?: string;
}

function builtInNameOf(guid: string): BuiltInRoleName | undefined {
    return BUILT_IN_ROLE_NAMES.find((name) => BUILT_IN_ROLES[name] === guid);
}

/**
 * Resolves a built-in role name (case-insensitive), a role definition GUID, or a full role
 * definition ID. Returns an error message instead when the role is none of those.
 */
export function resolveRole(role: string): ResolvedRole | { readonly error: string } {
    const trimmed = role.trim();
    if (GUID_PATTERN.test(trimmed)) {
        const guid = trimmed.toLowerCase();
        return { name: builtInNameOf(guid), guid };
    }
    const idMatch = ROLE_DEFINITION_ID_PATTERN.exec(trimmed);
    if (idMatch) {
        const guid = idMatch[1].toLowerCase();
        return { name: builtInNameOf(guid), guid, definitionId: trimmed };
    }
    const byName = BUILT_IN_ROLE_NAMES.find((name) => name.toLowerCase() === trimmed.toLowerCase());
    if (byName) {
        return { name: byName, guid: BUILT_IN_ROLES[byName] };
    }
    const suggestion = closestMatch(trimmed, BUILT_IN_ROLE_NAMES);
    const hint = suggestion ? ` Did you mean "${suggestion}"?` : "";
    return {
        error:
            `unknown role "${role}".${hint} Allowed values are: a built-in role name (${BUILT_IN_ROLE_NAMES.join(", ")}), ` +
            "a role definition GUID, or a full role definition ID " +
            "(/subscriptions/<guid>/providers/Microsoft.Authorization/roleDefinitions/<guid>).",
    };
}

export type ScopeKind = "managementGroup" | "subscription" | "resourceGroup" | "resource";

export interface ParsedScope {
    readonly kind: ScopeKind;
    /** The subscription GUID, absent for management-group scopes. */
    readonly subscriptionId?: string;
}

const SUBSCRIPTION_SCOPE = new RegExp(`^/subscriptions/(${GUID})$`, "i");
const RESOURCE_GROUP_SCOPE = new RegExp(`^/subscriptions/(${GUID})/resourceGroups/[-\\w._()]{1,90}$`, "i");
const RESOURCE_SCOPE = new RegExp(
    `^/subscriptions/(${GUID})(?:/resourceGroups/[-\\w._()]{1,90})?/providers/[A-Za-z][\\w]*\\.[\\w.]+(?:/[^/\\s]+/[^/\\s]+)+$`,
    "i",
);
const MANAGEMENT_GROUP_SCOPE = /^\/providers\/Microsoft\.Management\/managementGroups\/[-\w.()]{1,90}$/i;

/** Classifies an ARM scope, or returns undefined when it is not a well-formed ARM ID. */
export function parseScope(scope: string): ParsedScope | undefined {
    let match = SUBSCRIPTION_SCOPE.exec(scope);
    if (match) {
        return { kind: "subscription", subscriptionId: match[1].toLowerCase() };
    }
    match = RESOURCE_GROUP_SCOPE.exec(scope);
    if (match) {
        return { kind: "resourceGroup", subscriptionId: match[1].toLowerCase() };
    }
    match = RESOURCE_SCOPE.exec(scope);
    if (match) {
        return { kind: "resource", subscriptionId: match[1].toLowerCase() };
    }
    if (MANAGEMENT_GROUP_SCOPE.test(scope)) {
        return { kind: "managementGroup" };
    }
    return undefined;
}

/** The message for a scope that is not an ARM ID. */
export function invalidScopeMessage(scope: string): string {
    return (
        `invalid scope "${scope}". Allowed values are ARM IDs of a subscription (/subscriptions/<guid>), ` +
        "a resource group (/subscriptions/<guid>/resourceGroups/<name>), a resource " +
        "(/subscriptions/<guid>/resourceGroups/<name>/providers/<Namespace>/<type>/<name>) " +
        "or a management group (/providers/Microsoft.Management/managementGroups/<name>)."
    );
}

/**
 * The role definition ID to send for a role at a scope. Azure wants the subscription-qualified
 * form under a subscription and the tenant-level form at management-group scope.
 */
export function roleDefinitionIdFor(role: ResolvedRole, scope: ParsedScope): string {
    if (role.definitionId !== undefined) {
        return role.definitionId;
    }
    const suffix = `/providers/Microsoft.Authorization/roleDefinitions/${role.guid}`;
    return scope.subscriptionId === undefined ? suffix : `/subscriptions/${scope.subscriptionId}${suffix}`;
}

/** `roleDefinitionIdFor` for a scope that is only known at deploy time (inside an `apply`). */
export function roleDefinitionIdAt(role: ResolvedRole, scope: string): string {
    const parsed = parseScope(scope);
    if (parsed === undefined) {
        throw new Error(invalidScopeMessage(scope));
    }
    return roleDefinitionIdFor(role, parsed);
}

/**
 * `role "<name>" at <subscription|management-group> scope` when an owner-like role is assigned at
 * a scope that lets a workload take over the estate; undefined otherwise.
 */
export function broadPrivilegedAssignment(role: ResolvedRole, scope: ParsedScope): string | undefined {
    if (!PRIVILEGED_ROLE_IDS.has(role.guid) || (scope.kind !== "subscription" && scope.kind !== "managementGroup")) {
        return undefined;
    }
    const where = scope.kind === "subscription" ? "subscription" : "management-group";
    return `role "${role.name ?? role.guid}" at ${where} scope`;
}

/** Why a workload may not hold this role at this scope, or undefined when it may. */
export function broadScopeProblem(role: ResolvedRole, scope: ParsedScope, allowBroadScope: boolean): string | undefined {
    const broad = allowBroadScope ? undefined : broadPrivilegedAssignment(role, scope);
    return broad === undefined
        ? undefined
        : `${broad} is refused for a workload. Assign it on a resource group or resource, or set allowBroadScope: true on this assignment.`;
}
