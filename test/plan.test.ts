import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { flattenConfig, loadStackFile, placeholderIssuerUrl, runCommittedStack, runStack, stackFilePath, type RunResult } from "../testing/mock-runner";
import { buildPlan, deploymentEstimate, trustChainProblems, trustMap } from "../plan/model";
import { renderMarkdown } from "../plan/render";
import { WorkloadIdentity, WorkloadIdentityCluster } from "../components";

const GROUP = "11111111-1111-1111-1111-111111111111";
const SUB = "00000000-0000-0000-0000-000000000000";
const ROOT = path.resolve(__dirname, "..");

const clusterConfig = { systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], private: true };

function small(clusters: string[]): Record<string, string> {
    return flattenConfig({
        "azure-native:location": "westeurope",
        "aks-workload-identity:clusters": Object.fromEntries(clusters.map((key) => [key, clusterConfig])),
        "aks-workload-identity:workloads": {
            api: {
                namespace: "api",
                createNamespace: true,
                roleAssignments: { kv: { role: "Key Vault Secrets User", scope: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv` } },
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
        });
        assert.equal(plan.summary.total, 8);
        assert.deepEqual(plan.summary.workloads, ["api"]);
        assert.deepEqual(plan.trust, [
            {
                workload: "api",
                principal: { kind: "managed identity", name: "id-api-dev" },
                federations: [
                    {
                        name: "fic-main",
                        issuer: placeholderIssuerUrl("westeurope", "aks-main-dev"),
                        cluster: "main",
                        subject: "system:serviceaccount:api:api",
                        audiences: ["api://AzureADTokenExchange"],
                        serviceAccount: { namespace: "api", name: "api", mode: "created" },
                    },
                ],
                grants: [
                    {
                        key: "kv",
                        role: "Key Vault Secrets User",
                        scope: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`,
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
        // Resource group, cluster, then the FIC (10 s) outlasts provider, namespace and ServiceAccount (4 s).
        assert.deepEqual(plan.deployment, {
            seconds: 495,
            path: [
                { type: "azure-native:resources:ResourceGroup", name: "resource-group", startSeconds: 0, seconds: 5 },
                { type: "azure-native:containerservice:ManagedCluster", name: "main-aks", startSeconds: 5, seconds: 480 },
                { type: "azure-native:managedidentity:FederatedIdentityCredential", name: "api-fic-main", startSeconds: 485, seconds: 10 },
            ],
            lowerBoundSeconds: 495,
            lowerBoundPath: [
                { type: "azure-native:resources:ResourceGroup", name: "resource-group", startSeconds: 0, seconds: 5 },
                { type: "azure-native:containerservice:ManagedCluster", name: "main-aks", startSeconds: 5, seconds: 480 },
                { type: "azure-native:managedidentity:FederatedIdentityCredential", name: "api-fic-main", startSeconds: 485, seconds: 10 },
            ],
        });
    });

    it("puts an identity's three FICs one after another on the critical path", async () => {
        const run = await runStack({ stack: "dev", config: small(["a", "b", "c"]) });
        const estimate = deploymentEstimate(run.resources);
        assert.deepEqual(
            estimate.path.map((step) => [step.name, step.startSeconds, step.seconds]),
            [
                ["resource-group", 0, 5],
                // The three clusters finish together; the first of them is named.
                ["a-aks", 5, 480],
                ["api-fic-a", 485, 10],
                ["api-fic-b", 495, 10],
                ["api-fic-c", 505, 10],
            ],
        );
        assert.equal(estimate.seconds, 515);
        assert.equal(estimate.lowerBoundSeconds, 515, "the chain is forced by Azure, so it is part of the lower bound");
    });

    it("shows a dependency the cloud does not need as a path longer than the lower bound", async () => {
        const run = await runStack({
            stack: "dev",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", { resourceGroupName: "rg", systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 }, adminGroupObjectIds: [GROUP], privateCluster: true });
                new WorkloadIdentity("api", { resourceGroupName: "rg", namespace: "api", clusters: { main: cluster.bindWorkload("api", false) } });
                // An identity that waits for the cluster for no reason.
                const late = new managedidentity.UserAssignedIdentity("late", { resourceGroupName: "rg", resourceName: "id-late" }, { dependsOn: [cluster.cluster] });
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
        assert.equal(estimate.lowerBoundSeconds, 490, "cluster then the api FIC");
        assert.equal(estimate.seconds, 500, "cluster, then the late identity, then its FIC");
        assert.deepEqual(estimate.path.map((s) => s.name), ["main-aks", "late", "late-fic"]);
        assert.deepEqual(estimate.lowerBoundPath.map((s) => s.name), ["main-aks", "api-fic-main"]);
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
                ["ingest", "managed identity", ["fic-blue->blue:ingest/ingest-chart:patched", "fic-green->green:ingest/ingest-chart:patched"]],
            ],
        );
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
        assert.match(output, /\n {2}orders-api: managed identity id-orders-api-dev\n {4}FIC fic-main: issuer issuer of cluster main \(its URL is known after deployment\)\n/);
        assert.match(output, /\nProblems\n {2}- policy aks-defender \(advisory\) on main-aks: ManagedCluster "main-aks": Microsoft Defender is not enabled/);
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

    it("refuses bad usage with exit code 2", () => {
        const result = spawnSync(tsx, [plan], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 2);
        assert.match(result.stderr, /^Give --stack NAME or --config FILE\.\n\nUsage: npm run plan/);
    });
});
