import { BUILT_IN_ROLES } from "../components/roles";

/**
 * The roles a pipeline may never hand out: each of them can assign roles itself, so a pipeline
 * allowed to assign one could make itself (or anyone) Owner of the scope.
 */
export const PRIVILEGED_ADMINISTRATOR_ROLE_IDS: readonly string[] = [
    BUILT_IN_ROLES.Owner,
    BUILT_IN_ROLES["User Access Administrator"],
    BUILT_IN_ROLES["Role Based Access Control Administrator"],
];

/** The role definition GUIDs a condition lists: lower-case, de-duplicated, sorted. */
export function conditionRoleIds(roleIds: readonly string[]): string[] {
    return [...new Set(roleIds.map((id) => id.toLowerCase()))].sort();
}

/**
 * The ABAC condition (version 2.0) that lets a Role Based Access Control Administrator create and
 * delete role assignments of exactly `roleIds` and of no other role: the "Constrain roles" example
 * of the Azure docs ("Examples to delegate Azure role assignment management with conditions").
 *
 * `@Request[...RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a, b}` is true when the request's one
 * role definition ID equals one of the listed IDs. Deletes are constrained by the assignment that
 * exists (`@Resource`), so the pipeline can remove only what it may create.
 */
export function allowRolesCondition(roleIds: readonly string[]): string {
    const ids = conditionRoleIds(roleIds);
    if (ids.length === 0) {
        throw new Error("allowRolesCondition needs at least one role definition ID: a Role Based Access Control Administrator that may assign nothing is not granted at all.");
    }
    const privileged = ids.filter((id) => PRIVILEGED_ADMINISTRATOR_ROLE_IDS.includes(id));
    if (privileged.length > 0) {
        throw new Error(`allowRolesCondition refuses ${privileged.join(", ")}: a pipeline allowed to assign a role that assigns roles could escalate past its own limits.`);
    }
    const list = `{${ids.join(", ")}}`;
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR " +
        `(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${list})) AND ` +
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR " +
        `(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${list}))`
    );
}
