import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { productFiles, ROOT } from "../testing/source-files";
import { COMMITTED_SCHEMA, PACKAGE_COMPONENTS, PACKAGE_DIR, committedSchema, componentProvider, formatSchema, type PackageSchema, type PropertySchema } from "../components/package-schema";

/**
 * The component package as Pulumi's own analyzer sees it: `ComponentProvider.getSchema()` on the
 * package folder, the path `pulumi package add` takes. It runs once for this file (it type-checks
 * the package, some seconds).
 */

const PREFIX = "aks-workload-identity:index:";
let derived: string;
let schema: PackageSchema;

before(async () => {
    derived = await componentProvider().getSchema();
    schema = JSON.parse(derived) as PackageSchema;
});

function resource(name: string): NonNullable<PackageSchema["resources"][string]> {
    const found = schema.resources[`${PREFIX}${name}`];
    assert.ok(found !== undefined, `the schema has no component ${name}`);
    return found;
}

/** The type a property refers to, `$ref` resolved. */
function typeOf(property: PropertySchema | undefined): string {
    assert.ok(property !== undefined, "the property exists");
    if (property.$ref !== undefined) {
        return property.$ref.replace(`#/types/${PREFIX}`, "");
    }
    if (property.type === "array") {
        return `${typeOf(property.items)}[]`;
    }
    if (property.type === "object" && property.additionalProperties !== undefined) {
        return `map<${typeOf(property.additionalProperties)}>`;
    }
    return property.type ?? "?";
}

describe("the component package", () => {
    it("is a source-based plugin package named as its type tokens are", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")) as { name: string; main: string };
        assert.equal(manifest.name, "aks-workload-identity");
        assert.equal(manifest.main, "plugin.ts");
        assert.deepEqual(parseYaml(fs.readFileSync(path.join(PACKAGE_DIR, "PulumiPlugin.yaml"), "utf8")), { runtime: "nodejs" });
        assert.equal(schema.name, manifest.name);
    });

    it("has its schema committed, equal to what the analyzer derives (run `npm run schema` when this fails)", () => {
        assert.equal(fs.readFileSync(COMMITTED_SCHEMA, "utf8"), formatSchema(derived), "components/schema.json is stale");
        assert.deepEqual(committedSchema(), schema);
    });

    it("names exactly the three components", () => {
        assert.deepEqual(Object.keys(schema.resources).sort(), PACKAGE_COMPONENTS.map((name) => `${PREFIX}${name}`).sort());
        for (const name of PACKAGE_COMPONENTS) {
            assert.equal(resource(name).isComponent, true, `${name} is a component`);
        }
    });

    it("gives WorkloadIdentityCluster its inputs and outputs", () => {
        const cluster = resource("WorkloadIdentityCluster");
        const inputs = cluster.inputProperties ?? {};
        assert.equal(typeOf(inputs.resourceGroupName), "string");
        assert.equal(typeOf(inputs.systemPool), "NodePoolArgs");
        assert.equal(typeOf(inputs.nodePools), "map<NodePoolArgs>");
        assert.equal(typeOf(inputs.adminGroupObjectIds), "string[]");
        assert.equal(typeOf(inputs.authorizedIpRanges), "string[]");
        assert.equal(typeOf(inputs.clusterAdmins), "map<ClusterAdminArgs>");
        assert.equal(typeOf(inputs.sku), "ClusterSkuTier");
        assert.equal(typeOf(inputs.upgradeChannel), "UpgradeChannel");
        assert.equal(typeOf(inputs.networkPolicy), "NetworkPolicy");
        assert.deepEqual([...(cluster.requiredInputs ?? [])].sort(), ["resourceGroupName", "systemPool"]);
        assert.deepEqual(Object.keys(cluster.properties ?? {}).sort(), ["kubeconfig", "name", "oidcIssuerUrl", "resourceId"]);
        assert.deepEqual([...(cluster.required ?? [])].sort(), ["kubeconfig", "name", "oidcIssuerUrl", "resourceId"]);
    });

    it("gives WorkloadIdentity a map of clusters another language can fill, role assignments as { role, scope }, and its outputs", () => {
        const identity = resource("WorkloadIdentity");
        const inputs = identity.inputProperties ?? {};
        assert.equal(typeOf(inputs.clusters), "map<WorkloadClusterBinding>");
        const binding = schema.types[`${PREFIX}WorkloadClusterBinding`];
        assert.deepEqual(Object.keys(binding.properties ?? {}).sort(), ["clusterName", "clusterResourceGroupName", "kubernetesProvider", "oidcIssuerUrl"]);
        assert.deepEqual([...(binding.required ?? [])].sort(), ["kubernetesProvider", "oidcIssuerUrl"]);
        // Not the analyzer's `#/resources/kubernetes` for a kubernetes Provider, which the schema
        // binder cannot resolve (see KubernetesProviderReference).
        assert.equal(binding.properties?.kubernetesProvider.$ref, "pulumi.json#/Any");
        assert.equal(typeOf(inputs.roleAssignments), "map<RoleAssignmentArgs>");
        const role = schema.types[`${PREFIX}RoleAssignmentArgs`];
        assert.equal(typeOf(role.properties?.role), "string");
        assert.equal(typeOf(role.properties?.scope), "string");
        assert.deepEqual([...(role.required ?? [])].sort(), ["role", "scope"]);
        assert.equal(typeOf(inputs.principal), "PrincipalKind");
        assert.deepEqual(
            schema.types[`${PREFIX}PrincipalKind`].enum?.map((member) => member.value),
            ["managedIdentity", "application"],
        );
        const outputs = Object.keys(identity.properties ?? {});
        for (const output of ["clientId", "principalId", "tenantId", "resourceId", "namespace", "serviceAccount", "podLabels"]) {
            assert.ok(outputs.includes(output), `WorkloadIdentity has the output ${output}`);
        }
        assert.equal(typeOf(identity.properties?.podLabels), "map<string>");
    });

    it("gives AdoptedCluster the lookup's inputs and the cluster outputs", () => {
        const adopted = resource("AdoptedCluster");
        assert.deepEqual(Object.keys(adopted.inputProperties ?? {}).sort(), ["clusterAdmins", "clusterName", "namespaces", "requireKeyVaultSecretsProvider", "resourceGroupName"]);
        assert.deepEqual(Object.keys(adopted.properties ?? {}).sort(), ["kubeconfig", "name", "oidcIssuerUrl", "resourceId"]);
    });

    it("marks plain every argument that names children or decides which exist", () => {
        const plain = (component: string, property: string): boolean | undefined => resource(component).inputProperties?.[property]?.plain;
        for (const [component, property] of [
            ["WorkloadIdentityCluster", "nodePools"],
            ["WorkloadIdentityCluster", "clusterAdmins"],
            ["WorkloadIdentityCluster", "namespaces"],
            ["WorkloadIdentityCluster", "private"],
            ["WorkloadIdentityCluster", "protect"],
            ["WorkloadIdentity", "clusters"],
            ["WorkloadIdentity", "federations"],
            ["WorkloadIdentity", "roleAssignments"],
            ["WorkloadIdentity", "serviceAccounts"],
            ["WorkloadIdentity", "namespace"],
            ["WorkloadIdentity", "identityBinding"],
            ["AdoptedCluster", "namespaces"],
        ]) {
            assert.equal(plain(component, property), true, `${component}.${property} is plain`);
        }
        assert.equal(plain("WorkloadIdentityCluster", "resourceGroupName"), undefined, "resourceGroupName takes an output");
    });

    it("describes every property for a reader of the generated SDKs, defaults included", () => {
        const missing: string[] = [];
        const noDefault: string[] = [];
        const check = (where: string, properties: Record<string, PropertySchema>, required: readonly string[], isInput: boolean): void => {
            for (const [name, property] of Object.entries(properties)) {
                const description = property.description ?? "";
                if (description.trim() === "" || description.includes("@default")) {
                    missing.push(`${where}.${name}`);
                }
                if (isInput && !required.includes(name) && !/Default: /.test(description)) {
                    noDefault.push(`${where}.${name}`);
                }
            }
        };
        for (const [token, component] of Object.entries(schema.resources)) {
            assert.ok((component.description ?? "").length > 0, `${token} has a description`);
            check(token, component.inputProperties ?? {}, component.requiredInputs ?? [], true);
            check(token, component.properties ?? {}, component.required ?? [], false);
        }
        for (const [token, type] of Object.entries(schema.types)) {
            if (type.properties !== undefined) {
                check(token, type.properties, type.required ?? [], true);
            }
        }
        assert.deepEqual(missing, [], "properties without a description");
        assert.deepEqual(noDefault, [], "optional properties whose description does not say their default");
    });

    it("keeps the leaf rules free of Pulumi and the argument types free of runtime imports", () => {
        const importsOf = (file: string): string[] =>
            [...fs.readFileSync(path.join(PACKAGE_DIR, file), "utf8").matchAll(/^import\s+(type\s+)?.*?from\s+"([^"]+)";$/gms)].map((m) => `${m[1] === undefined ? "" : "type "}${m[2]}`);
        assert.deepEqual(
            importsOf("rules.ts").filter((specifier) => specifier.includes("@pulumi")),
            [],
            "components/rules.ts imports Pulumi",
        );
        assert.deepEqual(
            importsOf("args.ts").filter((specifier) => !specifier.startsWith("type ")),
            [],
            "components/args.ts has a runtime import",
        );
    });

    it("writes defaults in one form everywhere, the one the analyzer keeps: 'Default: ...' (it drops JSDoc tags)", () => {
        const tagged = productFiles()
            .filter((file) => file.endsWith(".ts"))
            .filter((file) => /\/\*\*(?:(?!\*\/)[\s\S])*@default/.test(fs.readFileSync(path.join(ROOT, file), "utf8")));
        assert.deepEqual(tagged, [], "files with an @default tag");
    });
});

