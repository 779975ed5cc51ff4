import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { flattenConfig, loadStackFile, placeholderIssuerUrl, runCommittedStack, runStack, stackFilePath, type RunResult } from "../testing/mock-runner";
import { buildPlan, deploymentEstimate, trustChainProblems, trustMap } from "../plan/model";
import { render, renderMarkdown, renderMermaid } from "../plan/render";
import { inventedValues, isInvented, known, UNKNOWN } from "../plan/unknowns";
import { WorkloadIdentity, WorkloadIdentityCluster } from "../components";

const GROUP = "5f1d3c2b-8a9e-4b7c-9d6e-2f4a1b3c5d7e";
const SUB = "00000000-0000-0000-0000-000000000000";
/** A subscription of the config (not the mocks' placeholder one, which the config warns about). */
const DATA_SUB = "3f6a1d2c-5b4e-4a9f-8e7d-6c5b4a3f2e1d";
const ROOT = path.resolve(__dirname, "..");

const clusterConfig = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], authorizedIpRanges: ["198.18.0.0/24"], namespaces: ["api"] };

function small(clusters: string[]): Record<string, string> {
    return flattenConfig({
        "azure-native:location": "westeurope",
        "aks-workload-identity:clusters": Object.fromEntries(clusters.map((key) => [key, clusterConfig])),
        "aks-workload-identity:workloads": {
            api: {
                namespace: "api",
                roleAssignments: { kv: { role: "Key Vault Secrets User", scope: `/subscriptions/${DATA_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv` } },
            },
        },
    });
}

describe("offline plan of a small stack", () => {
    it("records the graph, the trust map and the critical path exactly", async () => {
        const run = await runStack({ stack: "dev", config: small(["main"]) });
        const plan = buildPlan("dev", run);
        assert.deepEqual(plan.summary.byType, {
            "azure-native:resources:ResourceGroup": 1,
            "azure-native:containerservice:ManagedCluster": 1,
            "azure-native:managedidentity:UserAssignedIdentity": 1,
            "azure-native:managedidentity:FederatedIdentityCredential": 1,
            "azure-native:authorization:RoleAssignment": 1,
            "pulumi:providers:kubernetes": 1,
            "kubernetes:core/v1:Namespace": 1,
            "kubernetes:core/v1:ServiceAccount": 1,
            "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness": 1,
        });
        assert.equal(plan.summary.total, 9);
        assert.deepEqual(plan.summary.workloads, ["api"]);
        assert.deepEqual(plan.trust, [
            {
                workload: "api",
                principal: { kind: "managed identity", name: "id-api-dev" },
                federations: [
                    {
                        name: "fic-main",
                        issuer: { unknown: true },
                        cluster: "main",
                        subject: "system:serviceaccount:api:api",
                        audiences: ["api://AzureADTokenExchange"],
                        serviceAccount: { namespace: "api", name: "api", mode: "created" },
                    },
                ],
                bindings: [],
                grants: [
                    {
                        key: "kv",
                        role: "Key Vault Secrets User",
                        scope: `/subscriptions/${DATA_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`,
                        principalType: "ServicePrincipal",
                    },
                ],
            },
        ]);
        // The policy pack's advisories: no Key Vault workload, no Defender workspace in this config.
        assert.deepEqual(
            plan.problems.map((problem) => problem.split(": ")[0]),
            ["policy aks-key-vault-secrets-provider (advisory) on main-aks", "policy aks-defender (advisory) on main-aks"],
        );
        // Resource group, cluster, then the RBAC readiness check (30 s) before the provider,
        // namespace and ServiceAccount: it outlasts the FIC (10 s), and the cloud forces all of it.
        const path = [
            { type: "azure-native:resources:ResourceGroup", name: "resource-group", startSeconds: 0, seconds: 5 },
            { type: "azure-native:containerservice:ManagedCluster", name: "main-aks", startSeconds: 5, seconds: 480 },
            { type: "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness", name: "main-rbac-ready", startSeconds: 485, seconds: 30 },
            { type: "pulumi:providers:kubernetes", name: "main-k8s", startSeconds: 515, seconds: 1 },
            { type: "kubernetes:core/v1:Namespace", name: "main-ns-api", startSeconds: 516, seconds: 2 },
            { type: "kubernetes:core/v1:ServiceAccount", name: "api-sa-main", startSeconds: 518, seconds: 1 },
        ];
        assert.deepEqual(plan.deployment, { seconds: 519, path, lowerBoundSeconds: 519, lowerBoundPath: path });
    });

    it("puts an identity's five FICs one after another on the critical path", async () => {
        const run = await runStack({ stack: "dev", config: small(["a", "b", "c", "d", "e"]) });
        const estimate = deploymentEstimate(run.resources);
        assert.deepEqual(
            estimate.path.map((step) => [step.name, step.startSeconds, step.seconds]),
            [
                ["resource-group", 0, 5],
                // The five clusters finish together; the first of them is named. The chain of five
                // FICs (50 s) outlasts each cluster's readiness check and ServiceAccount (34 s).
                ["a-aks", 5, 480],
                ["api-fic-a", 485, 10],
                ["api-fic-b", 495, 10],
                ["api-fic-c", 505, 10],
                ["api-fic-d", 515, 10],
                ["api-fic-e", 525, 10],
            ],
        );
        assert.equal(estimate.seconds, 535);
        assert.equal(estimate.lowerBoundSeconds, 535, "the chain is forced by Azure, so it is part of the lower bound");
    });

    it("shows a dependency the cloud does not need as a path longer than the lower bound", async () => {
        const run = await runStack({
            stack: "dev",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", {
                    resourceGroupName: "rg",
                    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 },
                    adminGroupObjectIds: [GROUP],
                    private: true,
                    network: { vnetSubnetId: "/subscriptions/3f6a1d2c-5b4e-4a9f-8e7d-6c5b4a3f2e1d/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks" },
                });
                const api = new WorkloadIdentity("api", { resourceGroupName: "rg", namespace: "api", clusters: { main: cluster.bindWorkload("api") } });
                // An identity that waits for a ServiceAccount for no reason.
                const late = new managedidentity.UserAssignedIdentity("late", { resourceGroupName: "rg", resourceName: "id-late" }, { dependsOn: [api.serviceAccounts.main] });
                new managedidentity.FederatedIdentityCredential("late-fic", {
                    resourceGroupName: "rg",
                    resourceName: late.name,
                    issuer: "https://token.actions.githubusercontent.com",
                    subject: "repo:example/app:environment:dev",
                    audiences: ["api://AzureADTokenExchange"],
                });
            },
        });
        const estimate = deploymentEstimate(run.resources);
        assert.equal(estimate.lowerBoundSeconds, 512, "cluster, readiness check, provider, ServiceAccount");
        assert.equal(estimate.seconds, 532, "then the late identity and its FIC");
        assert.deepEqual(estimate.path.map((s) => s.name), ["main-aks", "main-rbac-ready", "main-k8s", "api-sa-main", "late", "late-fic"]);
        assert.deepEqual(estimate.lowerBoundPath.map((s) => s.name), ["main-aks", "main-rbac-ready", "main-k8s", "api-sa-main"]);
    });
});

describe("trust chain checks", () => {
    async function dev(): Promise<RunResult> {
        return runCommittedStack("dev");
    }

    it("find nothing wrong in the committed stacks", async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            assert.deepEqual(trustChainProblems((await runCommittedStack(stack)).resources), [], stack);
        }
    });

    it("report a ServiceAccount annotated with another client ID", async () => {
        const run = await dev();
        const resources = run.resources.map((r) =>
            r.name === "orders-api-sa-main"
                ? { ...r, inputs: { ...r.inputs, metadata: { name: "orders-api", namespace: "orders", annotations: { "azure.workload.identity/client-id": "wrong" } } } }
                : r,
        );
        assert.deepEqual(trustChainProblems(resources), ['workload orders-api: ServiceAccount orders/orders-api in cluster main carries client ID "wrong", not the client ID of its principal.']);
    });

    it("report a FIC whose subject names no ServiceAccount, and the ServiceAccount left untrusted", async () => {
        const run = await dev();
        const resources = run.resources.map((r) => (r.name === "reports-fic-main" ? { ...r, inputs: { ...r.inputs, subject: "system:serviceaccount:orders:reports" } } : r));
        assert.deepEqual(trustChainProblems(resources), [
            "workload reports: ServiceAccount orders/reports-job in cluster main is trusted by 0 federated credentials (expected 1).",
            "workload reports: federated credential reports-fic-main trusts system:serviceaccount:orders:reports in cluster main, where no ServiceAccount of this workload has that name.",
        ]);
    });

    it("report a wrong audience and FICs of one identity written concurrently", async () => {
        const run = await runCommittedStack("prod");
        const resources = run.resources.map((r) => {
            if (r.name === "orders-api-fic-blue") {
                return { ...r, inputs: { ...r.inputs, audiences: ["api://AzureADTokenExchange/"] } };
            }
            return r.name === "orders-api-fic-green" ? { ...r, dependencies: r.dependencies.filter((d) => !d.endsWith("::orders-api-fic-blue")) } : r;
        });
        assert.deepEqual(trustChainProblems(resources), [
            'workload orders-api: federated credential orders-api-fic-blue has audiences ["api://AzureADTokenExchange/"], not ["api://AzureADTokenExchange"].',
            "workload orders-api: federated credential orders-api-fic-green does not wait for orders-api-fic-blue alone; Azure rejects concurrent FIC writes under one identity.",
        ]);
    });

    it("maps each FIC of prod to its own cluster", async () => {
        const entries = trustMap((await runCommittedStack("prod")).resources);
        assert.deepEqual(
            entries.map((e) => [e.workload, e.principal.kind, e.federations.map((f) => `${f.name}->${f.cluster}:${f.serviceAccount?.namespace}/${f.serviceAccount?.name}:${f.serviceAccount?.mode}`)]),
            [
                ["orders-api", "managed identity", ["fic-blue->blue:orders/orders-api:created", "fic-green->green:orders/orders-api:created"]],
                ["payments", "app registration", ["fic-blue->blue:payments/payments:created", "fic-green->green:payments/payments:created"]],
                // createServiceAccount: false: the chart owns the ServiceAccount, the stack manages none.
                ["ingest", "managed identity", ["fic-blue->blue:undefined/undefined:undefined", "fic-green->green:undefined/undefined:undefined"]],
                // Identity binding mode: no FIC of ours (the bindings are drawn apart).
                ["reports", "managed identity", []],
            ],
        );
    });
});

/** Every string in a value, secrets included. */
function strings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    return value !== null && typeof value === "object" ? Object.values(value).flatMap(strings) : [];
}

describe("identity bindings in the trust map", () => {
    it("shows prod's binding-mode workload with one binding per cluster and the ServiceAccounts its RBAC allows, and no FIC problem", async () => {
        const run = await runCommittedStack("prod");
        const reports = trustMap(run.resources).find((e) => e.workload === "reports");
        const accounts = [
            { namespace: "reports", name: "reports" },
            { namespace: "tenant-contoso", name: "reports" },
            { namespace: "tenant-fabrikam", name: "reports" },
        ];
        assert.deepEqual(reports?.federations, []);
        assert.deepEqual(reports?.bindings, [
            { name: "reports", cluster: "blue", serviceAccounts: accounts },
            { name: "reports", cluster: "green", serviceAccounts: accounts },
        ]);
        assert.deepEqual(trustChainProblems(run.resources).filter((p) => p.startsWith("workload reports")), []);
        const mermaid = renderMermaid(buildPlan("prod", run)).split("\n");
        assert.ok(mermaid.includes('  binding_reports_reports -. "RBAC use-managed-identity" .-> sa_green_tenant_contoso_reports'), mermaid.join("\n"));
    });
});

describe("values the mocks invent", () => {
    it("are never printed as real, in any format of any committed stack", async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const run = await runCommittedStack(stack);
            // The stack outputs are all deploy-time values: issuer URLs, client, principal and tenant IDs.
            const inventedOutputs = strings(run.outputs).filter((value) => /^https:\/\/.+\.oic\.prod-aks\.azure\.com\/|^[0-9a-f]{8}-[0-9a-f]{4}-/.test(value));
            assert.ok(inventedOutputs.length >= 4, `${stack}: expected issuers and IDs among the outputs, got ${JSON.stringify(inventedOutputs)}`);
            const plan = buildPlan(stack, run);
            for (const format of ["text", "markdown", "json"] as const) {
                const output = render(plan, format);
                for (const value of inventedOutputs) {
                    assert.equal(output.includes(value), false, `${stack} ${format} prints the invented ${value}`);
                }
                // The mocks mark what they invent ("placeholder-<cluster>" issuers, "-placeholder." hosts);
                // the config's own warnings about placeholder values in the stack file may say the word.
                assert.doesNotMatch(output, /placeholder-|-placeholder\./, `${stack} ${format} prints a mock placeholder`);
            }
            const json = JSON.parse(render(plan, "json")) as { summary: { clusters: { issuer: unknown }[] }; trust: { federations: { cluster?: string; issuer: unknown }[] }[] };
            assert.deepEqual(
                json.summary.clusters.map((c) => c.issuer),
                json.summary.clusters.map(() => ({ unknown: true })),
                stack,
            );
            for (const federation of json.trust.flatMap((e) => e.federations).filter((f) => f.cluster !== undefined)) {
                assert.deepEqual(federation.issuer, { unknown: true }, stack);
            }
        }
    });

    it("are unknown also when they come from the lookup of an existing cluster", async () => {
        const run = await runStack({
            stack: "dev",
            config: flattenConfig({
                "azure-native:location": "westeurope",
                "aks-workload-identity:clusters": { legacy: { existing: { name: "aks-legacy", resourceGroupName: "rg-legacy" } } },
                "aks-workload-identity:workloads": { api: { namespace: "api" } },
            }),
        });
        const json = render(buildPlan("dev", run), "json");
        assert.equal(json.includes(placeholderIssuerUrl("westeurope", "aks-legacy")), false, "the looked-up issuer is the mock's");
        assert.deepEqual(
            buildPlan("dev", run).trust[0].federations.map((f) => f.issuer),
            [{ unknown: true }],
        );
        assert.match(render(buildPlan("dev", run), "text"), /\n {4}FIC fic-legacy: issuer \(known after deploy\)\n/);
    });

    it("are told apart from config values: a resource ID is invented only when it comes from another resource", async () => {
        const run = await runCommittedStack("prod");
        const invented = inventedValues(run.resources);
        const clusterId = `/subscriptions/${SUB}/resourceGroups/rg-workload-identity-prod/providers/Microsoft.ContainerService/managedClusters/aks-blue-prod`;
        assert.deepEqual(known(clusterId, invented, true), UNKNOWN);
        assert.equal(known(clusterId, invented, false), clusterId);
        assert.equal(isInvented(placeholderIssuerUrl("westeurope", "aks-blue-prod"), invented), true);
        assert.equal(isInvented("https://token.actions.githubusercontent.com", invented), false);
        assert.equal(isInvented("Standard_D4ds_v5", invented), false);
    });
});

describe("the Mermaid trust map", () => {
    it("draws prod with one box per cluster, FICs that name their cluster, and patched ServiceAccounts apart from created ones", async () => {
        const lines = renderMermaid(buildPlan("prod", await runCommittedStack("prod"))).split("\n");
        assert.deepEqual(
            lines.filter((line) => /^ *subgraph /.test(line)),
            [
                '  subgraph scopes["Azure role scopes"]',
                '  subgraph workload_orders_api["workload orders-api"]',
                '  subgraph workload_payments["workload payments"]',
                '  subgraph workload_ingest["workload ingest"]',
                '  subgraph workload_reports["workload reports"]',
                '  subgraph cluster_blue["cluster blue (aks-blue-prod)"]',
                '  subgraph cluster_green["cluster green (aks-green-prod)"]',
            ],
        );
        assert.deepEqual(
            lines.filter((line) => line.includes("([")),
            [
                '    fic_orders_api_fic_blue(["FIC fic-blue<br/>trusts cluster blue"]):::fic',
                '    fic_orders_api_fic_green(["FIC fic-green<br/>trusts cluster green"]):::fic',
                '    fic_payments_fic_blue(["FIC fic-blue<br/>trusts cluster blue"]):::fic',
                '    fic_payments_fic_green(["FIC fic-green<br/>trusts cluster green"]):::fic',
                '    fic_ingest_fic_blue(["FIC fic-blue<br/>trusts cluster blue"]):::fic',
                '    fic_ingest_fic_green(["FIC fic-green<br/>trusts cluster green"]):::fic',
            ],
        );
        const start = lines.indexOf('  subgraph cluster_blue["cluster blue (aks-blue-prod)"]');
        assert.deepEqual(lines.slice(start, start + 8), [
            '  subgraph cluster_blue["cluster blue (aks-blue-prod)"]',
            '    sa_blue_orders_orders_api["ServiceAccount<br/>orders/orders-api<br/>created by this stack"]:::created',
            '    sa_blue_payments_payments["ServiceAccount<br/>payments/payments<br/>created by this stack"]:::created',
            '    sa_blue_ingest_ingest_chart["ServiceAccount<br/>ingest/ingest-chart<br/>not created by this stack"]:::notcreated',
            '    sa_blue_reports_reports["ServiceAccount<br/>reports/reports<br/>allowed by the identity binding"]:::notcreated',
            '    sa_blue_tenant_contoso_reports["ServiceAccount<br/>tenant-contoso/reports<br/>allowed by the identity binding"]:::notcreated',
            '    sa_blue_tenant_fabrikam_reports["ServiceAccount<br/>tenant-fabrikam/reports<br/>allowed by the identity binding"]:::notcreated',
            "  end",
        ]);
        // The border tells them apart, not only the label: patched is dashed, created is not.
        assert.match(lines.find((line) => line.startsWith("  classDef patched ")) ?? "", /stroke-dasharray/);
        assert.doesNotMatch(lines.find((line) => line.startsWith("  classDef created ")) ?? "", /stroke-dasharray/);
        assert.ok(lines.includes("  fic_ingest_fic_green --> sa_green_ingest_ingest_chart"), "each FIC points at the ServiceAccount in its own cluster");
        assert.ok(lines.includes('  scope_1 -- "grants Key Vault Secrets User" --> principal_orders_api'), "role scopes grant their role to the principal");
    });

    it("draws a ServiceAccount that a FIC trusts but the stack does not create as such", () => {
        const plan = {
            stack: "dev",
            summary: { total: 0, byType: {}, clusters: [{ key: "main", name: "aks-main-dev", issuer: UNKNOWN, tier: "Free", kubernetesVersion: "1.35", upgradeChannel: "stable", systemPool: "", nodePools: [], apiServer: "", protect: false }], workloads: ["chart"] },
            trust: [
                {
                    workload: "chart",
                    principal: { kind: "managed identity" as const, name: "id-chart-dev" },
                    federations: [
                        { name: "fic-main", issuer: UNKNOWN, cluster: "main", subject: "system:serviceaccount:tools:chart", audiences: ["api://AzureADTokenExchange"], serviceAccount: undefined },
                        { name: "fic-ci", issuer: "https://token.actions.githubusercontent.com", cluster: undefined, subject: "repo:example/app:environment:dev", audiences: ["api://AzureADTokenExchange"], serviceAccount: undefined },
                    ],
                    bindings: [],
                    grants: [],
                },
            ],
            problems: [],
            policy: [],
            deployment: { seconds: 0, path: [], lowerBoundSeconds: 0, lowerBoundPath: [] },
        };
        const lines = renderMermaid(plan).split("\n");
        assert.ok(lines.includes('    sa_main_tools_chart["ServiceAccount<br/>tools/chart<br/>not created by this stack"]:::notcreated'), lines.join("\n"));
        assert.ok(lines.includes('    fic_chart_fic_ci(["FIC fic-ci<br/>issuer https://token.actions.githubusercontent.com"]):::fic'), lines.join("\n"));
        assert.equal(lines.filter((line) => line.startsWith("  fic_chart_fic_ci -->")).length, 0, "an outside issuer's FIC points at no ServiceAccount");
        assert.equal(lines.some((line) => line.includes("subgraph scopes")), false, "no scope box without role assignments");
    });
});

describe("committed plans", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`docs/plans/${stack}.md is current`, async () => {
            const run = await runStack({ stack, config: loadStackFile(stackFilePath(stack)) });
            const committed = readFileSync(path.join(ROOT, "docs", "plans", `${stack}.md`), "utf8");
            assert.equal(committed, renderMarkdown(buildPlan(stack, run)), `stale: run npm run plan -- --stack ${stack} --format markdown --out docs/plans/${stack}.md`);
        });
    }
});

describe("the plan command", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const plan = path.join(ROOT, "tools", "plan.ts");

    it("prints the plan of a committed stack", () => {
        const output = execFileSync(tsx, [plan, "--stack", "dev"], { cwd: ROOT, encoding: "utf8" });
        assert.match(output, /^Plan for stack dev\n/);
        assert.match(output, /\n {2}orders-api: managed identity id-orders-api-dev\n {4}FIC fic-main: issuer issuer of cluster main \(known after deploy\)\n/);
        // The config's warnings (placeholders in the sample) come first, then the policy findings.
        assert.match(output, /\nProblems\n {2}- warning: aks-workload-identity:clusters\.main\.adminGroupObjectIds\.0: "11111111-1111-1111-1111-111111111111" is a placeholder/);
        assert.match(output, /\n {2}- policy aks-defender \(advisory\) on main-aks: ManagedCluster "main-aks": Microsoft Defender is not enabled/);
    });

    it("prints the validation errors of an invalid config and exits 1", () => {
        const result = spawnSync(tsx, [plan, "--config", path.join(ROOT, "test", "catalog", "bad-stack.yaml"), "--stack", "dev"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            'Invalid stack config (1 problem); nothing was created:\n  - aks-workload-identity:workloads.orders-api.namespace: namespace "kube-system" is refused: AKS excludes it from the workload identity webhook, so pods there never get a token.\n',
        );
        assert.equal(result.stdout, "");
    });

    it("prints JSON alone on standard output, for `| jq`", () => {
        const result = spawnSync(tsx, [plan, "--stack", "dev", "--format", "json"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        const parsed = JSON.parse(result.stdout) as { stack: string };
        assert.equal(parsed.stack, "dev");
    });

    it("sends what the program logs while it runs to standard error", () => {
        const script = [
            'const { withStdoutForThePlan } = require("./tools/plan");',
            'const { runStack } = require("./testing/mock-runner");',
            "const program = () => { require(\"@pulumi/pulumi\").log.info(\"progress\"); console.log(\"noise\"); };",
            'void withStdoutForThePlan(() => runStack({ stack: "dev", program })).then(() => process.stdout.write("PLAN\\n"));',
        ].join("\n");
        const result = spawnSync(tsx, ["--eval", script], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.stdout, "PLAN\n", result.stderr);
        assert.match(result.stderr, /info: \[runtime\] progress\n/);
        assert.match(result.stderr, /^noise$/m);
    });

    it("exits 4 when a mandatory policy fails, and still prints the JSON", () => {
        // The committed prod stack with its API servers open to the internet: valid config, refused by the pack.
        const file = readFileSync(stackFilePath("prod"), "utf8");
        const document = parseYaml(file) as { config: Record<string, unknown> };
        const clusters = document.config["aks-workload-identity:clusters"] as Record<string, Record<string, unknown>>;
        for (const cluster of Object.values(clusters)) {
            cluster.authorizedIpRanges = ["0.0.0.0/0"];
        }
        const dir = mkdtempSync(path.join(tmpdir(), "plan-policy-"));
        const config = path.join(dir, "Pulumi.prod.yaml");
        writeFileSync(config, stringifyYaml(document));
        const result = spawnSync(tsx, [plan, "--config", config, "--format", "json"], { cwd: ROOT, encoding: "utf8" });
        rmSync(dir, { recursive: true });
        assert.equal(result.status, 4, result.stderr);
        const json = JSON.parse(result.stdout) as { policy: { policy: string; enforcementLevel: string; resource?: string }[] };
        assert.deepEqual(
            json.policy.filter((f) => f.enforcementLevel === "mandatory").map((f) => `${f.policy} on ${f.resource ?? "the stack"}`),
            Object.keys(clusters).map((key) => `aks-api-server-restricted on ${key}-aks`),
        );
        assert.equal(result.stderr, `${Object.keys(clusters).length} mandatory policies fail (aks-api-server-restricted): pulumi preview --policy-pack policy would fail.\n`);
    });

    it("refuses bad usage with exit code 2", () => {
        const result = spawnSync(tsx, [plan], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 2);
        assert.equal(result.stderr, "Give --stack NAME or --config FILE. See npm run plan -- --help.\n");
    });
});
