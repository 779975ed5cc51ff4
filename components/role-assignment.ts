import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { roleAssignmentName } from "./names";
import { roleDefinitionIdAt, type ResolvedRole } from "./roles";

/** Entra ID principal type of a role assignment. */
export type RoleAssignmentPrincipalType = "User" | "Group" | "ServicePrincipal";

/** One Azure role assignment, whoever it is for: a workload, a cluster admin, a cluster's identity, an operator. */
export interface RoleGrant {
    /** The Pulumi resource name (a stable key: a new name is a new assignment). */
    readonly resourceName: string;
    readonly role: ResolvedRole;
    readonly scope: pulumi.Input<string>;
    readonly principalId: pulumi.Input<string>;
    /**
     * Sent always: without it Azure looks the principal up as a User and fails while a new
     * service principal replicates (Azure RBAC docs, "principalType").
     */
    readonly principalType: RoleAssignmentPrincipalType;
    readonly description: pulumi.Input<string>;
    /** An ABAC condition (`condition`, version 2.0). */
    readonly condition?: pulumi.Input<string>;
    /**
     * The guard of a scope known only at deploy time: the message when it is refused. A scope
     * given as a plain value is the caller's to check before calling.
     */
    readonly lateScopeProblem?: (scope: string) => string | undefined;
    /** The role definition ID, when the caller knows it without the scope. Default: derived from the scope. */
    readonly roleDefinitionId?: string;
}

/**
 * The role assignment of `grant`, named deterministically: `roleAssignmentName` is a UUID v5 of
 * scope, principal and role definition, so a re-run or a config change never creates a second
 * assignment, and a change of any of the three is a new one (role assignments cannot be updated
 * in place: the ARM PUT of an existing name with another principal or scope fails with
 * RoleAssignmentUpdateNotPermitted, "Tenant ID, application ID, principal ID, and scope are not
 * allowed to be updated", per the Azure RBAC docs, "Troubleshoot Azure RBAC").
 */
export function assignRole(grant: RoleGrant, options: pulumi.CustomResourceOptions): authorization.RoleAssignment {
    const plainScope = typeof grant.scope === "string" ? grant.scope : undefined;
    const scope: pulumi.Input<string> =
        plainScope ??
        pulumi.output(grant.scope).apply((value) => {
            const problem = grant.lateScopeProblem?.(value);
            if (problem !== undefined) {
                throw new Error(problem);
            }
            return value;
        });
    const roleDefinitionId: pulumi.Input<string> =
        grant.roleDefinitionId ?? (plainScope !== undefined ? roleDefinitionIdAt(grant.role, plainScope) : pulumi.output(scope).apply((value) => roleDefinitionIdAt(grant.role, value)));
    return new authorization.RoleAssignment(
        grant.resourceName,
        {
            scope,
            principalId: grant.principalId,
            principalType: grant.principalType,
            roleDefinitionId,
            roleAssignmentName: pulumi.all([scope, grant.principalId, roleDefinitionId]).apply(([s, p, r]) => roleAssignmentName(s, p, r)),
            description: grant.description,
            ...(grant.condition === undefined ? {} : { condition: grant.condition, conditionVersion: "2.0" }),
        },
        options,
    );
}
