import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { actionCounts, changedPaths, diffGraphs, hazards, type Change, type Diff } from "../plan/diff";
import { renderDiffJson, renderDiffMarkdown, renderDiffText } from "../plan/render";
import { named } from "../testing/graph";
import { flattenConfig, runStack, stackFilePath, type RecordedResource } from "../testing/mock-runner";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const PLAN = path.join(ROOT, "tools", "plan.ts");
const WORKLOADS = "aks-workload-identity:workloads";
const CLUSTERS = "aks-workload-identity:clusters";

type Config = Record<string, Record<string, Record<string, unknown>>>;

/** The config of a committed stack file, as its YAML says it. */
function committed(stack: string): Config {
    return (parseYaml(readFileSync(stackFilePath(stack), "utf8")) as { config: Config }).config;
}

/** The diff of a committed stack against itself with `edit` applied. */
async function diffOf(stack: string, edit: (config: Config) => void): Promise<Diff> {
    const base = committed(stack);
    const current = structuredClone(base);
    edit(current);
    const before = await runStack({ stack, config: flattenConfig(base) });
    const after = await runStack({ stack, config: flattenConfig(current) });
    return diffGraphs(before.resources, after.resources);
}

/** `<action> <type tail> <name> [paths]`, one line per change, for exact comparisons. */
function lines(diff: Diff): string[] {
    return diff.changes.map((c) => `${c.action} ${c.type.split(":").pop() ?? ""} ${c.name}${c.paths.length > 0 ? ` [${c.paths.join(", ")}]` : ""}${c.cause ? ` (${c.cause})` : ""}`);
}

function change(diff: Diff, name: string): Change {
    const found = diff.changes.find((c) => c.name === name);
    assert.ok(found, `no change for ${name} in ${JSON.stringify(lines(diff))}`);
    return found;
}

function withInputs(resource: RecordedResource, inputs: Record<string, unknown>): RecordedResource {
    return { ...resource, inputs: { ...resource.inputs, ...inputs } };
}

describe("changed input paths", () => {
    it("are reported as Pulumi names them: nested keys, array items, keys with dots, a key on one side only", () => {
        assert.deepEqual(
            changedPaths(
                { a: { b: 1, c: [1, 2] }, metadata: { annotations: { "azure.workload.identity/client-id": "x" } }, gone: true, same: "s" },
                { a: { b: 2, c: [1, 3, 4] }, metadata: { annotations: { "azure.workload.identity/client-id": "y" } }, added: 1, same: "s" },
            ),
            ["a.b", "a.c[1]", "a.c[2]", 'metadata.annotations["azure.workload.identity/client-id"]', "gone", "added"],
        );
    });

    it("compare secrets by their value", () => {
        const secret = (value: string): Record<string, string> => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
        assert.deepEqual(changedPaths({ kubeconfig: secret("a") }, { kubeconfig: secret("a") }), []);
        assert.deepEqual(changedPaths({ kubeconfig: secret("a") }, { kubeconfig: secret("b") }), ["kubeconfig"]);
    });
});

describe("the offline diff", () => {
    it("finds nothing between two runs of the same config: what the mocks invent is the same in both", async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const diff = await diffOf(stack, () => undefined);
            assert.deepEqual(lines(diff), [], stack);
            assert.ok(diff.unchanged > 10, `${stack}: ${diff.unchanged} unchanged`);
        }
    });

    it("on a namespace move of a prod workload replaces only its ServiceAccounts and updates its FICs: identities, client IDs and role assignments untouched", async () => {
        const diff = await diffOf("prod", (config) => {
            // Into a namespace another workload of the stack already uses.
            config[WORKLOADS]["orders-api"].namespace = "payments";
            delete config[WORKLOADS]["orders-api"].createNamespace;
        });
        const touched = diff.changes.filter((c) => c.type !== "kubernetes:core/v1:Namespace");
        assert.deepEqual(lines({ ...diff, changes: touched }), [
            "update FederatedIdentityCredential orders-api-fic-blue [subject]",
            "update FederatedIdentityCredential orders-api-fic-green [subject]",
            "replace ServiceAccount orders-api-sa-blue [metadata.namespace]",
            "replace ServiceAccount orders-api-sa-green [metadata.namespace]",
        ]);
        // The namespace orders-api created, if it had one, may go; nothing else of the stack is in it.
        assert.deepEqual([...new Set(diff.changes.filter((c) => c.type === "kubernetes:core/v1:Namespace").map((c) => c.action))].filter((a) => a !== "delete"), []);
        assert.deepEqual(hazards(diff), []);
        assert.equal(change(diff, "orders-api-sa-blue").deleteFirst, false, "the ServiceAccount in the new namespace is created before the old one goes");
    });

    it("on a networkPolicy change replaces the cluster, deleted first, and flags it with everything that follows", async () => {
        const diff = await diffOf("prod", (config) => {
            config[CLUSTERS].blue.networkPolicy = "calico";
        });
        const cluster = change(diff, "blue-aks");
        assert.equal(cluster.action, "replace");
        assert.ok(cluster.paths.includes("networkProfile.networkPolicy"), JSON.stringify(cluster.paths));
        assert.equal(cluster.deleteFirst, true);
        assert.deepEqual(
            cluster.hazards.map((h) => h.code),
            ["cluster-replaced"],
        );
        assert.match(cluster.hazards[0].message, /^AKS cluster aks-blue-prod is replaced \(forced by [^)]*networkProfile\.networkPolicy[^)]*\), deleted before the new one exists: the new cluster has a new OIDC issuer URL/);
        assert.match(cluster.hazards[0].message, /The cluster is protected: pulumi up refuses to replace it\./);
        // Its issuer is new: the FICs that trust it are rewritten with a value known only after deploy.
        assert.deepEqual(change(diff, "orders-api-fic-blue").unknownPaths, ["issuer"]);
        assert.equal(change(diff, "orders-api-fic-blue").action, "update");
        // Its Kubernetes provider and every object in it come back with it.
        assert.equal(change(diff, "blue-k8s").action, "replace");
        assert.equal(change(diff, "orders-api-sa-blue").cause, "its provider blue-k8s is replaced");
        // green is untouched.
        assert.deepEqual(diff.changes.filter((c) => c.name.startsWith("green") || c.name.endsWith("-green")), []);
        // No identity is replaced.
        assert.deepEqual(diff.changes.filter((c) => c.type === "azure-native:managedidentity:UserAssignedIdentity" || c.type.startsWith("azuread:index/application:")), []);
    });

    it("flags a user pool replaced (delete first) and pool changes AKS rejects in place, with the rotation procedure", async () => {
        const vmSize = await diffOf("prod", (config) => {
            ((config[CLUSTERS].blue.nodePools as Record<string, Record<string, unknown>>).apps).vmSize = "Standard_D16ds_v5";
        });
        assert.deepEqual(lines(vmSize), ["replace AgentPool blue-pool-apps [vmSize]"]);
        assert.deepEqual(change(vmSize, "blue-pool-apps").hazards, [
            {
                code: "pool-deleted-first",
                message:
                    "Node pool apps is replaced (forced by vmSize) and deleted before its replacement exists (its name is fixed): pods that only fit on it have no nodes meanwhile. Rotate the pool instead: add a pool with a new key and the new settings and deploy; cordon and drain the old pool's nodes; then remove the old key in a later deploy.",
            },
        ]);
        const system = await diffOf("prod", (config) => {
            (config[CLUSTERS].blue.systemPool as Record<string, unknown>).vmSize = "Standard_D8ds_v5";
        });
        assert.deepEqual(lines(system), ["update ManagedCluster blue-aks [agentPoolProfiles[0].vmSize]"]);
        assert.deepEqual(change(system, "blue-aks").hazards.map((h) => h.code), ["pool-change-rejected"]);
        assert.match(change(system, "blue-aks").hazards[0].message, /AKS rejects changing these in place, so the cluster update fails\. Rotate the pool instead: add a pool under nodePools with mode: System and the new settings/);
    });

    it("flags a FIC created while its twin (same issuer and subject) is deleted: a renamed federation key", async () => {
        const federation = { issuer: "https://token.actions.githubusercontent.com", subject: "repo:example/reports:environment:dev" };
        const base = committed("dev");
        base[WORKLOADS].reports.federations = { ci: federation };
        const current = structuredClone(base);
        current[WORKLOADS].reports.federations = { github: federation };
        const diff = diffGraphs((await runStack({ stack: "dev", config: flattenConfig(base) })).resources, (await runStack({ stack: "dev", config: flattenConfig(current) })).resources);
        assert.deepEqual(lines(diff), ["create FederatedIdentityCredential reports-fic-github", "delete FederatedIdentityCredential reports-fic-ci"]);
        assert.deepEqual(change(diff, "reports-fic-github").hazards, [
            {
                code: "fic-twin",
                message:
                    "Federated credential fic-github is created while fic-ci (reports-fic-ci), with the same issuer and subject on the same identity, still exists: Entra refuses a second federated credential with the same issuer and subject, so the create fails. Deploy in two steps: first remove the old credential (deploy), then add the new one (deploy).",
            },
        ]);
    });

    it("deletes no namespace when the workload that used it is removed: the cluster owns it", async () => {
        const diff = await diffOf("dev", (config) => {
            delete config[WORKLOADS]["orders-api"];
        });
        assert.deepEqual(diff.changes.filter((c) => c.type === "kubernetes:core/v1:Namespace"), []);
        assert.deepEqual(hazards(diff), []);
    });

    it("flags a namespace deleted with objects that other workloads still have in it", async () => {
        const diff = await diffOf("dev", (config) => {
            delete config[CLUSTERS].main.namespaces;
        });
        assert.deepEqual(lines(diff), ["delete Namespace main-ns-orders"]);
        const [hazard] = change(diff, "main-ns-orders").hazards;
        assert.equal(hazard.code, "namespace-deleted-with-objects");
        assert.match(hazard.message, /^Namespace orders is deleted \(provider main-k8s\) while it holds objects that stay in the stack: .*ServiceAccount reports-job of WorkloadIdentity reports/);
    });

    it("flags an identity replaced: new client and principal IDs, its role assignments and FICs replaced with it", async () => {
        const diff = await diffOf("dev", (config) => {
            config[WORKLOADS].reports.name = "id-reports-v2-dev";
        });
        assert.deepEqual(change(diff, "reports-id").hazards.map((h) => h.code), ["identity-replaced"]);
        assert.equal(change(diff, "reports-ra-blobs").action, "replace");
        assert.ok(change(diff, "reports-ra-blobs").paths.includes("principalId"), JSON.stringify(change(diff, "reports-ra-blobs").paths));
        assert.equal(change(diff, "reports-fic-main").action, "replace");
    });

    it("flags a cluster deleted when its key is renamed", async () => {
        const diff = await diffOf("dev", (config) => {
            config[CLUSTERS].primary = config[CLUSTERS].main;
            delete config[CLUSTERS].main;
        });
        assert.deepEqual(change(diff, "main-aks").hazards.map((h) => h.code), ["cluster-deleted"]);
        assert.equal(change(diff, "primary-aks").action, "create");
    });

    it("classifies a recorded graph whatever its names: an app registration replaced takes its service principal along", async () => {
        const run = await runStack({ stack: "prod", config: flattenConfig(committed("prod")) });
        const app = named(run.resources, "azuread:index/application:Application", "payments-app");
        const current = run.resources.map((r) => (r.urn === app.urn ? withInputs(r, { templateId: "00000000-0000-0000-0000-0000000000aa" }) : r));
        const diff = diffGraphs(run.resources, current);
        assert.equal(change(diff, "payments-app").action, "replace");
        assert.equal(change(diff, "payments-app").deleteFirst, false, "azuread creates the new application first");
        assert.deepEqual(change(diff, "payments-app").hazards.map((h) => h.code), ["identity-replaced"]);
        assert.deepEqual(change(diff, "payments-sp").paths, ["clientId"], "its client ID is known only after deploy");
        assert.deepEqual(change(diff, "payments-sp").unknownPaths, ["clientId"]);
        assert.equal(change(diff, "payments-fic-blue").action, "replace", "applicationId comes from the new application");
    });

    it("follows a resource renamed with an alias, when the graph records aliases: no delete and create", async () => {
        const run = await runStack({ stack: "dev", config: flattenConfig(committed("dev")) });
        const fic = named(run.resources, "azure-native:managedidentity:FederatedIdentityCredential", "reports-fic-main");
        const renamed = { ...fic, urn: fic.urn.replace(/::reports-fic-main$/, "::reports-fic-main-v2"), name: "reports-fic-main-v2" };
        const without = diffGraphs(run.resources, run.resources.map((r) => (r.urn === fic.urn ? renamed : r)));
        assert.deepEqual(lines(without), ["create FederatedIdentityCredential reports-fic-main-v2", "delete FederatedIdentityCredential reports-fic-main"]);
        assert.deepEqual(change(without, "reports-fic-main-v2").hazards.map((h) => h.code), ["fic-twin"]);
        const aliased = diffGraphs(run.resources, run.resources.map((r) => (r.urn === fic.urn ? { ...renamed, aliases: [fic.urn] } : r)));
        assert.deepEqual(lines(aliased), []);
    });

    it("ignores what ignoreChanges covers, as the engine does", async () => {
        const run = await runStack({ stack: "prod", config: flattenConfig(committed("prod")) });
        const cluster = named(run.resources, "azure-native:containerservice:ManagedCluster", "blue-aks");
        const pools = cluster.inputs.agentPoolProfiles as Record<string, unknown>[];
        const changed = withInputs({ ...cluster, ignoreChanges: ["agentPoolProfiles[0].count", "kubernetesVersion"] }, { kubernetesVersion: "9.99", agentPoolProfiles: [{ ...pools[0], count: 42 }] });
        const diff = diffGraphs(run.resources, run.resources.map((r) => (r.urn === cluster.urn ? changed : r)));
        assert.deepEqual(lines(diff), []);
        const noted = diffGraphs(run.resources, run.resources.map((r) => (r.urn === cluster.urn ? { ...changed, ignoreChanges: [] } : r)));
        assert.deepEqual(lines(noted), ["update ManagedCluster blue-aks [agentPoolProfiles[0].count, kubernetesVersion]"]);
    });

    it("renders text, Markdown for a pull request, and JSON with changes [{ urn, type, action, paths, hazards }]", async () => {
        const diff = await diffOf("prod", (config) => {
            config[CLUSTERS].blue.networkPolicy = "calico";
        });
        const report = { stack: "prod", base: "Pulumi.prod.yaml as of main", current: "Pulumi.prod.yaml", diff, policy: [], allowReplace: false };
        const json = JSON.parse(renderDiffJson(report)) as { summary: Record<string, number>; hazards: number; changes: { urn: string; type: string; action: string; paths: string[]; hazards: { code: string }[] }[] };
        assert.deepEqual(json.summary, actionCounts(diff));
        assert.equal(json.hazards, hazards(diff).length);
        assert.deepEqual(Object.keys(json.changes[0]).slice(0, 5), ["urn", "type", "name", "action", "paths"]);
        assert.equal(json.changes[0].urn, change(diff, "blue-aks").urn);
        const text = renderDiffText(report);
        assert.match(text, /^Diff for stack prod: Pulumi\.prod\.yaml as of main -> Pulumi\.prod\.yaml\n/);
        assert.match(text, /\n {2}\+- replace ManagedCluster +blue-aks: networkProfile\.networkDataplane, networkProfile\.networkPolicy force it \(deleted before the new one is created\)\n/);
        assert.match(text, /\n {2}~ {2}update {2}FederatedIdentityCredential +orders-api-fic-blue: issuer \(known after deploy\)\n/);
        assert.match(text, /\nHazards \(\d+\)\n {2}! ManagedCluster blue-aks \[cluster-replaced\]: AKS cluster aks-blue-prod is replaced/);
        assert.match(text, /\n {2}The command exits 3 unless --allow-replace is given\.\n$/);
        const markdown = renderDiffMarkdown(report);
        assert.match(markdown, /^### Offline diff of stack `prod`\n/);
        assert.match(markdown, /\n> \[!CAUTION\]\n> \*\*\d+ hazards\.\*\* The command exits 3 unless --allow-replace is given\.\n> - \*\*ManagedCluster `blue-aks`\*\* \(cluster-replaced\): /);
        assert.match(markdown, /\n\| \+- replace \| `blue-aks` \| ManagedCluster \| `networkProfile\.networkDataplane`, `networkProfile\.networkPolicy` force it \(deleted before the new one is created\) \|\n/);
    });
});

describe("plan --base", () => {
    function writeConfig(dir: string, config: Config, name = "Pulumi.prod.yaml"): string {
        const file = path.join(dir, name);
        writeFileSync(file, stringifyYaml({ config }));
        return file;
    }

    it("exits 3 on a cluster replacement unless --allow-replace, and prints the JSON either way", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "plan-base-"));
        try {
            const current = committed("prod");
            current[CLUSTERS].blue.networkPolicy = "calico";
            const file = writeConfig(dir, current);
            const refused = spawnSync(TSX, [PLAN, "--config", file, "--base", stackFilePath("prod"), "--format", "json"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(refused.status, 3, refused.stderr);
            const json = JSON.parse(refused.stdout) as { changes: { name: string; action: string; hazards: { code: string }[] }[] };
            assert.deepEqual(
                json.changes.filter((c) => c.hazards.length > 0).map((c) => `${c.action} ${c.name}: ${c.hazards.map((h) => h.code).join(", ")}`),
                ["replace blue-aks: cluster-replaced", "replace blue-pool-apps: pool-deleted-first"],
            );
            assert.match(refused.stderr, /^2 hazards in the diff: give --allow-replace to accept them\.\n$/);
            const allowed = spawnSync(TSX, [PLAN, "--config", file, "--base", stackFilePath("prod"), "--allow-replace"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(allowed.status, 0, allowed.stderr);
            assert.match(allowed.stdout, /--allow-replace is given: the command does not fail on them\.\n$/);
        } finally {
            rmSync(dir, { recursive: true });
        }
    });

    it("reads the base from a git ref, and treats a stack file that did not exist there as new", () => {
        const same = spawnSync(TSX, [PLAN, "--stack", "prod", "--base", "HEAD"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(same.status, 0, same.stderr);
        assert.match(same.stdout, /^Diff for stack prod: Pulumi\.prod\.yaml as of HEAD -> Pulumi\.prod\.yaml\n[^\n]*\n\n {2}no changes, \d+ unchanged\n$/);

        const repo = mkdtempSync(path.join(tmpdir(), "plan-git-"));
        try {
            const git = (...args: string[]): string => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" });
            git("init", "--quiet");
            writeFileSync(path.join(repo, "README"), "x\n");
            git("add", "README");
            git("commit", "--quiet", "-m", "start");
            const file = writeConfig(repo, committed("dev"), "Pulumi.dev.yaml");
            const fresh = spawnSync(TSX, [PLAN, "--config", file, "--base", "HEAD", "--format", "json"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(fresh.status, 0, fresh.stderr);
            const json = JSON.parse(fresh.stdout) as { base: string; summary: Record<string, number> };
            assert.equal(json.base, "Pulumi.dev.yaml as of HEAD (no such file there: a new stack)");
            assert.equal(json.summary.delete + json.summary.update + json.summary.replace + json.summary.unchanged, 0);
            assert.ok(json.summary.create > 10, `everything is created: ${JSON.stringify(json.summary)}`);
        } finally {
            rmSync(repo, { recursive: true });
        }
    });

    it("refuses a base that is neither a file nor a git ref, and --allow-replace without --base, in one line with exit 2", () => {
        const bad = spawnSync(TSX, [PLAN, "--stack", "prod", "--base", "no-such-ref"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(bad.status, 2);
        assert.equal(bad.stderr, `--base no-such-ref is neither a file nor a git ref (branch, tag or commit) of the repository that holds ${stackFilePath("prod")}.\n`);
        assert.equal(bad.stdout, "");
        const alone = spawnSync(TSX, [PLAN, "--stack", "prod", "--allow-replace"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(alone.status, 2);
        assert.equal(alone.stderr, "--allow-replace needs --base. See npm run plan -- --help.\n");
    });
});
