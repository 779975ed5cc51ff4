import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { BUILT_IN_ROLES, broadScopeProblem, parseScope, resolveRole, roleDefinitionIdAt, roleDefinitionIdFor } from "../components/roles";

const SUB = "00000000-0000-0000-0000-000000000000";
const fixture = JSON.parse(readFileSync(path.join(__dirname, "fixtures", "built-in-roles.json"), "utf8")) as { roles: Record<string, string> };

describe("built-in role table", () => {
    it("matches the documented role definition IDs exactly", () => {
        assert.deepEqual({ ...BUILT_IN_ROLES }, fixture.roles);
    });
});

describe("resolveRole", () => {
    it("resolves names case-insensitively, GUIDs and full IDs to the same built-in", () => {
        const guid = "4633458b-17de-408a-b874-0445c86b69e6";
        assert.deepEqual(resolveRole("Key Vault Secrets User"), { name: "Key Vault Secrets User", guid });
        assert.deepEqual(resolveRole("key vault secrets user"), { name: "Key Vault Secrets User", guid });
        assert.deepEqual(resolveRole(guid.toUpperCase()), { name: "Key Vault Secrets User", guid });
        const id = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
        assert.deepEqual(resolveRole(id), { name: "Key Vault Secrets User", guid, definitionId: id });
    });

    it("keeps custom role GUIDs without a name", () => {
        assert.deepEqual(resolveRole("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), { name: undefined, guid: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" });
    });

    it("refuses unknown names with a suggestion", () => {
        const result = resolveRole("Key Vault Secret User");
        assert.ok("error" in result, "a near-miss role name is refused");
        assert.match(result.error, /^unknown role "Key Vault Secret User"\. Did you mean "Key Vault Secrets User"\? Allowed values are: a built-in role name \(Key Vault Secrets User, /);
        const far = resolveRole("Pizza Chef");
        assert.ok("error" in far, "an unrelated role name is refused");
        assert.match(far.error, /^unknown role "Pizza Chef"\. Allowed values are:/);
    });
});

describe("scopes", () => {
    it("classifies ARM scopes", () => {
        assert.deepEqual(parseScope(`/subscriptions/${SUB}`), { kind: "subscription", subscriptionId: SUB });
        assert.deepEqual(parseScope(`/subscriptions/${SUB}/resourceGroups/rg-data`), { kind: "resourceGroup", subscriptionId: SUB });
        assert.deepEqual(parseScope(`/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv`), { kind: "resource", subscriptionId: SUB });
        assert.deepEqual(
            parseScope(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/c`),
            { kind: "resource", subscriptionId: SUB },
        );
        assert.deepEqual(parseScope("/providers/Microsoft.Management/managementGroups/platform"), { kind: "managementGroup" });
        for (const bad of ["", "rg-data", `/subscriptions/${SUB}/`, "/subscriptions/not-a-guid", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults`]) {
            assert.equal(parseScope(bad), undefined, bad);
        }
    });

    it("qualifies role definition IDs by the scope's subscription", () => {
        const role = { guid: BUILT_IN_ROLES.AcrPull };
        assert.equal(
            roleDefinitionIdFor(role, { kind: "resource", subscriptionId: SUB }),
            `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES.AcrPull}`,
        );
        assert.equal(roleDefinitionIdFor(role, { kind: "managementGroup" }), `/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES.AcrPull}`);
        assert.equal(roleDefinitionIdFor({ guid: "x", definitionId: "/given" }, { kind: "subscription", subscriptionId: SUB }), "/given");
        assert.throws(() => roleDefinitionIdAt(role, "nope"), { message: /^invalid scope "nope"\. Allowed values are ARM IDs of a subscription/ });
    });

    it("refuses owner-like roles at subscription and management-group scope unless allowed", () => {
        const subscription = { kind: "subscription" as const, subscriptionId: SUB };
        const group = { kind: "resourceGroup" as const, subscriptionId: SUB };
        const mg = { kind: "managementGroup" as const };
        for (const role of ["Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"] as const) {
            const byName = resolveRole(role);
            const byGuid = resolveRole(BUILT_IN_ROLES[role]);
            const byId = resolveRole(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES[role]}`);
            for (const resolved of [byName, byGuid, byId]) {
                assert.ok(!("error" in resolved), "a built-in role resolves by name, GUID and full ID");
                assert.equal(
                    broadScopeProblem(resolved, subscription, false),
                    `role "${role}" at subscription scope is refused for a workload. Assign it on a resource group or resource, or set allowBroadScope: true on this assignment.`,
                );
                assert.match(broadScopeProblem(resolved, mg, false) ?? "", /at management-group scope is refused/);
                assert.equal(broadScopeProblem(resolved, subscription, true), undefined);
                assert.equal(broadScopeProblem(resolved, group, false), undefined);
            }
        }
        const reader = resolveRole("Reader");
        assert.ok(!("error" in reader), "Reader resolves");
        assert.equal(broadScopeProblem(reader, subscription, false), undefined);
    });
});
