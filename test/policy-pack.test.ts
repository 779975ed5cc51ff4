import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
// The runner installs the mocks before it loads the program.
import { runCommittedStack, type RecordedResource } from "../testing/mock-runner";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { parse } from "yaml";
import { evaluatePolicies } from "../policy/evaluate";
import { POLICY_PACK_NAME, policies } from "../policy/policies";

/**
 * The pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` loads policy/index.ts
 * (through ts-node, with type checking) in the pack's directory and serves it over gRPC; the
 * test is the engine. No Pulumi CLI needed.
 */

const POLICY_DIR = path.join(__dirname, "..", "policy");
const LEVELS: Record<string, proto.EnforcementLevel> = { advisory: proto.EnforcementLevel.ADVISORY, mandatory: proto.EnforcementLevel.MANDATORY };

let child: ChildProcess | undefined;
let client: AnalyzerClient;

function startPack(): Promise<number> {
    return new Promise((resolve, reject) => {
        const env = { ...process.env };
        // The test runner's loader must not leak into the pack's own TypeScript runtime.
        delete env.NODE_OPTIONS;
        const started = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
            cwd: POLICY_DIR,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        child = started;
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => reject(new Error(`The policy pack did not start within 120 s.\n${stderr}`)), 120_000);
        started.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            const port = /^(\d+)\s*$/m.exec(stdout);
            if (port) {
                clearTimeout(timer);
                resolve(Number(port[1]));
            }
        });
        started.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
        });
        started.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`The policy pack exited with ${String(code)} before serving.\n${stdout}\n${stderr}`));
        });
    });
}

function unary<Req, Res>(method: (request: Req, callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
        method(request, (error, response) => (error ? reject(error) : resolve(response)));
    });
}

function struct(value: Record<string, unknown>): Struct {
    return Struct.fromJavaScript(value as Record<string, JavaScriptValue>);
}

function options(resource: RecordedResource): proto.AnalyzerResourceOptions {
    return new proto.AnalyzerResourceOptions()
        .setProtect(resource.protect)
        .setIgnorechangesList([...resource.ignoreChanges])
        .setDeletebeforereplace(resource.deleteBeforeReplace)
        .setDeletebeforereplacedefined(true)
        .setParent(resource.parent ?? "");
}

function provider(resource: RecordedResource, resources: readonly RecordedResource[]): proto.AnalyzerProviderResource | undefined {
    const urn = resource.provider?.split("::").slice(0, -1).join("::");
    const found = resources.find((r) => r.urn === urn);
    return found === undefined ? undefined : new proto.AnalyzerProviderResource().setType(found.type).setName(found.name).setUrn(found.urn).setProperties(struct(found.inputs));
}

/** A diagnostic as [policy, level, message, urn]; the server prefixes the message with the policy's description. */
function diagnostics(response: proto.AnalyzeResponse, urn?: string): [string, string, string, string][] {
    return response.getDiagnosticsList().map((d) => {
        const description = policies.find((p) => p.name === d.getPolicyname())?.description ?? "";
        const message = d.getMessage().startsWith(`${description}\n`) ? d.getMessage().slice(description.length + 1) : d.getMessage();
        const level = d.getEnforcementlevel() === proto.EnforcementLevel.MANDATORY ? "mandatory" : "advisory";
        return [d.getPolicyname(), level, message, urn ?? d.getUrn()];
    });
}

/** What the served pack reports for a recorded stack: Analyze on each resource's inputs, then AnalyzeStack on the outputs. */
async function analyze(resources: readonly RecordedResource[]): Promise<[string, string, string, string][]> {
    const found: [string, string, string, string][] = [];
    for (const resource of resources) {
        const request = new proto.AnalyzeRequest()
            .setUrn(resource.urn)
            .setType(resource.type)
            .setName(resource.name)
            .setProperties(struct(resource.inputs))
            .setOptions(options(resource))
            .setProvider(provider(resource, resources));
        found.push(...diagnostics(await unary<proto.AnalyzeRequest, proto.AnalyzeResponse>(client.analyze.bind(client), request), resource.urn));
    }
    const stack = resources.map((resource) => {
        const r = new proto.AnalyzerResource()
            .setUrn(resource.urn)
            .setType(resource.type)
            .setName(resource.name)
            .setProperties(struct(resource.state))
            .setOptions(options(resource))
            .setProvider(provider(resource, resources))
            .setParent(resource.parent ?? "")
            .setDependenciesList([...resource.dependencies]);
        for (const [property, urns] of Object.entries(resource.propertyDependencies)) {
            if (urns.length > 0) {
                r.getPropertydependenciesMap().set(property, new proto.AnalyzerPropertyDependencies().setUrnsList([...urns]));
            }
        }
        return r;
    });
    found.push(...diagnostics(await unary<proto.AnalyzeStackRequest, proto.AnalyzeResponse>(client.analyzeStack.bind(client), new proto.AnalyzeStackRequest().setResourcesList(stack))));
    return found;
}

async function configure(config: Record<string, { level: proto.EnforcementLevel; properties?: Record<string, unknown> }>): Promise<void> {
    const request = new proto.ConfigureAnalyzerRequest();
    for (const [name, { level, properties }] of Object.entries(config)) {
        request.getPolicyconfigMap().set(name, new proto.PolicyConfig().setEnforcementlevel(level).setProperties(struct(properties ?? {})));
    }
    await unary<proto.ConfigureAnalyzerRequest, Empty>(client.configure.bind(client), request);
}

/** The dev stack with one break per kind of rule: a resource rule, a stack rule over values, a stack rule over structure. */
function brokenDev(resources: readonly RecordedResource[]): RecordedResource[] {
    return resources.map((r) => {
        if (r.type === "azure-native:containerservice:ManagedCluster") {
            return { ...r, inputs: { ...r.inputs, disableLocalAccounts: false } };
        }
        if (r.type === "azure-native:managedidentity:FederatedIdentityCredential") {
            return { ...r, inputs: { ...r.inputs, audiences: ["api://elsewhere"] } };
        }
        if (r.type === "azure-native:authorization:RoleAssignment") {
            const withoutType = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== "principalType"));
            return { ...r, inputs: withoutType(r.inputs), state: withoutType(r.state) };
        }
        if (r.type === "kubernetes:core/v1:ServiceAccount") {
            const bare = (value: Record<string, unknown>) => ({ ...value, metadata: { ...(value.metadata as Record<string, unknown>), annotations: {} } });
            return { ...r, inputs: bare(r.inputs), state: bare(r.state) };
        }
        return r;
    });
}

const sorted = (rows: readonly (readonly string[])[]) => [...rows].map((row) => row.join("\u0000")).sort();

describe("the policy pack, served as the Pulumi CLI serves it", () => {
    let dev: readonly RecordedResource[];

    before(async () => {
        dev = (await runCommittedStack("dev")).resources;
        const port = await startPack();
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    it("registers the pack with every policy at its enforcement level", async () => {
        const info = await unary<Empty, proto.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
        assert.equal(info.getName(), POLICY_PACK_NAME);
        assert.equal(info.getVersion(), "0.1.0");
        assert.equal(info.getSupportsconfig(), true);
        assert.deepEqual(
            info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]),
            policies.map((p) => [p.name, LEVELS[p.enforcementLevel as string]]),
        );
        const withConfig = info.getPoliciesList().filter((p) => p.getConfigschema() !== undefined).map((p) => p.getName());
        assert.deepEqual(withConfig.sort(), ["aks-paid-tier-in-production", "fic-audience", "fic-subject"]);
    });

    it("reports exactly what evaluatePolicies reports, for resource and stack policies", async () => {
        const broken = brokenDev(dev);
        const expected = evaluatePolicies(broken, { stack: "dev" }).map((v) => [v.policy, v.enforcementLevel, v.message, v.urn ?? ""]);
        assert.ok(expected.some(([policy]) => policy === "service-account-client-id"), "the broken stack violates service-account-client-id");
        assert.ok(expected.some(([policy]) => policy === "workload-role-assignment-principal-type"), "the broken stack violates workload-role-assignment-principal-type");
        assert.ok(expected.some(([policy]) => policy === "aks-local-accounts-disabled"), "the broken stack violates aks-local-accounts-disabled");
        assert.ok(expected.some(([policy]) => policy === "fic-audience"), "the broken stack violates fic-audience");
        assert.deepEqual(sorted(await analyze(broken)), sorted(expected));
    });

    it("takes enforcement levels and policy config from --policy-pack-config, as evaluatePolicies does", async () => {
        await configure({
            "aks-local-accounts-disabled": { level: proto.EnforcementLevel.ADVISORY },
            "aks-image-cleaner": { level: proto.EnforcementLevel.DISABLED },
            "fic-audience": { level: proto.EnforcementLevel.MANDATORY, properties: { allowedAudiences: ["api://elsewhere"] } },
        });
        const broken = brokenDev(dev);
        const config = {
            "aks-local-accounts-disabled": "advisory",
            "aks-image-cleaner": "disabled",
            "fic-audience": { enforcementLevel: "mandatory", allowedAudiences: ["api://elsewhere"] },
        } as const;
        const expected = evaluatePolicies(broken, { stack: "dev", config }).map((v) => [v.policy, v.enforcementLevel, v.message, v.urn ?? ""]);
        assert.ok(expected.some(([policy, level]) => policy === "aks-local-accounts-disabled" && level === "advisory"), "aks-local-accounts-disabled is reported at the configured advisory level");
        assert.ok(!expected.some(([policy]) => policy === "aks-image-cleaner" || policy === "fic-audience"), "policies the config disables report nothing");
        assert.deepEqual(sorted(await analyze(broken)), sorted(expected));
    });
});

describe("the policy pack's files", () => {
    it("are a Node.js CrossGuard pack whose version the SDK can read", () => {
        const project = parse(readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
        assert.equal(project.runtime, "nodejs");
        const pkg = JSON.parse(readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as Record<string, unknown>;
        assert.equal(pkg.version, "0.1.0");
        assert.equal(pkg.main, "index.ts");
        // No dependencies of its own: @pulumi/policy resolves from the repository root.
        assert.equal(pkg.dependencies, undefined);
    });

    it("have unique policy names, each with a description and remediation steps", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const policy of policies) {
            assert.ok(policy.description.length > 20, policy.name);
            assert.ok((policy.remediationSteps ?? "").length > 20, policy.name);
            assert.ok(policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory", policy.name);
        }
    });

    it("are documented: docs/policy.md lists every policy with its enforcement level", () => {
        const doc = readFileSync(path.join(__dirname, "..", "docs", "policy.md"), "utf8");
        const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| [^|]+ \| (mandatory|advisory) \|/gm)].map((m) => [m[1], m[2]]);
        assert.deepEqual(
            rows,
            policies.map((p) => [p.name, p.enforcementLevel]),
        );
    });
});
