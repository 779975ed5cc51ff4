import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    FEDERATED_CREDENTIAL_NAME_PATTERN,
    NAME_LIMITS,
    aksNodeResourceGroupName,
    cafName,
    clusterName,
    dnsPrefix,
    nameLimitProblem,
    quickstartName,
    secretProviderClassName,
    stackResourceGroupName,
    workloadIdentityName,
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

    it("derives the Azure and Kubernetes names of a stack exactly", () => {
        // Public API: a change here renames (replaces) the resources of every deployed stack.
        assert.equal(clusterName("blue", "prod"), "aks-blue-prod");
        assert.equal(clusterName("Blue_Green", "prod"), "aks-blue-green-prod");
        assert.equal(workloadIdentityName("orders-api", "dev", "managedIdentity"), "id-orders-api-dev");
        assert.equal(workloadIdentityName("payments", "prod", "application"), "app-payments-prod");
        assert.equal(stackResourceGroupName("staging"), "rg-workload-identity-staging");
        assert.equal(aksNodeResourceGroupName("rg-workload-identity-dev", "aks-main-dev", "westeurope"), "MC_rg-workload-identity-dev_aks-main-dev_westeurope");
        assert.equal(secretProviderClassName("orders_api"), "orders-api-keyvault");
        assert.equal(quickstartName("orders-api"), "orders-api-quickstart");
    });

    it("checks derived names against their limits, naming the length when it is the problem", () => {
        assert.equal(nameLimitProblem(NAME_LIMITS.dnsPrefix, "aks-main-dev"), undefined);
        assert.equal(nameLimitProblem(NAME_LIMITS.dnsPrefix, "a".repeat(54)), undefined);
        assert.equal(
            nameLimitProblem(NAME_LIMITS.dnsPrefix, "a".repeat(55)),
            `DNS prefix "${"a".repeat(55)}" has 55 characters and is not allowed: 1 to 54 letters, digits and "-", starting and ending with a letter or digit.`,
        );
        assert.equal(nameLimitProblem(NAME_LIMITS.dnsPrefix, "-aks"), 'DNS prefix "-aks" is not allowed: 1 to 54 letters, digits and "-", starting and ending with a letter or digit.');
        assert.equal(nameLimitProblem(NAME_LIMITS.dnsPrefix, ""), 'DNS prefix "" is not allowed: 1 to 54 letters, digits and "-", starting and ending with a letter or digit.');
        const group80 = aksNodeResourceGroupName(`rg-${"x".repeat(50)}`, "aks-main-dev", "westeurope");
        assert.equal(group80.length, 80);
        assert.equal(nameLimitProblem(NAME_LIMITS.nodeResourceGroup, group80), undefined);
        assert.equal(
            nameLimitProblem(NAME_LIMITS.nodeResourceGroup, `${group80}x`),
            `node resource group "${group80}x" has 81 characters and is not allowed: at most 80 characters.`,
        );
        assert.equal(nameLimitProblem(NAME_LIMITS.kubernetesLabelValue, quickstartName("a".repeat(52))), undefined);
        assert.equal(nameLimitProblem(NAME_LIMITS.kubernetesLabelValue, quickstartName("a".repeat(53)))?.startsWith(`label value "${"a".repeat(53)}-quickstart" has 64 characters`), true);
        assert.equal(nameLimitProblem(NAME_LIMITS.federatedCredential, federatedCredentialName("x".repeat(200))), undefined);
        assert.equal(nameLimitProblem(NAME_LIMITS.federatedCredential, "f.c"), 'federated credential name "f.c" is not allowed: 3 to 120 letters, digits, "-" and "_", starting with a letter or digit.');
    });

    it("folds keys that differ only in separators into one FIC name (the config refuses such pairs)", () => {
        assert.equal(federatedCredentialName("deploy_dev"), federatedCredentialName("deploy-dev"));
        assert.equal(federatedCredentialName("Deploy.Dev"), "fic-deploy-dev");
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
