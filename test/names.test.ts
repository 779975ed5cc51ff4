import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    FEDERATED_CREDENTIAL_NAME_PATTERN,
    cafName,
    dnsPrefix,
    federatedCredentialName,
    normalizeNamePart,
    roleAssignmentName,
    serviceAccountSubject,
    uuidV5,
} from "../components/names";
import { closestMatch, editDistance } from "../components/suggest";

describe("name builders", () => {
    it("normalises config keys into Azure name parts", () => {
        const cases: [string, string][] = [
            ["orders-api", "orders-api"],
            ["Orders_API", "orders-api"],
            ["orders..api", "orders-api"],
            ["--x--", "x"],
            ["a b/c", "a-b-c"],
        ];
        for (const [input, expected] of cases) {
            assert.equal(normalizeNamePart(input), expected, input);
        }
    });

    it("builds CAF names from prefix, key and environment", () => {
        assert.equal(cafName("id", "orders-api", "dev"), "id-orders-api-dev");
        assert.equal(cafName("aks", "blue", "prod"), "aks-blue-prod");
        assert.equal(cafName("rg", "workload-identity", "staging"), "rg-workload-identity-staging");
        // Different spellings of one key collide on purpose: the config validation reports it.
        assert.equal(cafName("id", "orders_api", "dev"), cafName("id", "orders-api", "dev"));
    });

    it("builds the ServiceAccount subject exactly", () => {
        assert.equal(serviceAccountSubject("orders", "orders-api"), "system:serviceaccount:orders:orders-api");
    });

    it("builds FIC names that Azure accepts", () => {
        for (const key of ["main", "a", "blue.green", "x".repeat(200), "Under_Score"]) {
            const name = federatedCredentialName(key);
            assert.match(name, FEDERATED_CREDENTIAL_NAME_PATTERN, key);
        }
        assert.equal(federatedCredentialName("main"), "fic-main");
        assert.equal(federatedCredentialName("blue.green"), "fic-blue-green");
        assert.equal(federatedCredentialName("x".repeat(200)).length, 120);
    });

    it("builds DNS prefixes of at most 54 characters", () => {
        assert.equal(dnsPrefix("aks-main-dev"), "aks-main-dev");
        assert.equal(dnsPrefix("a".repeat(60)), "a".repeat(54));
    });

    it("computes RFC 4122 version 5 UUIDs", () => {
        // The RFC's DNS namespace example, as every uuid library computes it.
        assert.equal(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
        assert.throws(() => uuidV5("x", "not-a-uuid"), { message: "Invalid UUID namespace: not-a-uuid" });
    });

    it("names role assignments deterministically and case-insensitively", () => {
        const scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg";
        const role = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";
        const name = roleAssignmentName(scope, "11111111-1111-1111-1111-111111111111", role);
        assert.match(name, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(roleAssignmentName(scope.toUpperCase(), "11111111-1111-1111-1111-111111111111", role), name);
        assert.notEqual(roleAssignmentName(scope, "22222222-2222-2222-2222-222222222222", role), name);
        assert.notEqual(roleAssignmentName(`${scope}2`, "11111111-1111-1111-1111-111111111111", role), name);
    });
});

describe("suggestions", () => {
    it("counts edits, with a transposition as one", () => {
        assert.equal(editDistance("main", "main"), 0);
        assert.equal(editDistance("mian", "main"), 1);
        assert.equal(editDistance("serviceaccount", "serviceAccount"), 0);
        assert.equal(editDistance("kitten", "sitting"), 3);
    });

    it("suggests only plausible typos", () => {
        assert.equal(closestMatch("mian", ["main", "blue"]), "main");
        assert.equal(closestMatch("Key Vault Secret User", ["Key Vault Secrets User", "Key Vault Secrets Officer"]), "Key Vault Secrets User");
        assert.equal(closestMatch("zzz", ["main", "blue"]), undefined);
    });
});
