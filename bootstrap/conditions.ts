import { BUILT_IN_ROLES } from "../components/roles";

/**
 * The roles a pipeline may never hand out, however much else it may assign: each of them can
 * assign roles itself, so granting one would let the pipeline escalate past its own limits.
 */
export const PRIVILEGED_ADMINISTRATOR_ROLE_IDS: readonly string[] = [
    BUILT_IN_ROLES.Owner,
    BUILT_IN_ROLES["User Access Administrator"],
    BUILT_IN_ROLES["Role Based Access Control Administrator"],
];

/**
 * The ABAC condition (version 2.0) that lets a Role Based Access Control Administrator create and
 * delete role assignments for every role except `excludedRoleIds`.
 *
 * The operator is `ForAnyOfAllValues:GuidNotEquals`: the request's one role definition ID must
 * differ from every listed ID. `ForAnyOfAnyValues:GuidNotEquals` reads the same but is true as
 * soon as the ID differs from any one of two or more listed IDs - that is, always - and would
 * let Owner through.
 */
export function excludeRolesCondition(excludedRoleIds: readonly string[] = PRIVILEGED_ADMINISTRATOR_ROLE_IDS): string {
    const ids = `{${excludedRoleIds.join(", ")}}`;
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR " +
        `(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals ${ids})) AND ` +
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR " +
        `(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals ${ids}))`
    );
}
