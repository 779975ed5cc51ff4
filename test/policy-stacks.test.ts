import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
// The runner installs the mocks before it loads the program.
import { runCommittedStack, type RecordedResource } from "../testing/mock-runner";
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from "../components/constants";
import { evaluatePolicies, policyValue, toPolicyResources, toResourceValidationArgs, type PolicyViolation } from "../policy/evaluate";
import { policies } from "../policy/policies";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../policy/resource-types";

const STACKS = ["dev", "staging", "prod"] as const;
const FIC_TYPES: readonly string[] = [TYPES.federatedIdentityCredential, TYPES.applicationFederatedIdentityCredential];
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";
/** How the SDK's deserializer hands a recorded input unknown at preview. */
const UNKNOWN_INPUT = { __pulumiUnknown: true };
/** How an output unknown at preview travels on the wire. */
const UNKNOWN_OUTPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const recorded = new Map<string, readonly RecordedResource[]>();

before(async () => {
    for (const stack of STACKS) {
        recorded.set(stack, (await runCommittedStack(stack)).resources);
    }
});

function resourcesOf(stack: string): readonly RecordedResource[] {
    return recorded.get(stack) as readonly RecordedResource[];
}

const nameOf = (urn: string | undefined): string | undefined => urn?.split("::").pop();

/** Violations as [policy, level, resource name] for compact exact comparisons. */
const brief = (violations: readonly PolicyViolation[]) => violations.map((v) => [v.policy, v.enforcementLevel, nameOf(v.urn)]);

/** The policies that only advise; the committed stacks may trip those, on their clusters. */
const ADVISORY_POLICIES = policies.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name);

function mandatory(violations: readonly PolicyViolation[]): PolicyViolation[] {
    return violations.filter((v) => v.enforcementLevel === "mandatory");
}

/**
 * The graph as a first `pulumi preview` sees it: every input that comes from another resource is
 * unknown (for a ServiceAccount, the annotations that come from the identity), and so is every
 * output the provider computes (client IDs, principal IDs, issuer URLs, names).
 */
function asFirstPreview(resources: readonly RecordedResource[]): RecordedResource[] {
    return resources.map((resource) => {
        const inputs: Record<string, unknown> = structuredClone(resource.inputs);
        for (const [property, sources] of Object.entries(resource.propertyDependencies)) {
            if (sources.length === 0 || !(property in inputs)) {
                continue;
            }
            if (property === "metadata" && resource.type.startsWith("kubernetes:")) {
                const annotations = (inputs.metadata as { annotations?: Record<string, unknown> }).annotations ?? {};
                for (const key of [CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION].filter((k) => k in annotations)) {
                    annotations[key] = UNKNOWN_INPUT;
                }
            } else {
                inputs[property] = UNKNOWN_INPUT;
            }
        }
        const outputs = (state: unknown, given: unknown): unknown => {
            if (given !== null && typeof given === "object" && (given as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) {
                return UNKNOWN_OUTPUT;
            }
            if (state === null || typeof state !== "object" || Array.isArray(state) || given === null || typeof given !== "object" || Array.isArray(given)) {
                return given === undefined ? UNKNOWN_OUTPUT : given;
            }
            const merged: Record<string, unknown> = {};
            for (const [key, value] of Object.entries(state)) {
                merged[key] = key in given ? outputs(value, (given as Record<string, unknown>)[key]) : UNKNOWN_OUTPUT;
            }
            return merged;
        };
        return { ...resource, inputs, state: outputs(resource.state, inputs) as Record<string, unknown> };
    });
}

const typeOf = (resources: readonly RecordedResource[], urn: string | undefined) => resources.find((r) => r.urn === urn)?.type;

describe("the committed stacks under the policy pack", () => {
    for (const stack of STACKS) {
        it(`${stack}: passes every mandatory policy; what remains are advisories on its clusters`, () => {
            const violations = evaluatePolicies(resourcesOf(stack), { stack });
            assert.deepEqual(mandatory(violations), []);
            assert.ok(violations.length > 0, "the advisory cluster add-ons are not all on");
            for (const violation of violations) {
                assert.ok(ADVISORY_POLICIES.includes(violation.policy), violation.policy);
                assert.equal(typeOf(resourcesOf(stack), violation.urn), "azure-native:containerservice:ManagedCluster", violation.message);
            }
        });

        it(`${stack}: gives the same verdicts at a first preview, where client IDs, issuers and principal IDs are unknown`, () => {
            const preview = asFirstPreview(resourcesOf(stack));
            // The simulation does hide the values the rules would otherwise compare.
            const account = preview.find((r) => r.type === "kubernetes:core/v1:ServiceAccount") as RecordedResource;
            assert.deepEqual((account.inputs.metadata as { annotations: Record<string, unknown> }).annotations[CLIENT_ID_ANNOTATION], UNKNOWN_INPUT);
            const identity = preview.find((r) => r.type === "azure-native:managedidentity:UserAssignedIdentity") as RecordedResource;
            assert.equal(identity.state.clientId, UNKNOWN_OUTPUT);
            const cluster = preview.find((r) => r.type === "azure-native:containerservice:ManagedCluster") as RecordedResource;
            assert.deepEqual((cluster.state.oidcIssuerProfile as Record<string, unknown>).issuerURL, UNKNOWN_OUTPUT);
            // No policy gives up ("can't run during preview"), and none judges differently.
            assert.deepEqual(evaluatePolicies(preview, { stack }), evaluatePolicies(resourcesOf(stack), { stack }));
        });
    }

    it("prod at preview: FICs of one identity without their chain fail, found by structure alone", () => {
        const preview = asFirstPreview(resourcesOf("prod"));
        const fics = new Set(preview.filter((r) => FIC_TYPES.includes(r.type)).map((r) => r.urn));
        const unchained = preview.map((r) => (fics.has(r.urn) ? { ...r, dependencies: r.dependencies.filter((d) => !fics.has(d)) } : r));
        const found = mandatory(evaluatePolicies(unchained, { stack: "prod" }));
        // Every classic identity has one FIC per cluster, blue and green: one unordered pair each
        // (an identity in identity binding mode has no FIC per cluster, so nothing to order).
        const identities = preview.filter(
            (r) =>
                (r.type === "azure-native:managedidentity:UserAssignedIdentity" || r.type === "azuread:index/application:Application") &&
                preview.some((fic) => FIC_TYPES.includes(fic.type) && fic.parent === r.parent),
        );
        assert.ok(identities.length >= 3, "prod has at least three classic identities with FICs on both clusters");
        assert.deepEqual(found.map((v) => v.policy), identities.map(() => "fic-writes-serialized"));
        assert.deepEqual(found.map((v) => nameOf(v.urn)).sort(), identities.map((i) => `${i.parent?.split("::").pop() ?? ""}-fic-green`).sort());
    });

    it("staging at preview: a ServiceAccount annotated from another identity fails, found by structure alone", () => {
        const preview = asFirstPreview(resourcesOf("staging"));
        const ingest = preview.find((r) => r.name === "ingest-id") as RecordedResource;
        const swapped = preview.map((r) => (r.name === "orders-api-sa-main" ? { ...r, propertyDependencies: { ...r.propertyDependencies, metadata: [ingest.urn] } } : r));
        const found = mandatory(evaluatePolicies(swapped, { stack: "staging" }));
        assert.deepEqual(
            found.map((v) => [v.policy, nameOf(v.urn)]),
            [["service-account-client-id", "orders-api-sa-main"]],
        );
        assert.equal(
            found[0].message,
            'ServiceAccount "orders-api-sa-main" (orders/orders-api): its azure.workload.identity/client-id annotation does not come from UserAssignedIdentity "orders-api-id", whose FederatedIdentityCredential "orders-api-fic-main" trusts it (the ServiceAccount\'s metadata comes from UserAssignedIdentity "ingest-id"). Set the annotation from UserAssignedIdentity "orders-api-id"\'s clientId output, so the two cannot drift apart.',
        );
    });

    it("dev: a workload role assignment without principalType and a cluster with local accounts fail", () => {
        const resources = resourcesOf("dev");
        const identities = new Set(resources.filter((r) => r.type === "azure-native:managedidentity:UserAssignedIdentity").map((r) => r.urn));
        const grant = resources.find((r) => r.type === "azure-native:authorization:RoleAssignment" && (r.propertyDependencies.principalId ?? []).some((u) => identities.has(u)));
        assert.ok(grant, "dev has a workload role assignment");
        const broken = resources.map((r) => {
            if (r.urn === grant.urn) {
                const withoutType = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== "principalType"));
                return { ...r, inputs: withoutType(r.inputs), state: withoutType(r.state) };
            }
            return r.type === "azure-native:containerservice:ManagedCluster" ? { ...r, inputs: { ...r.inputs, disableLocalAccounts: false } } : r;
        });
        assert.deepEqual(
            mandatory(evaluatePolicies(broken, { stack: "dev" })).map((v) => [v.policy, nameOf(v.urn)]),
            [
                ["aks-local-accounts-disabled", "main-aks"],
                ["workload-role-assignment-principal-type", grant.name],
            ],
        );
    });

    it("dev: pods labelled use fail once their ServiceAccount loses the client ID", () => {
        const resources = resourcesOf("dev");
        const labelled = resources.filter(
            (r) => r.type === "kubernetes:batch/v1:Job" && JSON.stringify(r.inputs).includes('"azure.workload.identity/use":"true"'),
        );
        assert.ok(labelled.length > 0, "dev has a Job whose pods use workload identity (the quick start)");
        const accountName = ((labelled[0].inputs.spec as { template: { spec: { serviceAccountName: string } } }).template.spec.serviceAccountName);
        const account = resources.find((r) => r.type === "kubernetes:core/v1:ServiceAccount" && (r.inputs.metadata as { name: string }).name === accountName) as RecordedResource;
        const bare = (value: Record<string, unknown>) => ({ ...value, metadata: { ...(value.metadata as Record<string, unknown>), annotations: {} } });
        const broken = resources.map((r) => (r.urn === account.urn ? { ...r, inputs: bare(r.inputs), state: bare(r.state) } : r));
        assert.deepEqual(
            mandatory(evaluatePolicies(broken, { stack: "dev" })).map((v) => [v.policy, nameOf(v.urn)]),
            [
                ["service-account-client-id", account.name],
                ...labelled.map((d) => ["pod-service-account-client-id", d.name]),
            ],
        );
    });
});

describe("evaluatePolicies", () => {
    it("lowers, disables and raises enforcement levels from the policy pack config", () => {
        const resources = resourcesOf("dev");
        const clusters = resources.filter((r) => r.type === "azure-native:containerservice:ManagedCluster").map((r) => r.name);
        const config = { "aks-image-cleaner": "disabled", "aks-defender": { enforcementLevel: "mandatory" }, "fic-audience": "advisory" } as const;
        const broken = resources.map((r) => (FIC_TYPES.includes(r.type) ? { ...r, inputs: { ...r.inputs, audiences: ["api://elsewhere"] } } : r));
        const fics = resources.filter((r) => FIC_TYPES.includes(r.type)).map((r) => r.name);
        const found = brief(evaluatePolicies(broken, { stack: "dev", config }));
        assert.deepEqual(
            found.filter(([policy]) => policy === "aks-image-cleaner" || policy === "aks-defender" || policy === "fic-audience"),
            [...clusters.map((c) => ["aks-defender", "mandatory", c]), ...fics.map((f) => ["fic-audience", "advisory", f])],
        );
        assert.deepEqual(
            brief(evaluatePolicies(resources, { stack: "dev", config: { "aks-defender": "remediate" } })).filter(([policy]) => policy === "aks-defender"),
            clusters.map((c) => ["aks-defender", "mandatory", c]),
        );
    });

    it("applies an `all` level to every policy that has no level of its own in the config", () => {
        const violations = evaluatePolicies(resourcesOf("dev"), { stack: "dev", config: { all: "mandatory", "aks-defender": "advisory" } });
        assert.ok(violations.length > 0, "the dev stack has violations to re-level");
        for (const violation of violations) {
            assert.equal(violation.enforcementLevel, violation.policy === "aks-defender" ? "advisory" : "mandatory", violation.policy);
        }
        assert.ok(violations.some((v) => v.policy === "aks-defender"), "aks-defender keeps its own level among the violations");
        assert.deepEqual(evaluatePolicies(resourcesOf("dev"), { stack: "dev", config: { all: "disabled" } }), []);
    });

    it("hands a policy its config without the enforcement level", () => {
        const violations = evaluatePolicies(resourcesOf("dev"), { stack: "dev", config: { "aks-paid-tier-in-production": { enforcementLevel: "mandatory", productionStacks: ["dev"] } } });
        assert.deepEqual(
            violations.filter((v) => v.policy === "aks-paid-tier-in-production").map((v) => [v.enforcementLevel, v.message]),
            [
                [
                    "mandatory",
                    'ManagedCluster "main-aks": stack "dev" is production, but the cluster runs on the Free tier (sku.tier is "Free"), which has no uptime SLA. Set sku: { name: "Base", tier: "Standard" } (or "Premium").',
                ],
            ],
        );
    });

    it("refuses resources of another stack", () => {
        assert.throws(() => evaluatePolicies(resourcesOf("dev"), { stack: "prod" }), {
            message: 'Resource urn:pulumi:dev::aks-workload-identity::pulumi:pulumi:Stack::aks-workload-identity-dev belongs to stack "dev", not to stack "prod".',
        });
    });

    it("reports a policy that reads an unknown value as CrossGuard does: an advisory that it cannot run", () => {
        const strict: ResourceValidationPolicy = {
            name: "strict-issuer",
            description: "reads the issuer without caring for preview",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                if (args.type.endsWith("FederatedIdentityCredential") && typeof args.props.issuer !== "string") {
                    report("no issuer");
                }
            },
        };
        const preview = asFirstPreview(resourcesOf("dev"));
        assert.deepEqual(
            evaluatePolicies(preview, { stack: "dev", policies: [strict] }).map((v) => [v.enforcementLevel, v.message, nameOf(v.urn)]),
            [
                ["advisory", "can't run policy 'strict-issuer' during preview: string value at .issuer can't be known during preview", "orders-api-fic-main"],
                ["advisory", "can't run policy 'strict-issuer' during preview: string value at .issuer can't be known during preview", "reports-fic-main"],
            ],
        );
    });

    it("gives stack policies the outputs, linked, and resource policies the inputs with secrets unwrapped", () => {
        const resources = resourcesOf("staging");
        const converted = toPolicyResources(resources);
        const account = converted.find((r) => r.name === "payments-sa-main");
        assert.ok(account, "the converted resources include the ServiceAccount payments-sa-main");
        assert.deepEqual(
            account.propertyDependencies.metadata.map((r) => r.name),
            ["payments-app", "payments-sp"],
        );
        assert.equal(account.parent?.name, "payments");
        assert.equal(account.provider?.name, "main-k8s");
        const identity = converted.find((r) => r.name === "orders-api-id");
        assert.equal(typeof identity?.props.clientId, "string");

        const provider = resources.find((r) => r.name === "main-k8s") as RecordedResource;
        assert.equal((provider.inputs.kubeconfig as Record<string, unknown>)[SECRET_KEY], SECRET_SIGNATURE);
        const args = toResourceValidationArgs(provider, resources);
        assert.match(args.props.kubeconfig as string, /^apiVersion: v1\n/);
        assert.deepEqual(policyValue({ a: [{ [SECRET_KEY]: SECRET_SIGNATURE, value: { b: 1 } }], __internal: true }), { a: [{ b: 1 }] });
    });

    it("runs the whole pack by default", () => {
        const stackPolicy: StackValidationPolicy = { name: "count", description: "counts", enforcementLevel: "advisory", validateStack: (args, report) => report(`${args.resources.length}`) };
        assert.deepEqual(
            evaluatePolicies(resourcesOf("dev"), { stack: "dev", policies: [stackPolicy] }).map((v) => v.message),
            [`${resourcesOf("dev").length}`],
        );
        assert.equal(policies.length, 29);
    });
});
