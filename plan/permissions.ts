import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { formatBootstrapProblems, parseBootstrapConfig, rawBootstrapConfig, REPOSITORY_ROOT, type ParseOptions } from "../bootstrap/config";
import { managedClusterId, pipelineGrantsFor, resourceGroupId, withinScope, type PipelineGrants, type RoleGrant } from "../bootstrap/grants";
import { BUILT_IN_ROLE_PERMISSIONS, LINK_WORKSPACE_ROLE, JOIN_SUBNET_ROLE, type RolePermissions } from "../bootstrap/role-definitions";
import { BUILT_IN_ROLES, type BuiltInRoleName } from "../components/roles";
import { TYPES } from "../policy/resource-types";
import { readStackFile } from "../stacks/config-problems";
import { unwrapSecret } from "../offline/graph";
import type { RecordedInvoke, RecordedResource } from "../offline/mock-runner";

/**
 * The plan's permission view: for every resource a stack registers, the operations a deploy
 * performs and the permission each needs at its scope, checked against what the bootstrap grants
 * that environment's deploy identity (bootstrap/grants.ts, computed from the bootstrap config and
 * the committed stack files). A pure function of one recorded graph and one set of grants; the
 * table of what each resource type needs is REQUIREMENTS, one entry per resource type and
 * operation, each naming its source.
 */

/** One operation of a deploy, the permission it needs, and whether the deploy identity has it. */
export interface PermissionEntry {
    /** The resource's Pulumi name. */
    readonly resource: string;
    /** Its type token. */
    readonly type: string;
    /** What the deploy does, e.g. "create or update". */
    readonly operation: string;
    /** The Azure RBAC action, Kubernetes data action, Microsoft Graph permission or ownership needed. */
    readonly action: string;
    /** The ARM ID (or Graph object, or Kubernetes namespace) the action is checked on. */
    readonly scope: string;
    readonly status: "granted" | "missing";
    /** Which bootstrap grant (or stack setting) covers it, when granted. */
    readonly grant?: string;
    /** What to change, when missing. */
    readonly hint?: string;
    /** Where the requirement is documented. */
    readonly source: string;
}

/** What the view reads of a recorded run: the resources and the invokes (the mock runner's RunResult). */
export interface PermissionGraph {
    readonly resources: readonly RecordedResource[];
    readonly invokes?: readonly RecordedInvoke[];
}

/** How a need is checked against the grants. */
type Check =
    | { readonly kind: "arm" }
    | { readonly kind: "assign"; readonly roleId: string }
    | { readonly kind: "kubernetes"; readonly cluster: ClusterInfo }
    | { readonly kind: "authenticated" }
    | { readonly kind: "graph" }
    | { readonly kind: "owner"; readonly owners: readonly string[] }
    | { readonly kind: "registration"; readonly namespace: string };

interface Need {
    /** Overrides the requirement's operation (Kubernetes objects name their kind). */
    readonly operation?: string;
    readonly action: string;
    readonly scope: string;
    readonly check: Check;
}

/** One row of the requirement table: a resource type, an operation, its source, and its needs. */
export interface Requirement {
    readonly types: readonly string[] | ((type: string) => boolean);
    readonly operation: string;
    readonly source: string;
    readonly needs: (resource: RecordedResource, context: GraphContext) => readonly Need[];
}

interface ClusterInfo {
    /** The cluster's ARM ID. */
    readonly id: string;
    /** `aadProfile.adminGroupObjectIDs` of a cluster this stack creates; unknown (empty) for an adopted one. */
    readonly adminGroupObjectIds: readonly string[];
}

export interface GraphContext {
    readonly subscriptionId: string;
    readonly resources: readonly RecordedResource[];
    readonly invokes: readonly RecordedInvoke[];
    byUrn(urn: string): RecordedResource | undefined;
    /** The cluster a Kubernetes provider (or an object created with it) talks to. */
    clusterOfProvider(reference: string | undefined): ClusterInfo | undefined;
    /** The cluster of a WorkloadIdentityCluster or AdoptedCluster component. */
    clusterOfComponent(component: RecordedResource): ClusterInfo | undefined;
}

const SOURCES = {
    operations: "Azure RBAC docs, Azure resource provider operations",
    roleAssignments:
        "Azure RBAC docs, Azure resource provider operations (Microsoft.Authorization/roleAssignments/write); ABAC: Examples to delegate Azure role assignment management with conditions (Constrain roles)",
    workspace: LINK_WORKSPACE_ROLE.permissions.source,
    subnet: JOIN_SUBNET_ROLE.permissions.source,
    identityAssign: "AKS docs, AKS service permissions (Microsoft.ManagedIdentity/userAssignedIdentities/assign/action)",
    registration:
        "Azure Resource Manager docs, Resource providers and types (registering needs <namespace>/register/action at subscription scope; azure-native registers a missing provider only with it)",
    graph: "Pulumi azuread docs, Application and ServicePrincipal: API permissions (Application.ReadWrite.OwnedBy; the caller must be an owner); Microsoft Graph docs, Add owner (OwnedBy cannot add another owner)",
    kubeconfig: "AKS docs, Control kubeconfig access (listClusterUserCredential)",
    adopted: "Azure RBAC docs, Azure resource provider operations (Microsoft.ContainerService/managedClusters/read)",
    kubernetes:
        "AKS docs, Use Azure RBAC for Kubernetes authorization (data actions Microsoft.ContainerService/managedClusters/<group>/<resource>/<verb>); managed Entra ID: aadProfile.adminGroupObjectIDs are cluster-admin",
    rbacReadiness:
        "Kubernetes docs, Using RBAC Authorization, Default roles and role bindings (API discovery roles: system:basic-user, bound to the group system:authenticated, allows create selfsubjectaccessreviews; kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go); AKS docs, Control kubeconfig access (listClusterUserCredential) and Use kubelogin (the token of the deploying principal)",
    identityBinding:
        "AKS docs, Identity bindings (managedClusters/identityBindings/* on the cluster, federated credential write on the identity); issue 14",
} as const;

function str(value: unknown): string {
    return typeof value === "string" ? value : "";
}

function record(value: unknown): Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
    return Array.isArray(value) ? (value as unknown[]) : [];
}

function armId(context: GraphContext, resourceGroupName: unknown, provider: string, ...types: string[]): string {
    return `${resourceGroupId(context.subscriptionId, str(resourceGroupName))}/providers/${provider}/${types.join("/")}`;
}

function clusterIdOf(context: GraphContext, inputs: Record<string, unknown>): string {
    return managedClusterId(context.subscriptionId, str(inputs.resourceGroupName), str(inputs.resourceName));
}

function unique(values: readonly string[]): string[] {
    return [...new Map(values.filter((v) => v !== "").map((v) => [v.toLowerCase(), v])).values()];
}

const arm = (action: string, scope: string, operation?: string): Need => ({ action, scope, check: { kind: "arm" }, ...(operation === undefined ? {} : { operation }) });

const registration = (subscriptionId: string, namespace: string): Need => ({
    operation: "register the resource provider (once per subscription)",
    action: `${namespace}/register/action`,
    scope: `/subscriptions/${subscriptionId}`,
    check: { kind: "registration", namespace },
});

/** The subnets an agent pool profile (inline or its own resource) joins. */
function poolSubnets(pool: Record<string, unknown>): string[] {
    return [str(pool.vnetSubnetID), str(pool.podSubnetID)];
}

/** The Kubernetes kind and its Azure RBAC data action name: `<group>/<plural>` (core group omitted). */
function kubernetesResource(type: string): { kind: string; resource: string } {
    const match = /^kubernetes:([^:]+):(.+)$/.exec(type);
    const [groupVersion, rawKind] = match === null ? ["", type] : [match[1], match[2]];
    const kind = rawKind.replace(/Patch$/, "").replace(/List$/, "");
    const group = groupVersion.split("/").slice(0, -1).join("/");
    const lower = kind.toLowerCase();
    const plural = /(s|x|ch|sh)$/.test(lower) ? `${lower}es` : /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
    return { kind, resource: group === "" || group === "core" ? plural : `${group}/${plural}` };
}

function ownersOf(resource: RecordedResource | undefined): string[] {
    return list(resource?.inputs.owners).map((owner) => String(unwrapSecret(owner)));
}

/** The Application a service principal or FIC refers to, through the property it takes its ID from. */
function applicationOf(resource: RecordedResource, property: string, context: GraphContext): RecordedResource | undefined {
    for (const urn of resource.propertyDependencies[property] ?? []) {
        const found = context.byUrn(urn);
        if (found?.type === TYPES.application) {
            return found;
        }
    }
    return context.resources.find((r) => r.type === TYPES.application && r.parent === resource.parent);
}

const isKubernetesObject = (type: string): boolean => type.startsWith("kubernetes:");

/**
 * What each resource type needs, one entry per type and operation. Adding a resource type means
 * adding an entry here; a custom resource of a type no entry covers is reported as missing.
 */
export const REQUIREMENTS: readonly Requirement[] = [
    {
        types: [TYPES.resourceGroup],
        operation: "create or update the resource group",
        source: SOURCES.operations,
        needs: (r, c) => [arm("Microsoft.Resources/subscriptions/resourceGroups/write", resourceGroupId(c.subscriptionId, str(r.inputs.resourceGroupName)))],
    },
    {
        types: [TYPES.managedCluster],
        operation: "create or update the cluster",
        source: SOURCES.operations,
        needs: (r, c) => [arm("Microsoft.ContainerService/managedClusters/write", clusterIdOf(c, r.inputs))],
    },
    {
        types: [TYPES.managedCluster],
        operation: "link the Defender Log Analytics workspace (checked on every cluster write)",
        source: SOURCES.workspace,
        needs: (r) => {
            const workspace = str(record(record(r.inputs.securityProfile).defender).logAnalyticsWorkspaceResourceId);
            return workspace === ""
                ? []
                : LINK_WORKSPACE_ROLE.permissions.actions.map((action) => arm(action, workspace));
        },
    },
    {
        types: [TYPES.managedCluster],
        operation: "put the cluster into the subnets it brings",
        source: SOURCES.subnet,
        needs: (r) =>
            unique([...list(r.inputs.agentPoolProfiles).flatMap((pool) => poolSubnets(record(pool))), str(record(r.inputs.apiServerAccessProfile).subnetId)]).map((subnet) =>
                arm("Microsoft.Network/virtualNetworks/subnets/join/action", subnet),
            ),
    },
    {
        types: [TYPES.managedCluster],
        operation: "assign the user-assigned identities the cluster uses",
        source: SOURCES.identityAssign,
        needs: (r) =>
            unique([...Object.keys(record(record(r.inputs.identity).userAssignedIdentities)), str(record(record(r.inputs.identityProfile).kubeletidentity).resourceId)]).map((identity) =>
                arm("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", identity),
            ),
    },
    {
        types: [TYPES.managedCluster],
        operation: "register the resource providers",
        source: SOURCES.registration,
        needs: (r, c) => [
            ...["Microsoft.ContainerService", "Microsoft.Compute", "Microsoft.Network"].map((namespace) => registration(c.subscriptionId, namespace)),
            ...(record(record(r.inputs.addonProfiles).azurepolicy).enabled === true ? [registration(c.subscriptionId, "Microsoft.PolicyInsights")] : []),
        ],
    },
    {
        types: [TYPES.agentPool],
        operation: "create or update the node pool",
        source: SOURCES.operations,
        needs: (r, c) => [
            arm("Microsoft.ContainerService/managedClusters/agentPools/write", `${clusterIdOf(c, r.inputs)}/agentPools/${str(r.inputs.agentPoolName)}`),
            ...unique(poolSubnets(r.inputs)).map((subnet) => arm("Microsoft.Network/virtualNetworks/subnets/join/action", subnet, "put the node pool into its subnet")),
            registration(c.subscriptionId, "Microsoft.ContainerService"),
        ],
    },
    {
        types: [TYPES.identityBinding],
        operation: "create or update the identity binding",
        source: SOURCES.identityBinding,
        needs: (r, c) => {
            const identity = str(record(record(r.inputs.properties).managedIdentity).resourceId);
            return [
                arm("Microsoft.ContainerService/managedClusters/identityBindings/write", `${clusterIdOf(c, r.inputs)}/identityBindings/${str(r.inputs.identityBindingName)}`),
                ...(identity === ""
                    ? []
                    : [arm("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write", identity, "let AKS write its aks-identity-binding federated credential")]),
                registration(c.subscriptionId, "Microsoft.ContainerService"),
            ];
        },
    },
    {
        types: [TYPES.genericResource],
        operation: "create or update the resource",
        source: SOURCES.operations,
        needs: (r, c) => {
            const namespace = str(r.inputs.resourceProviderNamespace);
            const parent = str(r.inputs.parentResourcePath).split("/").filter((part) => part !== "");
            const parentTypes = parent.filter((_, index) => index % 2 === 0);
            const type = str(r.inputs.resourceType);
            // An AKS identity binding (the stable API through the generic resource): AKS writes its
            // aks-identity-binding FIC on the identity as the caller (AKS docs, Identity bindings).
            const identity = type.toLowerCase() === "identitybindings" ? str(record(record(r.inputs.properties).managedIdentity).resourceId) : "";
            return [
                arm(
                    [namespace, ...parentTypes, type, "write"].join("/"),
                    armId(c, r.inputs.resourceGroupName, namespace, ...parent, type, str(r.inputs.resourceName)),
                ),
                ...(identity === ""
                    ? []
                    : [arm("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write", identity, "let AKS write its aks-identity-binding federated credential")]),
            ];
        },
    },
    {
        types: [TYPES.userAssignedIdentity],
        operation: "create or update the managed identity",
        source: SOURCES.operations,
        needs: (r, c) => [
            arm("Microsoft.ManagedIdentity/userAssignedIdentities/write", armId(c, r.inputs.resourceGroupName, "Microsoft.ManagedIdentity", "userAssignedIdentities", str(r.inputs.resourceName))),
            registration(c.subscriptionId, "Microsoft.ManagedIdentity"),
        ],
    },
    {
        types: [TYPES.federatedIdentityCredential],
        operation: "create or update the federated identity credential",
        source: SOURCES.operations,
        needs: (r, c) => [
            arm(
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
                armId(c, r.inputs.resourceGroupName, "Microsoft.ManagedIdentity", "userAssignedIdentities", str(r.inputs.resourceName), "federatedIdentityCredentials", str(r.inputs.federatedIdentityCredentialResourceName)),
            ),
            registration(c.subscriptionId, "Microsoft.ManagedIdentity"),
        ],
    },
    {
        types: [TYPES.roleAssignment],
        operation: "create the role assignment",
        source: SOURCES.roleAssignments,
        needs: (r) => [
            {
                action: "Microsoft.Authorization/roleAssignments/write",
                scope: str(r.inputs.scope),
                check: { kind: "assign", roleId: (str(r.inputs.roleDefinitionId).split("/").pop() ?? "").toLowerCase() },
            },
        ],
    },
    {
        types: [TYPES.application],
        operation: "create the app registration",
        source: SOURCES.graph,
        needs: () => [{ action: "Microsoft Graph Application.ReadWrite.OwnedBy", scope: "Microsoft Graph /applications", check: { kind: "graph" } }],
    },
    {
        types: [TYPES.application],
        operation: "stay an owner of the app registration (its service principal, FICs and every later update)",
        source: SOURCES.graph,
        needs: (r) => [{ action: "owner (owners)", scope: `application ${str(r.inputs.displayName)}`, check: { kind: "owner", owners: ownersOf(r) } }],
    },
    {
        types: [TYPES.servicePrincipal],
        operation: "create the service principal",
        source: SOURCES.graph,
        needs: (r, c) => {
            const application = applicationOf(r, "clientId", c);
            return [
                { action: "Microsoft Graph Application.ReadWrite.OwnedBy", scope: "Microsoft Graph /servicePrincipals", check: { kind: "graph" } },
                { action: "owner (owners)", scope: `application ${str(application?.inputs.displayName)}`, check: { kind: "owner", owners: ownersOf(application) } },
                { action: "owner (owners)", scope: `service principal of ${str(application?.inputs.displayName)}`, check: { kind: "owner", owners: ownersOf(r) } },
            ];
        },
    },
    {
        types: [TYPES.applicationFederatedIdentityCredential],
        operation: "create or update the app registration's federated credential",
        source: SOURCES.graph,
        needs: (r, c) => {
            const application = applicationOf(r, "applicationId", c);
            return [{ action: "owner (owners)", scope: `application ${str(application?.inputs.displayName)}`, check: { kind: "owner", owners: ownersOf(application) } }];
        },
    },
    {
        types: [TYPES.kubernetesProvider],
        operation: "read the cluster's user kubeconfig",
        source: SOURCES.kubeconfig,
        needs: (r, c) => {
            const cluster = c.clusterOfProvider(`${r.urn}::`);
            return [arm("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", cluster?.id ?? "(unknown cluster)")];
        },
    },
    {
        // components/rbac-readiness-provider.ts: with the cluster's user kubeconfig (kubelogin, the
        // deploying principal's own token) it asks the API server SelfSubjectAccessReviews until
        // Kubernetes RBAC allows the deploy; the question itself needs no grant of the stack.
        types: [TYPES.kubernetesRbacReadiness],
        operation: "wait until Kubernetes RBAC lets the deploy identity in (SelfSubjectAccessReview)",
        source: SOURCES.rbacReadiness,
        needs: (r, c) => {
            const parent = r.parent === undefined ? undefined : c.byUrn(r.parent);
            const cluster = parent === undefined ? undefined : c.clusterOfComponent(parent);
            const id = cluster?.id ?? "(unknown cluster)";
            return [
                arm("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", id, "read the cluster's user kubeconfig (kubelogin credentials)"),
                {
                    operation: "ask SelfSubjectAccessReviews (create selfsubjectaccessreviews, authorization.k8s.io)",
                    action: "Microsoft.ContainerService/managedClusters/authorization.k8s.io/selfsubjectaccessreviews/write",
                    scope: id,
                    check: { kind: "authenticated" },
                },
            ];
        },
    },
    {
        types: [TYPES.adoptedCluster],
        operation: "look up the adopted cluster",
        source: SOURCES.adopted,
        needs: (r, c) => [arm("Microsoft.ContainerService/managedClusters/read", c.clusterOfComponent(r)?.id ?? "(unknown cluster)")],
    },
    {
        types: isKubernetesObject,
        operation: "create or update the Kubernetes object",
        source: SOURCES.kubernetes,
        needs: (r, c) => {
            const cluster = c.clusterOfProvider(r.provider) ?? { id: "(unknown cluster)", adminGroupObjectIds: [] };
            const { kind, resource } = kubernetesResource(r.type);
            const metadata = record(r.inputs.metadata);
            const namespace = str(metadata.namespace);
            const name = str(metadata.name);
            return [
                {
                    operation: `${r.type.endsWith("Patch") ? "patch" : "create or update"} ${kind} ${namespace === "" ? name : `${namespace}/${name}`}`,
                    action: `Microsoft.ContainerService/managedClusters/${resource}/write`,
                    scope: namespace === "" ? cluster.id : `${cluster.id}/namespaces/${namespace}`,
                    check: { kind: "kubernetes", cluster },
                },
            ];
        },
    },
];

/** Types that need nothing of the deploy identity: the stack itself, components, provider resources. */
function needsNothing(resource: RecordedResource): boolean {
    return resource.type === TYPES.stack || (!resource.custom && resource.type !== TYPES.adoptedCluster) || (resource.type.startsWith("pulumi:providers:") && resource.type !== TYPES.kubernetesProvider);
}

function appliesTo(requirement: Requirement, type: string): boolean {
    return typeof requirement.types === "function" ? requirement.types(type) : requirement.types.includes(type);
}

/** The cluster name in a kubeconfig (AKS names its cluster entry after the managed cluster). */
function kubeconfigClusterName(kubeconfig: unknown): string | undefined {
    try {
        const document = record(parseYaml(String(unwrapSecret(kubeconfig))));
        const name = record(list(document.clusters)[0]).name;
        return typeof name === "string" ? name : undefined;
    } catch {
        return undefined;
    }
}

function graphContext(graph: PermissionGraph, subscriptionId: string): GraphContext {
    const resources = graph.resources;
    const invokes = graph.invokes ?? [];
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const clusterOfComponent = (component: RecordedResource): ClusterInfo | undefined => {
        const children = resources.filter((r) => r.parent === component.urn);
        const cluster = children.find((r) => r.type === TYPES.managedCluster);
        if (cluster !== undefined) {
            return {
                id: managedClusterId(subscriptionId, str(cluster.inputs.resourceGroupName), str(cluster.inputs.resourceName)),
                adminGroupObjectIds: list(record(cluster.inputs.aadProfile).adminGroupObjectIDs).map(String),
            };
        }
        // An adopted cluster: its kubeconfig names it, and the lookups give its resource group.
        const provider = children.find((r) => r.type === TYPES.kubernetesProvider);
        const name = provider === undefined ? undefined : kubeconfigClusterName(provider.inputs.kubeconfig);
        const lookup = invokes.find(
            (invoke) =>
                (invoke.token === "azure-native:containerservice:getManagedCluster" || invoke.token === "azure-native:containerservice:listManagedClusterUserCredentials") &&
                invoke.args.resourceName === name,
        );
        return lookup === undefined ? undefined : { id: managedClusterId(subscriptionId, str(lookup.args.resourceGroupName), str(lookup.args.resourceName)), adminGroupObjectIds: [] };
    };
    return {
        subscriptionId,
        resources,
        invokes,
        byUrn: (urn) => byUrn.get(urn),
        clusterOfComponent,
        clusterOfProvider: (reference) => {
            const urn = reference === undefined ? undefined : reference.split("::").slice(0, -1).join("::");
            const provider = urn === undefined ? undefined : byUrn.get(urn);
            const component = provider?.parent === undefined ? undefined : byUrn.get(provider.parent);
            return component === undefined ? undefined : clusterOfComponent(component);
        },
    };
}

/** Whether an action matches an Azure RBAC permission pattern (`*` is any run of characters, case-insensitive). */
export function actionMatches(pattern: string, action: string): boolean {
    const expression = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${expression}$`, "i").test(action);
}

/** Whether a role's permissions allow an action on the control plane or the data plane. */
export function permits(permissions: RolePermissions | undefined, action: string, plane: "control" | "data"): boolean {
    if (permissions === undefined) {
        return false;
    }
    const [allowed, denied] = plane === "control" ? [permissions.actions, permissions.notActions] : [permissions.dataActions, permissions.notDataActions];
    return allowed.some((pattern) => actionMatches(pattern, action)) && !denied.some((pattern) => actionMatches(pattern, action));
}

function roleName(roleId: string): string {
    return (Object.keys(BUILT_IN_ROLES) as BuiltInRoleName[]).find((name) => BUILT_IN_ROLES[name] === roleId) ?? roleId;
}

/** How a grant is named in the view: its key under the identity, the role, and the scope. */
export function describeGrant(grant: RoleGrant): string {
    const condition = grant.allowedRoleIds === undefined ? "" : `, ABAC: only ${grant.allowedRoleIds.map(roleName).join(", ")}`;
    return `${grant.key} (${grant.role.name} on ${grant.scope}${condition})`;
}

const RERUN_BOOTSTRAP = "The bootstrap grants what the committed stack files need: commit the change, re-run the bootstrap (bootstrap/, an operator), then deploy.";

function evaluate(need: Need, grants: PipelineGrants, context: GraphContext): Pick<PermissionEntry, "status" | "grant" | "hint"> {
    const covering = (plane: "control" | "data"): RoleGrant[] =>
        grants.roles.filter((grant) => withinScope(need.scope, grant.scope) && permits(grant.role.permissions, need.action, plane));
    const check = need.check;
    switch (check.kind) {
        case "arm": {
            const grant = covering("control")[0];
            return grant === undefined
                ? { status: "missing", hint: `No grant of the ${grants.environment} deploy identity allows ${need.action} on ${need.scope}. ${RERUN_BOOTSTRAP}` }
                : { status: "granted", grant: describeGrant(grant) };
        }
        case "assign": {
            const candidates = covering("control");
            const grant = candidates.find((candidate) => candidate.allowedRoleIds === undefined || candidate.allowedRoleIds.includes(check.roleId));
            if (grant !== undefined) {
                return { status: "granted", grant: describeGrant(grant) };
            }
            return {
                status: "missing",
                hint:
                    candidates.length === 0
                        ? `No Role Based Access Control Administrator of the ${grants.environment} deploy identity covers ${need.scope}, so it cannot assign ${roleName(check.roleId)} there. ${RERUN_BOOTSTRAP}`
                        : `The ABAC condition of ${candidates.map((candidate) => candidate.key).join(", ")} allows only ${[...new Set(candidates.flatMap((candidate) => candidate.allowedRoleIds ?? []))].map(roleName).join(", ")}, not ${roleName(check.roleId)}. ${RERUN_BOOTSTRAP}`,
            };
        }
        case "kubernetes": {
            const group = grants.groups.find((candidate) => check.cluster.adminGroupObjectIds.some((id) => id.toLowerCase() === candidate.groupObjectId.toLowerCase()));
            if (group !== undefined) {
                return { status: "granted", grant: `${group.key} (member of admin group ${group.groupObjectId}: cluster-admin)` };
            }
            const principal = grants.principalId?.toLowerCase();
            const own = context.resources.find(
                (r) =>
                    r.type === TYPES.roleAssignment &&
                    principal !== undefined &&
                    str(r.inputs.principalId).toLowerCase() === principal &&
                    withinScope(need.scope, str(r.inputs.scope)) &&
                    permits(BUILT_IN_ROLE_PERMISSIONS[(str(r.inputs.roleDefinitionId).split("/").pop() ?? "").toLowerCase()], need.action, "data"),
            );
            if (own !== undefined) {
                return { status: "granted", grant: `the stack's own ${own.name} (${roleName((str(own.inputs.roleDefinitionId).split("/").pop() ?? "").toLowerCase())} for the deploy identity)` };
            }
            const grant = covering("data")[0];
            return grant === undefined
                ? {
                      status: "missing",
                      hint: `The ${grants.environment} deploy identity has no Kubernetes RBAC on ${check.cluster.id}: give the cluster an adminGroupObjectIds group (the bootstrap adds the identity to it), or list the identity${grants.principalId === undefined ? "" : ` ${grants.principalId}`} in clusterAdmins. ${RERUN_BOOTSTRAP}`,
                  }
                : { status: "granted", grant: describeGrant(grant) };
        }
        case "authenticated":
            // Kubernetes' default ClusterRoleBinding system:basic-user gives it to system:authenticated.
            return { status: "granted", grant: "system:basic-user (Kubernetes default ClusterRole, bound to system:authenticated: every principal the API server authenticates)" };
        case "graph": {
            const grant = grants.graph[0];
            return grant === undefined
                ? {
                      status: "missing",
                      hint: `The ${grants.environment} deploy identity has no Microsoft Graph permission: the bootstrap grants Application.ReadWrite.OwnedBy when the committed stack file has a principal: application workload (and microsoftGraphServicePrincipalObjectId is set). ${RERUN_BOOTSTRAP}`,
                  }
                : { status: "granted", grant: `${grant.key} (Microsoft Graph ${grant.permission})` };
        }
        case "owner": {
            const fix = `Set aks-workload-identity:applicationOwners in the stack file to exactly the ${grants.environment} deploy identity's object ID (bootstrap output applicationOwners).`;
            if (check.owners.length === 0) {
                return {
                    status: "missing",
                    hint: `owners is empty: with Application.ReadWrite.OwnedBy the azuread provider removes the caller from the owners of what it creates, and every later write gets 403. ${fix}`,
                };
            }
            const principal = grants.principalId?.toLowerCase();
            const others = principal === undefined ? check.owners.slice(1) : check.owners.filter((owner) => owner.toLowerCase() !== principal);
            if (principal !== undefined && others.length === check.owners.length) {
                return { status: "missing", hint: `owners ${check.owners.join(", ")} does not include the deploy identity ${grants.principalId ?? ""} (bootstrap config environments[].principalId). ${fix}` };
            }
            if (others.length > 0) {
                return {
                    status: "missing",
                    hint: `owners lists ${check.owners.length} principals: Application.ReadWrite.OwnedBy cannot add an owner other than the caller (that needs Application.ReadWrite.All). ${fix}`,
                };
            }
            return principal === undefined
                ? { status: "granted", grant: `owners ${check.owners[0]} (aks-workload-identity:applicationOwners; record environments[].principalId in the bootstrap config to check it is the deploy identity)` }
                : { status: "granted", grant: `owners ${check.owners[0]} (aks-workload-identity:applicationOwners: the deploy identity)` };
        }
        case "registration": {
            const registered = grants.registrations.find((candidate) => candidate.namespace.toLowerCase() === check.namespace.toLowerCase());
            return registered === undefined
                ? {
                      status: "missing",
                      hint: `The bootstrap does not register ${check.namespace} (bootstrap output providerRegistrationCommands), and the deploy identity cannot: it is a subscription-scope action. Add it to RESOURCE_PROVIDERS in bootstrap/grants.ts and run az provider register --namespace ${check.namespace} once.`,
                  }
                : { status: "granted", grant: `one-time registration by an operator (bootstrap output providerRegistrationCommands: ${registered.reasons.join(", ")})` };
        }
    }
}

/**
 * Every operation a deploy of `graph` performs, the permission each needs at its scope, and
 * whether `grants` cover it. Resource provider registrations appear once per namespace.
 */
export function permissionEntries(graph: PermissionGraph, grants: PipelineGrants): PermissionEntry[] {
    const context = graphContext(graph, grants.subscriptionId);
    const entries: PermissionEntry[] = [];
    const registered = new Set<string>();
    for (const resource of graph.resources) {
        if (needsNothing(resource)) {
            continue;
        }
        const requirements = REQUIREMENTS.filter((requirement) => appliesTo(requirement, resource.type));
        if (requirements.length === 0) {
            entries.push({
                resource: resource.name,
                type: resource.type,
                operation: "create or update",
                action: "(unknown: no entry in the permission table)",
                scope: "",
                status: "missing",
                hint: `No entry of REQUIREMENTS in plan/permissions.ts covers ${resource.type}: add one (its operations, actions and scopes, with the source) so the view can check it.`,
                source: "plan/permissions.ts",
            });
            continue;
        }
        for (const requirement of requirements) {
            for (const need of requirement.needs(resource, context)) {
                if (need.check.kind === "registration") {
                    if (registered.has(need.check.namespace.toLowerCase())) {
                        continue;
                    }
                    registered.add(need.check.namespace.toLowerCase());
                }
                entries.push({
                    resource: resource.name,
                    type: resource.type,
                    operation: need.operation ?? requirement.operation,
                    action: need.action,
                    scope: need.scope,
                    ...evaluate(need, grants, context),
                    source: requirement.source,
                });
            }
        }
    }
    return entries;
}

/** The bootstrap config the plan reads by default: the example, with the committed stack files. */
export const DEFAULT_BOOTSTRAP_CONFIG = path.join(REPOSITORY_ROOT, "bootstrap", "Pulumi.example.yaml");

/** A bootstrap config that cannot be read, is invalid, or deploys no such stack: printed as one message. */
export class BootstrapGrantsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BootstrapGrantsError";
    }
}

/**
 * What the bootstrap grants the deploy identity of `stack` (the environment whose stack it is, or
 * of that name), computed from a bootstrap config file and the stack files it names (the committed
 * ones, relative to the repository root). Throws a BootstrapGrantsError with every problem.
 */
export function pipelineGrants(stack: string, bootstrapConfigFile: string = DEFAULT_BOOTSTRAP_CONFIG, options: ParseOptions = {}): PipelineGrants {
    if (!fs.existsSync(bootstrapConfigFile)) {
        throw new BootstrapGrantsError(`No bootstrap config at ${bootstrapConfigFile}.`);
    }
    let flat: Record<string, string>;
    try {
        flat = readStackFile(bootstrapConfigFile).config;
    } catch (error) {
        throw new BootstrapGrantsError(`${bootstrapConfigFile} is not a readable bootstrap config: ${error instanceof Error ? error.message : String(error)}`);
    }
    const result = parseBootstrapConfig(rawBootstrapConfig(flat), options);
    if ("problems" in result) {
        throw new BootstrapGrantsError(`${bootstrapConfigFile}: ${formatBootstrapProblems(result.problems)}`);
    }
    const environments = result.config.environments;
    const environment = environments.find((candidate) => candidate.stack === stack) ?? environments.find((candidate) => candidate.name === stack);
    if (environment === undefined) {
        throw new BootstrapGrantsError(
            `The bootstrap config ${bootstrapConfigFile} has no environment that deploys stack "${stack}". Its environments deploy: ${environments.map((candidate) => `${candidate.name} (stack ${candidate.stack})`).join(", ")}.`,
        );
    }
    return pipelineGrantsFor(result.config, environment);
}

/** Counts of an entry list. */
export function permissionSummary(entries: readonly PermissionEntry[]): { granted: number; missing: number } {
    const missing = entries.filter((entry) => entry.status === "missing").length;
    return { granted: entries.length - missing, missing };
}

/** Plain text: one line per entry, what to do under each missing one. */
export function renderPermissionsText(entries: readonly PermissionEntry[], title = "Permissions"): string {
    const { granted, missing } = permissionSummary(entries);
    const lines = [`${title}: ${granted} granted, ${missing} missing`];
    for (const entry of entries) {
        const where = entry.scope === "" ? "" : ` on ${entry.scope}`;
        lines.push(`  ${entry.status === "granted" ? "granted" : "MISSING"}  ${entry.resource}: ${entry.operation}: ${entry.action}${where}`);
        lines.push(entry.status === "granted" ? `           by ${entry.grant ?? "?"}` : `           ${entry.hint ?? ""}`);
    }
    return `${lines.join("\n")}\n`;
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A Markdown table, missing entries first. */
export function renderPermissionsMarkdown(entries: readonly PermissionEntry[], title = "Permissions"): string {
    const { granted, missing } = permissionSummary(entries);
    const ordered = [...entries.filter((entry) => entry.status === "missing"), ...entries.filter((entry) => entry.status === "granted")];
    const rows = ordered.map(
        (entry) =>
            `| ${entry.status === "granted" ? "granted" : "**missing**"} | \`${cell(entry.resource)}\` | ${cell(entry.operation)} | \`${cell(entry.action)}\` | \`${cell(entry.scope)}\` | ${cell(entry.status === "granted" ? (entry.grant ?? "") : (entry.hint ?? ""))} |`,
    );
    return [
        `## ${title}`,
        "",
        `${granted} granted, ${missing} missing.`,
        "",
        "| status | resource | operation | action | scope | granted by / what to do |",
        "|---|---|---|---|---|---|",
        ...rows,
        "",
    ].join("\n");
}
