import { createHash } from "node:crypto";
import { uuidV5 } from "../components/names";
import { BUILT_IN_ROLES, resolveRole, type BuiltInRoleName } from "../components/roles";
import type { ClusterConfig, StackConfig } from "../stacks/config";
import { conditionRoleIds } from "./conditions";
import type { BootstrapConfig, EnvironmentConfig } from "./config";
import { BUILT_IN_ROLE_PERMISSIONS, JOIN_SUBNET_ROLE, LINK_WORKSPACE_ROLE, type CustomRole, type RolePermissions } from "./role-definitions";

/**
 * What the bootstrap grants each environment's deploy identity, derived from the environment's
 * committed stack file through the main program's own config parser: one source of truth for
 * the bootstrap (which creates these grants) and the plan's permission view (which checks a
 * stack's resource graph against them). Pure: no resources, no I/O.
 */

/** Microsoft Graph's application (client) ID, the same in every tenant. */
export const MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/**
 * Microsoft Graph application permission Application.ReadWrite.OwnedBy: create app registrations
 * and manage only those the principal owns (not Application.ReadWrite.All).
 */
export const APPLICATION_READWRITE_OWNEDBY_ROLE_ID = "18a4783c-866b-4cc7-a460-3d5e5662c884";

/** Namespace of the custom roles' definition GUIDs (a fixed, random UUID: never change it). */
export const CUSTOM_ROLE_NAMESPACE = "9d3c6b1e-52a7-4f0e-8b6d-2e4f7a1c9b30";

/** A stable key for a scope: the same scope keeps the same assignment, whichever entry declares it. */
export function scopeKey(scope: string): string {
    return createHash("sha256").update(scope.toLowerCase()).digest("hex").slice(0, 8);
}

export function resourceGroupId(subscriptionId: string, resourceGroupName: string): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
}

export function managedClusterId(subscriptionId: string, resourceGroupName: string, clusterName: string): string {
    return `${resourceGroupId(subscriptionId, resourceGroupName)}/providers/Microsoft.ContainerService/managedClusters/${clusterName}`;
}

/** Whether `scope` is `parent` or lies below it (ARM IDs compare case-insensitively). */
export function withinScope(scope: string, parent: string): boolean {
    const s = scope.toLowerCase().replace(/\/+$/, "");
    const p = parent.toLowerCase().replace(/\/+$/, "");
    return s === p || s.startsWith(`${p}/`);
}

/** `/subscriptions/<id>/resourceGroups/<name>` of an ARM ID below a resource group, else undefined. */
export function resourceGroupOf(scope: string): string | undefined {
    return /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/i.exec(scope)?.[0];
}

/** The definition GUID of one of the bootstrap's custom roles in a subscription. */
export function customRoleId(subscriptionId: string, role: CustomRole): string {
    return uuidV5(`${subscriptionId.toLowerCase()}|${role.key}`, CUSTOM_ROLE_NAMESPACE);
}

/** Custom role names are unique in a tenant: the subscription makes them so, one bootstrap per subscription. */
export function customRoleName(subscriptionId: string, role: CustomRole): string {
    return `Deploy pipeline: ${role.purpose} (subscription ${subscriptionId})`;
}

/** The subnets a cluster's nodes join (`clusters.<key>.network.vnetSubnetId`, bring your own subnet). */
export function clusterSubnetIds(cluster: ClusterConfig): string[] {
    return cluster.network === undefined ? [] : [cluster.network.vnetSubnetId];
}

/** A role assignment the stack makes, derived from its config the way the components build it. */
export interface StackRoleAssignment {
    /** The config path that declares it, e.g. `workloads.orders-api.keyVault`. */
    readonly source: string;
    /** Role definition GUID, lower-case. */
    readonly roleId: string;
    /** The built-in role name, or the GUID of a custom role. */
    readonly roleName: string;
    readonly scope: string;
}

function builtIn(name: BuiltInRoleName): { roleId: string; roleName: string } {
    return { roleId: BUILT_IN_ROLES[name], roleName: name };
}

/**
 * Every role assignment the stack registers, with its scope and role: the workloads'
 * `roleAssignments`, the `keyVault` grants (Key Vault Secrets User, and Certificate User with
 * certificates, as WorkloadIdentity assigns them), `clusterAdmins` (Azure Kubernetes Service RBAC
 * Cluster Admin on the cluster), and Network Contributor for each cluster's own identity on a
 * subnet it brings (AKS docs: the cluster identity needs it in a custom VNet).
 */
export function stackRoleAssignments(stack: StackConfig, subscriptionId: string): StackRoleAssignment[] {
    const found: StackRoleAssignment[] = [];
    for (const cluster of Object.values(stack.clusters)) {
        const clusterId =
            cluster.existing === undefined
                ? managedClusterId(subscriptionId, stack.resourceGroup.name, cluster.azureName)
                : managedClusterId(subscriptionId, cluster.existing.resourceGroupName, cluster.existing.name);
        for (const adminKey of Object.keys(cluster.clusterAdmins)) {
            found.push({ source: `clusters.${cluster.key}.clusterAdmins.${adminKey}`, scope: clusterId, ...builtIn("Azure Kubernetes Service RBAC Cluster Admin") });
        }
        if (cluster.existing === undefined) {
            for (const subnet of clusterSubnetIds(cluster)) {
                found.push({ source: `clusters.${cluster.key}.network.vnetSubnetId`, scope: subnet, ...builtIn("Network Contributor") });
            }
        }
    }
    for (const workload of Object.values(stack.workloads)) {
        for (const [assignmentKey, assignment] of Object.entries(workload.roleAssignments)) {
            const role = resolveRole(assignment.role);
            // The stack's own parser has refused a role it cannot resolve.
            if (!("error" in role)) {
                found.push({ source: `workloads.${workload.key}.roleAssignments.${assignmentKey}`, scope: assignment.scope, roleId: role.guid, roleName: role.name ?? role.guid });
            }
        }
        if (workload.keyVault !== undefined) {
            found.push({ source: `workloads.${workload.key}.keyVault`, scope: workload.keyVault.resourceId, ...builtIn("Key Vault Secrets User") });
            if (workload.keyVault.certificates.length > 0) {
                found.push({ source: `workloads.${workload.key}.keyVault.certificates`, scope: workload.keyVault.resourceId, ...builtIn("Key Vault Certificate User") });
            }
        }
    }
    return found;
}

/** Where the bootstrap's own resources give a scope: role assignments on it wait for them. */
export type ScopeOrigin = "environmentResourceGroup" | "stateContainer" | "secretsKey";

export interface GrantedRole {
    /** The built-in role name, or the custom role's name. */
    readonly name: string;
    /** Role definition GUID, lower-case. */
    readonly id: string;
    /** Set for one of the bootstrap's custom roles (it creates the definition). */
    readonly custom?: CustomRole;
    /** What the role permits; undefined for a role no stack resource needs (it grants nothing in the view). */
    readonly permissions: RolePermissions | undefined;
}

/** A role assignment of the deploy identity. */
export interface RoleGrant {
    readonly kind: "role";
    /** The assignment key under the identity: the Pulumi name is `deploy-<env>-ra-<key>`. */
    readonly key: string;
    readonly role: GrantedRole;
    readonly scope: string;
    /** The bootstrap resource the scope is, when it creates it. */
    readonly createdBy?: ScopeOrigin;
    /** For Role Based Access Control Administrator: the exact roles its ABAC condition allows. */
    readonly allowedRoleIds?: readonly string[];
    /** The stack config paths that need it (empty for the state, secrets and Contributor grants). */
    readonly reasons: readonly string[];
    readonly description: string;
}

/** Membership of a cluster's admin group (`aadProfile.adminGroupObjectIDs`: cluster-admin in Kubernetes). */
export interface GroupGrant {
    readonly kind: "group";
    readonly key: string;
    readonly groupObjectId: string;
    readonly reasons: readonly string[];
}

/** A Microsoft Graph application permission (app role assignment on Graph's service principal). */
export interface GraphGrant {
    readonly kind: "graph";
    readonly key: string;
    readonly appRoleId: string;
    readonly permission: "Application.ReadWrite.OwnedBy";
    readonly reasons: readonly string[];
}

/** A resource provider the subscription must have registered; an operator registers it once. */
export interface ProviderRegistration {
    readonly namespace: string;
    readonly reasons: readonly string[];
    readonly source: string;
}

/** Everything one environment's deploy identity is granted, computed from the bootstrap config. */
export interface PipelineGrants {
    readonly environment: string;
    readonly stack: string;
    readonly subscriptionId: string;
    readonly identityName: string;
    /** The deploy identity's object ID when the bootstrap config records it (`environments[].principalId`). */
    readonly principalId: string | undefined;
    readonly roles: readonly RoleGrant[];
    readonly groups: readonly GroupGrant[];
    readonly graph: readonly GraphGrant[];
    readonly registrations: readonly ProviderRegistration[];
}

/**
 * The resource providers a stack uses, why, and where that is documented. A fresh subscription has
 * only a few registered by default (Azure docs, "Resource providers for Azure services"); the
 * deploy identity cannot register one (`<namespace>/register/action` is a subscription-scope
 * action, and azure-native's azcore pipeline registers a missing provider only with it), so an
 * operator registers them once.
 */
export const RESOURCE_PROVIDERS: Readonly<Record<string, string>> = {
    "Microsoft.ContainerService": "AKS managed clusters and node pools (Azure docs, Resource providers for Azure services)",
    "Microsoft.Compute": "the node pools' virtual machine scale sets, which AKS creates in the subscription (Azure docs, Resource providers for Azure services)",
    "Microsoft.Network": "the clusters' load balancer, public IP and virtual network, which AKS creates in the subscription (microsoft/aksworkshop#43: AKS fails on a subscription without it)",
    "Microsoft.PolicyInsights": "the Azure Policy add-on (Azure Policy docs, Azure Policy for Kubernetes: register Microsoft.PolicyInsights)",
    "Microsoft.ManagedIdentity": "user-assigned identities and their federated credentials (Azure docs, Resource providers for Azure services)",
};

/** The providers a stack needs registered, each with the config paths that need it. */
export function requiredProviders(stack: StackConfig): ProviderRegistration[] {
    const reasons = new Map<string, string[]>();
    const add = (namespace: string, reason: string): void => {
        reasons.set(namespace, [...(reasons.get(namespace) ?? []), reason]);
    };
    for (const cluster of Object.values(stack.clusters)) {
        if (cluster.existing !== undefined) {
            continue;
        }
        for (const namespace of ["Microsoft.ContainerService", "Microsoft.Compute", "Microsoft.Network"]) {
            add(namespace, `clusters.${cluster.key}`);
        }
        if (cluster.azurePolicy) {
            add("Microsoft.PolicyInsights", `clusters.${cluster.key}.azurePolicy`);
        }
    }
    for (const workload of Object.values(stack.workloads)) {
        if (workload.principal === "managedIdentity") {
            add("Microsoft.ManagedIdentity", `workloads.${workload.key}`);
        }
    }
    return Object.keys(RESOURCE_PROVIDERS)
        .filter((namespace) => reasons.has(namespace))
        .map((namespace) => ({ namespace, reasons: reasons.get(namespace) ?? [], source: RESOURCE_PROVIDERS[namespace] }));
}

function builtInRole(name: BuiltInRoleName): GrantedRole {
    const id = BUILT_IN_ROLES[name];
    return { name, id, permissions: BUILT_IN_ROLE_PERMISSIONS[id] };
}

function customRole(subscriptionId: string, role: CustomRole): GrantedRole {
    return { name: customRoleName(subscriptionId, role), id: customRoleId(subscriptionId, role), custom: role, permissions: role.permissions };
}

function unique(values: readonly string[]): string[] {
    return [...new Set(values)];
}

/** Values grouped by ARM ID, case-insensitively, in first-seen order; each group keeps the first spelling. */
function byScope<T extends { scope: string }>(items: readonly T[]): { scope: string; items: T[] }[] {
    const groups = new Map<string, { scope: string; items: T[] }>();
    for (const item of items) {
        const id = item.scope.toLowerCase();
        const group = groups.get(id) ?? { scope: item.scope, items: [] };
        group.items.push(item);
        groups.set(id, group);
    }
    return [...groups.values()];
}

/**
 * What the bootstrap grants the deploy identity of `environment`, least privilege:
 * - its state container (Storage Blob Data Contributor) and secrets key (Key Vault Crypto User);
 * - Contributor on the environment's resource group;
 * - Role Based Access Control Administrator on that group and on every scope outside it where the
 *   stack assigns roles, each with an ABAC condition that allows exactly the roles the stack
 *   assigns there, nothing else;
 * - outside the group: the custom link-workspace role on each Defender workspace and join-subnet
 *   on each subnet its clusters bring, and Cluster User plus RBAC Cluster Admin on adopted clusters;
 * - membership in the created clusters' admin groups (cluster-admin in Kubernetes);
 * - Microsoft Graph Application.ReadWrite.OwnedBy when the stack has application workloads.
 */
export function pipelineGrantsFor(config: BootstrapConfig, environment: EnvironmentConfig): PipelineGrants {
    const subscriptionId = config.subscriptionId;
    const stack = environment.stackConfig;
    const groupId = resourceGroupId(subscriptionId, environment.resourceGroupName);
    const bootstrapGroup = resourceGroupId(subscriptionId, config.resourceGroupName);
    const accountId = `${bootstrapGroup}/providers/Microsoft.Storage/storageAccounts/${config.state.accountName}`;
    const vaultId = `${bootstrapGroup}/providers/Microsoft.KeyVault/vaults/${config.keyVaultName}`;
    const who = `the ${environment.name} pipeline of ${config.github.owner}/${config.github.repository}`;
    const rbacAdministrator = builtInRole("Role Based Access Control Administrator");
    const names = (ids: readonly string[]): string =>
        ids.map((id) => (Object.keys(BUILT_IN_ROLES) as BuiltInRoleName[]).find((name) => BUILT_IN_ROLES[name] === id) ?? id).join(", ");

    const roles: RoleGrant[] = [
        {
            kind: "role",
            key: "state",
            role: builtInRole("Storage Blob Data Contributor"),
            scope: `${accountId}/blobServices/default/containers/${environment.backendContainer}`,
            createdBy: "stateContainer",
            reasons: [],
            description: `Pulumi state of stack ${environment.stack}, for ${who}.`,
        },
        {
            kind: "role",
            key: "secrets",
            role: builtInRole("Key Vault Crypto User"),
            scope: `${vaultId}/keys/${environment.secretsKeyName}`,
            createdBy: "secretsKey",
            reasons: [],
            description: `Secrets provider of stack ${environment.stack}, for ${who}.`,
        },
        {
            kind: "role",
            key: "contributor",
            role: builtInRole("Contributor"),
            scope: groupId,
            createdBy: "environmentResourceGroup",
            reasons: [],
            description: `Resources of stack ${environment.stack}, for ${who}.`,
        },
    ];

    const assignments = stackRoleAssignments(stack, subscriptionId);
    const inside = assignments.filter((assignment) => withinScope(assignment.scope, groupId));
    if (inside.length > 0) {
        const allowed = conditionRoleIds(inside.map((assignment) => assignment.roleId));
        roles.push({
            kind: "role",
            key: "rbac-admin",
            role: rbacAdministrator,
            scope: groupId,
            createdBy: "environmentResourceGroup",
            allowedRoleIds: allowed,
            reasons: unique(inside.map((assignment) => assignment.source)),
            description: `Role assignments of stack ${environment.stack} in its resource group, for ${who}: only ${names(allowed)}.`,
        });
    }
    for (const group of byScope(assignments.filter((assignment) => !withinScope(assignment.scope, groupId)))) {
        const allowed = conditionRoleIds(group.items.map((assignment) => assignment.roleId));
        roles.push({
            kind: "role",
            key: `rbac-admin-${scopeKey(group.scope)}`,
            role: rbacAdministrator,
            scope: group.scope,
            allowedRoleIds: allowed,
            reasons: unique(group.items.map((assignment) => assignment.source)),
            description: `Role assignments of stack ${environment.stack} at this scope, for ${who}: only ${names(allowed)}.`,
        });
    }

    const created = Object.values(stack.clusters).filter((cluster) => cluster.existing === undefined);
    const linked = (key: CustomRole, items: { scope: string; source: string }[]): void => {
        for (const group of byScope(items.filter((item) => !withinScope(item.scope, groupId)))) {
            roles.push({
                kind: "role",
                key: `${key.key}-${scopeKey(group.scope)}`,
                role: customRole(subscriptionId, key),
                scope: group.scope,
                reasons: unique(group.items.map((item) => item.source)),
                description: `Lets ${who} ${key.purpose}.`,
            });
        }
    };
    linked(
        LINK_WORKSPACE_ROLE,
        created.flatMap((cluster) =>
            cluster.defender === undefined ? [] : [{ scope: cluster.defender.logAnalyticsWorkspaceResourceId, source: `clusters.${cluster.key}.defender.logAnalyticsWorkspaceResourceId` }],
        ),
    );
    linked(
        JOIN_SUBNET_ROLE,
        created.flatMap((cluster) => clusterSubnetIds(cluster).map((scope) => ({ scope, source: `clusters.${cluster.key}.network.vnetSubnetId` }))),
    );
    for (const cluster of Object.values(stack.clusters)) {
        if (cluster.existing === undefined) {
            continue;
        }
        const clusterId = managedClusterId(subscriptionId, cluster.existing.resourceGroupName, cluster.existing.name);
        const source = `clusters.${cluster.key}.existing`;
        if (!withinScope(clusterId, groupId)) {
            roles.push({
                kind: "role",
                key: `aks-user-${scopeKey(clusterId)}`,
                role: builtInRole("Azure Kubernetes Service Cluster User Role"),
                scope: clusterId,
                reasons: [source],
                description: `Reads the adopted cluster and its user kubeconfig, for ${who}.`,
            });
        }
        roles.push({
            kind: "role",
            key: `aks-admin-${scopeKey(clusterId)}`,
            role: builtInRole("Azure Kubernetes Service RBAC Cluster Admin"),
            scope: clusterId,
            reasons: [source],
            description: `Creates the stack's Kubernetes objects in the adopted cluster, for ${who}.`,
        });
    }

    const adminGroups = new Map<string, string[]>();
    for (const cluster of created) {
        for (const group of cluster.adminGroupObjectIds) {
            adminGroups.set(group.toLowerCase(), [...(adminGroups.get(group.toLowerCase()) ?? []), `clusters.${cluster.key}.adminGroupObjectIds`]);
        }
    }
    const groups: GroupGrant[] = [...adminGroups.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([groupObjectId, reasons]) => ({ kind: "group", key: `admins-${groupObjectId}`, groupObjectId, reasons }));

    const applications = Object.values(stack.workloads).filter((workload) => workload.principal === "application");
    const graph: GraphGrant[] =
        applications.length === 0
            ? []
            : [
                  {
                      kind: "graph",
                      key: "graph-applications",
                      appRoleId: APPLICATION_READWRITE_OWNEDBY_ROLE_ID,
                      permission: "Application.ReadWrite.OwnedBy",
                      reasons: applications.map((workload) => `workloads.${workload.key}.principal`),
                  },
              ];

    return {
        environment: environment.name,
        stack: environment.stack,
        subscriptionId,
        identityName: environment.identityName,
        principalId: environment.principalId,
        roles,
        groups,
        graph,
        registrations: requiredProviders(stack),
    };
}

/** The providers of every environment, once each: registration is per subscription. */
export function subscriptionProviders(config: BootstrapConfig): ProviderRegistration[] {
    const all = new Map<string, ProviderRegistration>();
    for (const environment of config.environments) {
        for (const registration of requiredProviders(environment.stackConfig)) {
            const known = all.get(registration.namespace);
            const reasons = registration.reasons.map((reason) => `${environment.stack}: ${reason}`);
            all.set(registration.namespace, { ...registration, reasons: [...(known?.reasons ?? []), ...reasons] });
        }
    }
    return Object.keys(RESOURCE_PROVIDERS)
        .filter((namespace) => all.has(namespace))
        .map((namespace) => all.get(namespace) as ProviderRegistration);
}
