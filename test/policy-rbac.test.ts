import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    rbacResourcePolicies,
    rbacStackPolicies,
    roleDefinitionIdWellFormed,
    workloadRoleAssignmentPrincipalType,
    workloadRoleAssignmentScope,
} from "../policy/rbac";
import { UNKNOWN_AT_PREVIEW, resourceArgs, stackArgs, stackViolationsOf, violationsOf, type StackResourceSpec } from "../policy/testing";
import { TYPES } from "../policy/resource-types";

const ROLE_ASSIGNMENT: string = TYPES.roleAssignment;
const IDENTITY: string = TYPES.userAssignedIdentity;
const SERVICE_PRINCIPAL: string = TYPES.servicePrincipal;
const SUB = "00000000-0000-0000-0000-000000000000";
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-data-dev/providers/Microsoft.KeyVault/vaults/kv-orders-dev`;
const roleId = (guid: string) => `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const AKS_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/** A managed identity and one role assignment of it (principalId from the identity's output). */
function workloadGrant(assignment: Record<string, unknown>, principal: StackResourceSpec = { type: IDENTITY, name: "orders-api-id", props: { resourceName: "id-orders-api-dev" } }): StackResourceSpec[] {
    return [
        principal,
        {
            type: ROLE_ASSIGNMENT,
            name: "orders-api-ra-secrets",
            props: { principalId: UNKNOWN_AT_PREVIEW, principalType: "ServicePrincipal", roleDefinitionId: roleId(KV_SECRETS_USER), scope: VAULT, ...assignment },
            propertyDependencies: { principalId: [principal.name] },
        },
    ];
}

/** A cluster admin grant: a literal principal, its own type. */
const clusterAdmin: StackResourceSpec = {
    type: ROLE_ASSIGNMENT,
    name: "main-admin-pipeline",
    props: {
        principalId: "33333333-3333-3333-3333-333333333333",
        principalType: "User",
        roleDefinitionId: roleId(AKS_CLUSTER_ADMIN),
        scope: `/subscriptions/${SUB}`,
    },
};

describe("RBAC policies: names and levels", () => {
    it("are the documented ones", () => {
        assert.deepEqual(
            [...rbacResourcePolicies, ...rbacStackPolicies].map((p) => [p.name, p.enforcementLevel]),
            [
                ["role-definition-id-well-formed", "mandatory"],
                ["workload-role-assignment-principal-type", "mandatory"],
                ["workload-role-assignment-scope", "mandatory"],
            ],
        );
    });
});

describe("workload-role-assignment-principal-type", () => {
    it("fires on a workload assignment without principalType", () => {
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentPrincipalType, stackArgs(workloadGrant({ principalType: undefined }))), [
            {
                resource: "orders-api-ra-secrets",
                message:
                    'RoleAssignment "orders-api-ra-secrets" grants a role to UserAssignedIdentity "orders-api-id" without principalType, so Azure looks the principal up as a User and fails with PrincipalNotFound while a new identity is still replicating. Set principalType: "ServicePrincipal".',
            },
        ]);
    });

    it("fires on a service principal's assignment typed User", () => {
        const sp: StackResourceSpec = { type: SERVICE_PRINCIPAL, name: "payments-sp", props: { clientId: "c" } };
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentPrincipalType, stackArgs(workloadGrant({ principalType: "User" }, sp))), [
            {
                resource: "orders-api-ra-secrets",
                message:
                    'RoleAssignment "orders-api-ra-secrets" grants a role to ServicePrincipal "payments-sp" with principalType "User"; a managed identity or service principal is a ServicePrincipal, and Azure rejects a type that does not match the principal. Set principalType: "ServicePrincipal".',
            },
        ]);
    });

    it("passes ServicePrincipal, and leaves cluster admins with literal principals alone", () => {
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentPrincipalType, stackArgs([...workloadGrant({}), clusterAdmin])), []);
        const untyped = Object.fromEntries(Object.entries(clusterAdmin.props ?? {}).filter(([key]) => key !== "principalType"));
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentPrincipalType, stackArgs([{ ...clusterAdmin, props: untyped }])), []);
    });
});

describe("workload-role-assignment-scope", () => {
    it("fires on Owner at subscription scope and Contributor at management-group scope", () => {
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentScope, stackArgs(workloadGrant({ roleDefinitionId: roleId(OWNER), scope: `/subscriptions/${SUB}` }))), [
            {
                resource: "orders-api-ra-secrets",
                message: `RoleAssignment "orders-api-ra-secrets" gives UserAssignedIdentity "orders-api-id" role "Owner" at subscription scope ("/subscriptions/${SUB}"): a workload holding it can take over everything in that scope. Assign the narrowest role that does the job (a data-plane role such as "Key Vault Secrets User") on the resource group or resource the workload uses.`,
            },
        ]);
        const group = "/providers/Microsoft.Management/managementGroups/contoso";
        assert.deepEqual(
            stackViolationsOf(
                workloadRoleAssignmentScope,
                stackArgs(workloadGrant({ roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`, scope: group })),
            ).map((v) => v.message),
            [
                `RoleAssignment "orders-api-ra-secrets" gives UserAssignedIdentity "orders-api-id" role "Contributor" at management-group scope ("${group}"): a workload holding it can take over everything in that scope. Assign the narrowest role that does the job (a data-plane role such as "Key Vault Secrets User") on the resource group or resource the workload uses.`,
            ],
        );
    });

    it("passes Owner on a resource group, a data role at subscription scope, and a cluster admin's grant", () => {
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentScope, stackArgs(workloadGrant({ roleDefinitionId: roleId(OWNER), scope: `/subscriptions/${SUB}/resourceGroups/rg-sandbox` }))), []);
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentScope, stackArgs(workloadGrant({ scope: `/subscriptions/${SUB}` }))), []);
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentScope, stackArgs([{ ...clusterAdmin, props: { ...clusterAdmin.props, roleDefinitionId: roleId(OWNER) } }])), []);
    });

    it("does not judge a scope unknown at preview", () => {
        assert.deepEqual(stackViolationsOf(workloadRoleAssignmentScope, stackArgs(workloadGrant({ roleDefinitionId: roleId(OWNER), scope: UNKNOWN_AT_PREVIEW }))), []);
    });
});

describe("role-definition-id-well-formed", () => {
    const check = (props: Record<string, unknown>) => violationsOf(roleDefinitionIdWellFormed, resourceArgs({ type: ROLE_ASSIGNMENT, name: "orders-api-ra-secrets", props }));
    const forms =
        "/subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/<role-guid>, or /providers/Microsoft.Authorization/roleDefinitions/<role-guid> at management-group scope";

    it("fires on a role name and suggests the full ID at the assignment's scope", () => {
        assert.deepEqual(check({ roleDefinitionId: "Key Vault Secrets User", scope: VAULT }), [
            `RoleAssignment "orders-api-ra-secrets": roleDefinitionId "Key Vault Secrets User" is not a role definition ID (${forms}). Use "${roleId(KV_SECRETS_USER)}" (Key Vault Secrets User).`,
        ]);
    });

    it("fires on a bare GUID without a usable scope", () => {
        assert.deepEqual(check({ roleDefinitionId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", scope: UNKNOWN_AT_PREVIEW }), [
            `RoleAssignment "orders-api-ra-secrets": roleDefinitionId "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" is not a role definition ID (${forms}). Use "/subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".`,
        ]);
    });

    it("fires on garbage and on a missing ID", () => {
        assert.deepEqual(check({ roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid", scope: VAULT }), [
            `RoleAssignment "orders-api-ra-secrets": roleDefinitionId "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid" is not a role definition ID (${forms}). Set it to ${forms}.`,
        ]);
        assert.deepEqual(check({ scope: VAULT }), [`RoleAssignment "orders-api-ra-secrets": no roleDefinitionId. Set it to ${forms}.`]);
    });

    it("passes subscription-level and tenant-level IDs, and an ID unknown at preview", () => {
        assert.deepEqual(check({ roleDefinitionId: roleId(KV_SECRETS_USER), scope: VAULT }), []);
        assert.deepEqual(check({ roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${KV_SECRETS_USER}`, scope: VAULT }), []);
        assert.deepEqual(check({ roleDefinitionId: UNKNOWN_AT_PREVIEW, scope: UNKNOWN_AT_PREVIEW }), []);
    });
});
