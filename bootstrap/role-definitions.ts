import { BUILT_IN_ROLES } from "../components/roles";

/**
 * What a role permits, as its role definition lists it: control-plane `actions` minus
 * `notActions`, data-plane `dataActions` minus `notDataActions`. Wildcards (`*`) as Azure RBAC
 * reads them, case-insensitive. Pure data: the permission view evaluates grants with it, and the
 * bootstrap creates the custom roles from it.
 */
export interface RolePermissions {
    readonly actions: readonly string[];
    readonly notActions: readonly string[];
    readonly dataActions: readonly string[];
    readonly notDataActions: readonly string[];
    /** Where the list was copied from. */
    readonly source: string;
}

const BUILT_IN_ROLES_SOURCE = "Azure docs, Azure built-in roles";

/**
 * The built-in roles whose permissions the permission view evaluates: those the bootstrap grants a
 * deploy identity for what a stack registers, and those a stack may grant the pipeline itself
 * (clusterAdmins). Roles missing here (Storage Blob Data Contributor, Key Vault Crypto User for the
 * state and the secrets provider) grant nothing in the view: no resource of a stack needs them.
 */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<string, RolePermissions>> = {
    [BUILT_IN_ROLES.Contributor]: {
        actions: ["*"],
        notActions: [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        dataActions: [],
        notDataActions: [],
        source: `${BUILT_IN_ROLES_SOURCE} for Privileged: Contributor`,
    },
    [BUILT_IN_ROLES["Role Based Access Control Administrator"]]: {
        actions: ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read", "Microsoft.Support/*"],
        notActions: [],
        dataActions: [],
        notDataActions: [],
        source: `${BUILT_IN_ROLES_SOURCE} for Privileged: Role Based Access Control Administrator`,
    },
    [BUILT_IN_ROLES["Azure Kubernetes Service Cluster User Role"]]: {
        actions: ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", "Microsoft.ContainerService/managedClusters/read"],
        notActions: [],
        dataActions: [],
        notDataActions: [],
        source: `${BUILT_IN_ROLES_SOURCE} for Containers: Azure Kubernetes Service Cluster User Role`,
    },
    [BUILT_IN_ROLES["Azure Kubernetes Service RBAC Cluster Admin"]]: {
        actions: [
            "Microsoft.Authorization/*/read",
            "Microsoft.Resources/subscriptions/operationresults/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        ],
        notActions: [],
        dataActions: ["Microsoft.ContainerService/managedClusters/*"],
        notDataActions: [],
        source: `${BUILT_IN_ROLES_SOURCE} for Containers: Azure Kubernetes Service RBAC Cluster Admin`,
    },
    [BUILT_IN_ROLES["Azure Kubernetes Service RBAC Admin"]]: {
        actions: [
            "Microsoft.Authorization/*/read",
            "Microsoft.Resources/subscriptions/operationresults/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        ],
        notActions: [],
        dataActions: ["Microsoft.ContainerService/managedClusters/*"],
        notDataActions: [
            "Microsoft.ContainerService/managedClusters/resourcequotas/write",
            "Microsoft.ContainerService/managedClusters/resourcequotas/delete",
            "Microsoft.ContainerService/managedClusters/namespaces/write",
            "Microsoft.ContainerService/managedClusters/namespaces/delete",
        ],
        source: `${BUILT_IN_ROLES_SOURCE} for Containers: Azure Kubernetes Service RBAC Admin`,
    },
};

/** A custom role the bootstrap defines because no built-in role is narrow enough. */
export interface CustomRole {
    /** Stable key: the role definition's GUID and the assignment keys derive from it. */
    readonly key: "link-workspace" | "join-subnet";
    /** What it lets the pipeline do, in the role's name and description. */
    readonly purpose: string;
    readonly permissions: RolePermissions;
}

/**
 * ARM checks, on every cluster create and update, that the caller may read the shared keys of the
 * cluster's Log Analytics workspace ("linked authorization": LinkedAuthorizationFailed names
 * `Microsoft.OperationalInsights/workspaces/sharedkeys/read` on the linked scope, Azure/AKS#499).
 * The built-in roles that have it (Log Analytics Contributor: `Microsoft.OperationalInsights/*`;
 * Monitoring Contributor) can also delete or rewrite the workspace; Log Analytics Reader lists it
 * in its NotActions. So a custom role with exactly what the AKS docs list ("AKS service
 * permissions": workspaces/sharedkeys/read and workspaces/read).
 */
export const LINK_WORKSPACE_ROLE: CustomRole = {
    key: "link-workspace",
    purpose: "link a Log Analytics workspace to an AKS cluster (Microsoft Defender)",
    permissions: {
        actions: ["Microsoft.OperationalInsights/workspaces/read", "Microsoft.OperationalInsights/workspaces/sharedKeys/read"],
        notActions: [],
        dataActions: [],
        notDataActions: [],
        source: "AKS docs, AKS service permissions (identity creating and operating the cluster: workspaces/sharedkeys/read, workspaces/read); Azure/AKS#499 (LinkedAuthorizationFailed)",
    },
};

/**
 * A cluster in a subnet it does not own (bring your own subnet) needs the caller to join that
 * subnet; Network Contributor could also rewrite or delete it. The AKS docs list exactly
 * `subnets/join/action` for the identity creating the cluster in a custom VNet, and subnets/read
 * with it for a custom role.
 */
export const JOIN_SUBNET_ROLE: CustomRole = {
    key: "join-subnet",
    purpose: "put an AKS cluster's nodes into a subnet (bring your own subnet)",
    permissions: {
        actions: ["Microsoft.Network/virtualNetworks/subnets/read", "Microsoft.Network/virtualNetworks/subnets/join/action"],
        notActions: [],
        dataActions: [],
        notDataActions: [],
        source: "AKS docs, AKS service permissions (identity creating and operating the cluster: subnets/join/action for a custom VNet)",
    },
};

export const CUSTOM_ROLES: readonly CustomRole[] = [LINK_WORKSPACE_ROLE, JOIN_SUBNET_ROLE];
