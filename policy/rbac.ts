import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { broadPrivilegedAssignment, parseScope, resolveRole, roleDefinitionIdFor } from "../components/roles";
import { ofTypes, resourcePolicy, stackPolicy, type StackProblem } from "./define";
import { TYPES } from "./resource-types";
import { UNKNOWN, label, propertySources, show, stringAt, WORKLOAD_PRINCIPAL_TYPES } from "./resources";

/**
 * Azure role assignments. A workload principal is recognised by structure, not by value: its
 * assignment's principalId comes from a user-assigned identity or an azuread service principal
 * (that output is unknown at preview). Cluster admins, given as literal object IDs with their
 * own principalType, are not workload principals.
 */

/** The managed identity or service principal whose object ID a role assignment's principalId is, if any. */
export function workloadPrincipalOf(assignment: PolicyResource): PolicyResource | undefined {
    return propertySources(assignment, "principalId").find((source) => WORKLOAD_PRINCIPAL_TYPES.includes(source.type));
}

function workloadAssignments(resources: readonly PolicyResource[]): { assignment: PolicyResource; principal: PolicyResource }[] {
    const found: { assignment: PolicyResource; principal: PolicyResource }[] = [];
    for (const assignment of resources) {
        const principal = assignment.type === TYPES.roleAssignment ? workloadPrincipalOf(assignment) : undefined;
        if (principal !== undefined) {
            found.push({ assignment, principal });
        }
    }
    return found;
}

export const workloadRoleAssignmentPrincipalType = stackPolicy({
    name: "workload-role-assignment-principal-type",
    description: 'Role assignments of workload principals (managed identities, service principals) set principalType: "ServicePrincipal".',
    enforcementLevel: "mandatory",
    remediationSteps: 'Set principalType: "ServicePrincipal" on the role assignment.',
    check: (args) => {
        const problems: StackProblem[] = [];
        for (const { assignment, principal } of workloadAssignments(args.resources)) {
            const principalType = stringAt(assignment.props, "principalType");
            if (principalType === UNKNOWN || principalType === "ServicePrincipal") {
                continue;
            }
            problems.push({
                urn: assignment.urn,
                message:
                    principalType === undefined
                        ? `${label(assignment)} grants a role to ${label(principal)} without principalType, so Azure looks the principal up as a User and fails with PrincipalNotFound while a new identity is still replicating. Set principalType: "ServicePrincipal".`
                        : `${label(assignment)} grants a role to ${label(principal)} with principalType ${show(principalType)}; a managed identity or service principal is a ServicePrincipal, and Azure rejects a type that does not match the principal. Set principalType: "ServicePrincipal".`,
            });
        }
        return problems;
    },
});

export const workloadRoleAssignmentScope = stackPolicy({
    name: "workload-role-assignment-scope",
    description:
        "No workload principal holds Owner, Contributor, User Access Administrator or Role Based Access Control Administrator at subscription or management-group scope.",
    enforcementLevel: "mandatory",
    remediationSteps: "Assign the narrowest role that does the job on the resource group or resource the workload uses.",
    check: (args) => {
        const problems: StackProblem[] = [];
        for (const { assignment, principal } of workloadAssignments(args.resources)) {
            const roleDefinitionId = stringAt(assignment.props, "roleDefinitionId");
            const scope = stringAt(assignment.props, "scope");
            if (typeof roleDefinitionId !== "string" || typeof scope !== "string") {
                continue;
            }
            const role = resolveRole(roleDefinitionId);
            const parsed = parseScope(scope);
            const broad = "error" in role || parsed === undefined ? undefined : broadPrivilegedAssignment(role, parsed);
            if (broad !== undefined) {
                problems.push({
                    urn: assignment.urn,
                    message: `${label(assignment)} gives ${label(principal)} ${broad} ("${scope}"): a workload holding it can take over everything in that scope. Assign the narrowest role that does the job (a data-plane role such as "Key Vault Secrets User") on the resource group or resource the workload uses.`,
                });
            }
        }
        return problems;
    },
});

const DEFINITION_ID_FORMS =
    "/subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/<role-guid>, or /providers/Microsoft.Authorization/roleDefinitions/<role-guid> at management-group scope";

export const roleDefinitionIdWellFormed = resourcePolicy({
    name: "role-definition-id-well-formed",
    description: "Role assignments name their role by a full role definition ID, not a role name or a bare GUID.",
    enforcementLevel: "mandatory",
    remediationSteps: `Set roleDefinitionId to ${DEFINITION_ID_FORMS}.`,
    appliesTo: ofTypes(TYPES.roleAssignment),
    check: (args) => {
        const roleDefinitionId = stringAt(args.props, "roleDefinitionId");
        if (roleDefinitionId === UNKNOWN) {
            return [];
        }
        if (roleDefinitionId === undefined || roleDefinitionId === "") {
            return [`${label(args)}: no roleDefinitionId. Set it to ${DEFINITION_ID_FORMS}.`];
        }
        const role = resolveRole(roleDefinitionId);
        if (!("error" in role) && role.definitionId !== undefined) {
            return [];
        }
        let fix = `Set it to ${DEFINITION_ID_FORMS}.`;
        if (!("error" in role)) {
            const scope = stringAt(args.props, "scope");
            const parsed = typeof scope === "string" ? parseScope(scope) : undefined;
            const example = parsed === undefined ? DEFINITION_ID_FORMS.split(",")[0].replace("<role-guid>", role.guid) : roleDefinitionIdFor(role, parsed);
            fix = `Use "${example}"${role.name === undefined ? "" : ` (${role.name})`}.`;
        }
        return [`${label(args)}: roleDefinitionId ${show(roleDefinitionId)} is not a role definition ID (${DEFINITION_ID_FORMS}). ${fix}`];
    },
});

export const rbacResourcePolicies: readonly ResourceValidationPolicy[] = [roleDefinitionIdWellFormed];
export const rbacStackPolicies: readonly StackValidationPolicy[] = [workloadRoleAssignmentPrincipalType, workloadRoleAssignmentScope];
