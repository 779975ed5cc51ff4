import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../testing/mock-runner";
import { ENVIRONMENT_VARIABLES, REPOSITORY_VARIABLES } from "../bootstrap/github";
import { AUDIENCE, commandEnvironment, fetchToken, run, startBridge, tokenRequest, TokenError } from "../pipelines/federated-token";

/**
 * The pipelines, checked offline: every GitHub workflow against GitHub's own workflow schema
 * (@actions/workflow-parser, with the reusable workflows it calls), then the rules of a pipeline
 * without secrets: OIDC on every job that reaches Azure and on no other, credentials that stay
 * fresh for a job's whole timeout, no secret referenced, environments in promotion order, one run
 * per stack, pinned tools (actions by commit SHA, Node.js from .nvmrc, the Pulumi CLI from
 * .pulumi-version, kubelogin), the policy pack in every preview and up, pull-request jobs never on
 * the deploy runner, and the offline diff of changed stack files as a pull-request comment. The
 * helper scripts the pipelines run (pipelines/*.sh, pipelines/federated-token.ts) are run here too.
 */

type Mapping = Record<string, unknown>;

interface Workflow {
    readonly file: string;
    readonly text: string;
    readonly document: Mapping;
}

const WORKFLOW_DIRECTORY = path.join(PROJECT_ROOT, ".github", "workflows");
const AZURE_DEVOPS = path.join(PROJECT_ROOT, "pipelines", "azure-devops.yml");
const AZURE_DEVOPS_STEPS = path.join(PROJECT_ROOT, "pipelines", "templates", "pulumi-steps.yml");
const AZURE_DEVOPS_NODE = path.join(PROJECT_ROOT, "pipelines", "templates", "node.yml");
const AZURE_DEVOPS_PULUMI = path.join(PROJECT_ROOT, "pipelines", "templates", "pulumi.sh");
const STACK_DIFF = path.join(PROJECT_ROOT, "pipelines", "stack-diff.sh");
const DEPLOY_RUNS_ON = "${{ fromJSON(vars.DEPLOY_RUNS_ON || '\"ubuntu-latest\"') }}";
const PR_RUNS_ON = "${{ fromJSON(vars.PR_RUNS_ON || '\"ubuntu-latest\"') }}";
/** Every Pulumi command of a pipeline runs through this wrapper, which keeps the federated token fresh. */
const TOKEN_WRAPPER = "npx --no-install tsx pipelines/federated-token.ts";
/** The kubelogin release both platforms install (Azure/kubelogin tags: the newest, 2026-06-23). */
const KUBELOGIN_VERSION = "v0.2.19";
/**
 * The actions the workflows use, each pinned to the commit of a release tag, looked up in a clone
 * of the action's repository (`git rev-parse <tag>^{commit}`). Dependabot moves the SHA and the comment.
 */
const PINNED_ACTIONS: Readonly<Record<string, { sha: string; tag: string }>> = {
    "actions/checkout": { sha: "3d3c42e5aac5ba805825da76410c181273ba90b1", tag: "v7.0.1" },
    "actions/setup-node": { sha: "820762786026740c76f36085b0efc47a31fe5020", tag: "v7.0.0" },
    "azure/use-kubelogin": { sha: "0ce7c36141aa27d4934872cf00b0120804c98a29", tag: "v1.3" },
    "pulumi/actions": { sha: "8e5e406f4007fca908480587cb9893c07090f58d", tag: "v7.0.0" },
};
/** Variables an operator sets by hand (docs/team-setup.md): the bootstrap does not print them. */
const OPERATOR_VARIABLES = ["PR_RUNS_ON", "BOOTSTRAP_CONFIG"];

function mapping(value: unknown, what: string): Mapping {
    assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), `${what} is a mapping`);
    return value as Mapping;
}

function sequence(value: unknown, what: string): unknown[] {
    assert.ok(Array.isArray(value), `${what} is a list`);
    return value;
}

function read(file: string): string {
    return fs.readFileSync(file, "utf8");
}

function jobsOf(workflow: Workflow): Record<string, Mapping> {
    return Object.fromEntries(Object.entries(mapping(workflow.document.jobs, `${workflow.file} jobs`)).map(([id, job]) => [id, mapping(job, `${workflow.file} job ${id}`)]));
}

function stepsOf(job: Mapping): Mapping[] {
    return job.steps === undefined ? [] : sequence(job.steps, "steps").map((step) => mapping(step, "step"));
}

function scriptOf(job: Mapping): string {
    return stepsOf(job)
        .flatMap((step) => (typeof step.run === "string" ? [step.run.trimEnd()] : []))
        .join("\n");
}

function actionsOf(job: Mapping): string[] {
    return stepsOf(job).flatMap((step) => (typeof step.uses === "string" ? [step.uses] : []));
}

function stepNamed(job: Mapping, name: string): Mapping {
    const step = stepsOf(job).find((s) => s.name === name);
    assert.ok(step, `a step named "${name}"`);
    return step;
}

function loadWorkflows(): Map<string, Workflow> {
    const workflows = new Map<string, Workflow>();
    for (const file of fs.readdirSync(WORKFLOW_DIRECTORY).filter((name) => /\.ya?ml$/.test(name)).sort()) {
        const text = read(path.join(WORKFLOW_DIRECTORY, file));
        workflows.set(file, { file, text, document: mapping(parse(text), file) });
    }
    return workflows;
}

/** GitHub's workflow parser: schema errors, expression errors, and the inputs of each reusable workflow it calls. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
    const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } = await import("@actions/workflow-parser");
    const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
    const errors = parsed.context.errors.getErrors().map((error) => error.message);
    if (parsed.value === undefined) {
        return errors;
    }
    const localFiles = {
        getFileContent: (reference: { path: string } | { repository: string }): Promise<{ name: string; content: string }> => {
            if ("repository" in reference) {
                return Promise.reject(new Error("only reusable workflows of this repository are called"));
            }
            return Promise.resolve({ name: reference.path, content: read(path.join(PROJECT_ROOT, reference.path)) });
        },
    };
    const template = await convertWorkflowTemplate(parsed.context, parsed.value, localFiles, { fetchReusableWorkflowDepth: 1 });
    return [...new Set([...errors, ...(template.errors ?? []).map((error) => error.Message)])];
}

/** The workflow a job calls with `uses: ./.github/workflows/<file>`, if any. */
function calledWorkflow(job: Mapping, workflows: ReadonlyMap<string, Workflow>): Workflow | undefined {
    if (typeof job.uses !== "string" || !job.uses.startsWith("./")) {
        return undefined;
    }
    const called = workflows.get(path.basename(job.uses));
    assert.ok(called, `${job.uses} exists`);
    return called;
}

/** Whether a job logs in to Azure, reads the team state or runs the Pulumi CLI (itself or through a workflow it calls). */
function touchesAzure(job: Mapping, workflows: ReadonlyMap<string, Workflow>): boolean {
    const called = calledWorkflow(job, workflows);
    if (called !== undefined) {
        return Object.values(jobsOf(called)).some((calledJob) => touchesAzure(calledJob, workflows));
    }
    const environment = JSON.stringify([job.env ?? {}, ...stepsOf(job).map((step) => step.env ?? {})]);
    return (
        actionsOf(job).some((action) => action.toLowerCase().startsWith("azure/") || action.startsWith("pulumi/")) ||
        /"(ARM_[A-Z_]+|PULUMI_BACKEND_URL|AZURE_STORAGE_ACCOUNT)"/.test(environment) ||
        /\b(pulumi|az)\s+[a-z]/.test(scriptOf(job))
    );
}

/** The job's permissions, or the workflow's when the job sets none. */
function permissionsOf(workflow: Workflow, job: Mapping): Mapping {
    const permissions = job.permissions ?? workflow.document.permissions;
    return permissions === undefined ? {} : mapping(permissions, `${workflow.file} permissions`);
}

/** Names of the secrets a text references: `secrets.NAME` or `secrets['NAME']`. */
function referencedSecrets(text: string): string[] {
    return [...text.matchAll(/\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])/g)].map((match) => match[1] ?? match[2]);
}

/** Script lines with continuations joined and comments dropped. */
function commandLines(script: string): string[] {
    return script
        .replace(/\s*\\\n\s*/g, " ")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"));
}

/** Where a line runs `pulumi preview` or `pulumi up`: at its start, or as the command after a wrapper's `--`. */
const PULUMI_COMMAND = /(?:^|\s--\s+)(pulumi (?:preview|up)\b.*)$/;

/** The `pulumi preview` and `pulumi up` commands of a script, from the word `pulumi` on. */
function pulumiCommands(script: string): string[] {
    return commandLines(script).flatMap((line) => {
        const match = PULUMI_COMMAND.exec(line);
        return match === null ? [] : [match[1]];
    });
}

/** The whole command lines that run `pulumi preview` or `pulumi up`, wrapper included. */
function pulumiCommandLines(script: string): string[] {
    return commandLines(script).filter((line) => PULUMI_COMMAND.test(line));
}

/** Variables a text reads: `vars.NAME`. */
function referencedVariables(text: string): string[] {
    return [...new Set([...text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]))].sort();
}

/** Environments in promotion order, as the bootstrap's example config lists them. */
function promotionOrder(): string[] {
    const document = mapping(parse(read(path.join(PROJECT_ROOT, "bootstrap", "Pulumi.example.yaml"))), "Pulumi.example.yaml");
    const config = mapping(document.config, "config");
    return sequence(config["aks-workload-identity-bootstrap:environments"], "environments").map((environment) => String(mapping(environment, "environment").name));
}

/** The committed stacks of the main program: every Pulumi.<stack>.yaml in the repository root. */
function committedStacks(): string[] {
    return fs
        .readdirSync(PROJECT_ROOT)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

/** `uses:` lines of a workflow that name a third-party action, with what follows the reference. */
function actionReferences(text: string): { line: string; action: string; ref: string | undefined; comment: string }[] {
    return text.split("\n").flatMap((line) => {
        const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (match === null || match[1].startsWith("./")) {
            return [];
        }
        const [action, ref] = match[1].split("@");
        return [{ line, action, ref, comment: match[2] }];
    });
}

/** Why a `uses:` reference is not pinned to a full commit SHA with its release tag in a comment, or undefined. */
function pinProblem(reference: { action: string; ref: string | undefined; comment: string }): string | undefined {
    if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?$/.test(reference.action)) {
        return `"${reference.action}" is not owner/repo`;
    }
    if (reference.ref === undefined || !/^[0-9a-f]{40}$/.test(reference.ref)) {
        return `${reference.action}@${reference.ref ?? ""} is not a full commit SHA`;
    }
    if (!/^\s+# v\d+(\.\d+){0,2}\s*$/.test(reference.comment)) {
        return `${reference.action}@${reference.ref} says no release tag in a comment ("# vX.Y.Z")`;
    }
    return undefined;
}

/** A bash script run with fake commands first on PATH; returns its exit code and output. */
function runBash(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; fakes?: Record<string, string> } = {}): { status: number; stdout: string; stderr: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-bin-"));
    for (const [name, body] of Object.entries(options.fakes ?? {})) {
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { ...process.env, ...options.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
        encoding: "utf8",
    });
    fs.rmSync(bin, { recursive: true, force: true });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Forbidden anywhere in a pipeline: ways to hand a secret to a login, the state or the secrets provider. */
const SECRET_SHAPED = [
    /ARM_CLIENT_SECRET/i,
    /AZURE_CLIENT_SECRET/i,
    /ARM_CLIENT_CERTIFICATE/i,
    /AZURE_CLIENT_CERTIFICATE/i,
    /client-secret/i,
    /\bcreds\s*:/i,
    /servicePrincipalKey/i,
    /AZURE_STORAGE_KEY/i,
    /AZURE_STORAGE_SAS_TOKEN/i,
    /AZURE_STORAGE_CONNECTION_STRING/i,
    /PULUMI_CONFIG_PASSPHRASE/i,
    /PULUMI_ACCESS_TOKEN/i,
    /password/i,
];

/**
 * Credentials that do not last a job's timeout: a static OIDC token (ARM_OIDC_TOKEN, the Azure
 * DevOps task's idToken: 10 minutes), the Azure CLI login of azure/login (one assertion), and
 * AZURE_KEYVAULT_AUTH_VIA_CLI, which gocloud.dev ignores since 2023 (secrets/azurekeyvault, commit
 * dfaf95af3: DefaultAzureCredential only).
 */
const SHORT_LIVED = [/ARM_OIDC_TOKEN\b/, /\bidToken\b/, /azure\/login@/i, /AZURE_KEYVAULT_AUTH_VIA_CLI/, /AZURE_FEDERATED_TOKEN_FILE=/];

/** `curl ... | sh` and its cousins: a pipeline runs no installer script it did not pin. */
const PIPE_TO_SHELL = /\b(curl|wget)\b[^\n]*\|\s*(sudo\s+)?(ba|z|da)?sh\b/;

/** All text the pipelines run: workflows, the Azure DevOps pipeline and templates, the helper scripts. */
function pipelineTexts(): { file: string; text: string }[] {
    const files = [
        ...fs.readdirSync(WORKFLOW_DIRECTORY).map((name) => path.join(WORKFLOW_DIRECTORY, name)),
        AZURE_DEVOPS,
        AZURE_DEVOPS_STEPS,
        AZURE_DEVOPS_NODE,
        AZURE_DEVOPS_PULUMI,
        STACK_DIFF,
    ];
    return files.map((file) => ({ file: path.relative(PROJECT_ROOT, file), text: read(file) }));
}

describe("GitHub workflows", () => {
    let workflows: Map<string, Workflow>;

    before(() => {
        workflows = loadWorkflows();
    });

    it("are the pull-request, deploy and per-stack workflows", () => {
        assert.deepEqual([...workflows.keys()], ["deploy.yml", "pull-request.yml", "pulumi-stack.yml"]);
    });

    it("validate against GitHub's workflow schema, with the inputs of every reusable workflow they call", async () => {
        for (const workflow of workflows.values()) {
            assert.deepEqual(await workflowErrors(workflow.file, workflow.text), [], workflow.file);
        }
    });

    it("are checked by a validator that does refuse a broken workflow", async () => {
        const deploy = (workflows.get("deploy.yml") as Workflow).text;
        const typo = await workflowErrors("typo.yml", deploy.replace("      id-token: write\n    uses: ./.github/workflows/pulumi-stack.yml\n    with:\n      environment: dev", "      id-token: writ\n    uses: ./.github/workflows/pulumi-stack.yml\n    with:\n      environment: dev"));
        assert.equal(typo.length, 1, typo.join("\n"));
        assert.match(typo[0], /^typo\.yml \(Line: \d+, Col: \d+\): Unexpected value 'writ'$/);
        const missingInput = await workflowErrors("missing-input.yml", deploy.replace("      environment: prod\n      stack: prod\n", "      environment: prod\n"));
        assert.ok(missingInput.some((error) => error.includes("Input stack is required, but not provided while calling.")), missingInput.join("\n"));
        const badExpression = await workflowErrors("expression.yml", deploy.replace("if: github.ref == 'refs/heads/main'", "if: github.ref == "));
        assert.ok(badExpression.length > 0, "a broken expression is an error");
    });

    it("grant id-token: write to every job that reaches Azure and to no other, and pull-requests: write only to the job that posts the diff", () => {
        const reaching: string[] = [];
        for (const workflow of workflows.values()) {
            const workflowPermissions = mapping(workflow.document.permissions, `${workflow.file} permissions`);
            assert.deepEqual(workflowPermissions, { contents: "read" }, `${workflow.file}: the workflow's default token only reads`);
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                const permissions = permissionsOf(workflow, job);
                if (touchesAzure(job, workflows)) {
                    reaching.push(`${workflow.file}:${id}`);
                    assert.equal(permissions["id-token"], "write", `${workflow.file} job ${id} logs in with OIDC`);
                } else {
                    assert.notEqual(permissions["id-token"], "write", `${workflow.file} job ${id} does not reach Azure and gets no OIDC token`);
                }
                for (const [scope, level] of Object.entries(permissions)) {
                    const allowed = level === "read" || (scope === "id-token" && level === "write") || (scope === "pull-requests" && level === "write" && workflow.file === "pull-request.yml" && id === "comment");
                    assert.ok(allowed, `${workflow.file} job ${id}: ${scope}: ${String(level)}`);
                }
            }
        }
        assert.deepEqual(reaching.sort(), ["deploy.yml:dev", "deploy.yml:prod", "deploy.yml:staging", "pull-request.yml:preview", "pulumi-stack.yml:deploy"]);
        const comment = jobsOf(workflows.get("pull-request.yml") as Workflow).comment;
        assert.deepEqual(comment.permissions, { "pull-requests": "write" });
        assert.deepEqual(actionsOf(comment), [], "the job with a write token checks out nothing and runs no code of the pull request");
        assert.doesNotMatch(scriptOf(comment), /\bnpm\b|\bnpx\b|pipelines\//, "nor a script of the pull request");
    });

    it("reference no secret at all, and nothing shaped like a password, client secret, storage key or passphrase", () => {
        assert.deepEqual(referencedSecrets("a: ${{ secrets.AZURE_CLIENT_SECRET }} b: ${{ secrets['DB_PASSWORD'] }}"), ["AZURE_CLIENT_SECRET", "DB_PASSWORD"], "the scan finds secrets");
        for (const workflow of workflows.values()) {
            assert.deepEqual(referencedSecrets(workflow.text), [], workflow.file);
            for (const pattern of SECRET_SHAPED) {
                assert.doesNotMatch(workflow.text, pattern, workflow.file);
            }
        }
    });

    it("log in with OIDC only, through credentials that refresh themselves for the job's whole timeout", () => {
        const azureJobs: string[] = [];
        for (const workflow of workflows.values()) {
            for (const pattern of SHORT_LIVED) {
                assert.doesNotMatch(workflow.text, pattern, `${workflow.file}: a credential that expires mid-deploy`);
            }
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                if (job.steps === undefined || !touchesAzure(job, workflows)) {
                    continue;
                }
                azureJobs.push(`${workflow.file}:${id}`);
                const environment = mapping(job.env, `${workflow.file} ${id} env`);
                const clientId = String(environment.ARM_CLIENT_ID);
                assert.match(clientId, /^\$\{\{ vars\.[A-Z_]*AZURE_CLIENT_ID \}\}$/, `${workflow.file} ${id}`);
                assert.equal(environment.ARM_USE_OIDC, "true", "azure-native and azuread use the job's OIDC endpoint");
                assert.equal(environment.ARM_TENANT_ID, "${{ vars.AZURE_TENANT_ID }}");
                assert.equal(environment.ARM_SUBSCRIPTION_ID, "${{ vars.AZURE_SUBSCRIPTION_ID }}");
                // kubelogin: the login method comes from the environment, not from the kubeconfig in the state.
                assert.equal(environment.AAD_LOGIN_METHOD, "workloadidentity");
                assert.equal(environment.AZURE_CLIENT_ID, clientId, "kubelogin logs in as the providers do");
                assert.equal(environment.AZURE_TENANT_ID, environment.ARM_TENANT_ID);
                assert.match(String(environment.PULUMI_BACKEND_URL), /^\$\{\{ vars\.[A-Z_]*PULUMI_BACKEND_URL \}\}$/);
                assert.equal(environment.AZURE_STORAGE_ACCOUNT, "${{ vars.AZURE_STORAGE_ACCOUNT }}");
                const steps = stepsOf(job);
                const kubelogin = steps.findIndex((s) => typeof s.uses === "string" && s.uses.startsWith("azure/use-kubelogin@"));
                const firstPulumi = steps.findIndex((s) => typeof s.run === "string" && pulumiCommands(s.run).length > 0);
                assert.ok(kubelogin >= 0 && firstPulumi > kubelogin, `${workflow.file} ${id} installs kubelogin before Pulumi runs`);
                const lines = pulumiCommandLines(scriptOf(job));
                assert.ok(lines.length > 0, `${workflow.file} ${id} runs Pulumi`);
                for (const line of lines) {
                    // The state backend and the secrets provider read AZURE_FEDERATED_TOKEN_FILE, which the wrapper keeps fresh.
                    assert.ok(line.startsWith(`${TOKEN_WRAPPER} -- pulumi `), `${workflow.file} ${id}: ${line}`);
                    // `--config` would write the runner's login mode into the stack's state (issue 11, defect 7).
                    assert.doesNotMatch(line, /--config\b/, `${workflow.file} ${id}: ${line}`);
                }
            }
        }
        assert.deepEqual(azureJobs.sort(), ["pull-request.yml:preview", "pulumi-stack.yml:deploy"]);
    });

    it("read only the variables the bootstrap prints, and the two an operator sets, and use every one of them", () => {
        const expected = [...new Set([...REPOSITORY_VARIABLES, ...ENVIRONMENT_VARIABLES, ...OPERATOR_VARIABLES])].sort();
        const used = referencedVariables([...workflows.values()].map((workflow) => workflow.text).join("\n"));
        assert.deepEqual(used, expected);
    });

    it("deploy on push to main: dev, then staging, then prod, each in its GitHub environment, after the tests", () => {
        const deploy = workflows.get("deploy.yml") as Workflow;
        const on = mapping(deploy.document.on, "deploy.yml on");
        assert.deepEqual(Object.keys(on).sort(), ["push", "workflow_dispatch"]);
        assert.deepEqual(mapping(on.push, "push").branches, ["main"]);

        const jobs = jobsOf(deploy);
        const environmentJobs = Object.entries(jobs).filter(([, job]) => job.uses === "./.github/workflows/pulumi-stack.yml");
        // Walk the `needs` chain from the job that only needs the tests.
        const ordered: string[] = [];
        let previous = "test";
        for (;;) {
            const next = environmentJobs.filter(([, job]) => JSON.stringify(job.needs) === JSON.stringify(previous));
            assert.ok(next.length <= 1, `one job follows ${previous}`);
            if (next.length === 0) {
                break;
            }
            const [id, job] = next[0];
            const inputs = mapping(job.with, `${id} with`);
            assert.equal(inputs.environment, id, `job ${id} deploys environment ${id}`);
            assert.equal(inputs.stack, id, `environment ${id} deploys stack ${id}`);
            assert.equal(job.if, "github.ref == 'refs/heads/main'");
            ordered.push(id);
            previous = id;
        }
        assert.deepEqual(ordered, promotionOrder(), "the bootstrap's promotion order");
        assert.equal(ordered.length, environmentJobs.length, "every environment job is in the chain");
        assert.deepEqual(mapping(jobs.test, "test").steps, mapping(jobsOf(workflows.get("pull-request.yml") as Workflow).test, "test").steps);
        assert.deepEqual(scriptOf(jobs.test).split("\n"), ["npm ci --no-audit --no-fund", "npm test"]);
        for (const environment of ordered) {
            assert.ok(committedStacks().includes(environment), `Pulumi.${environment}.yaml exists`);
        }
    });

    it("deploy one stack per job: in the caller's GitHub environment, one run per stack, preview then pulumi up --refresh", () => {
        const stack = workflows.get("pulumi-stack.yml") as Workflow;
        const call = mapping(mapping(stack.document.on, "on").workflow_call, "workflow_call");
        const inputs = mapping(call.inputs, "inputs");
        assert.deepEqual(Object.keys(inputs).sort(), ["environment", "stack"]);
        for (const input of Object.values(inputs)) {
            assert.equal(mapping(input, "input").required, true);
        }
        const [job, ...others] = Object.values(jobsOf(stack));
        assert.equal(others.length, 0);
        assert.equal(job.environment, "${{ inputs.environment }}", "the OIDC subject is repo:<owner>/<repo>:environment:<environment>");
        assert.deepEqual(job.concurrency, { group: "pulumi-stack-${{ inputs.stack }}", "cancel-in-progress": false });
        assert.equal(mapping(job.env, "env").STACK, "${{ inputs.stack }}");
        assert.equal(job["timeout-minutes"], 120);

        const commands = pulumiCommands(scriptOf(job));
        assert.equal(commands.length, 2);
        assert.match(commands[0], /^pulumi preview --stack "\$STACK" .*--refresh/);
        assert.match(commands[1], /^pulumi up --stack "\$STACK" --refresh --yes /);
        assert.ok(scriptOf(job).split("$GITHUB_STEP_SUMMARY").length - 1 >= 2, "preview and update go to the job summary");

        const deploy = workflows.get("deploy.yml") as Workflow;
        assert.deepEqual(deploy.document.concurrency, { group: "deploy-${{ github.ref }}", "cancel-in-progress": false }, "a running promotion is never cancelled");
    });

    it("on pull requests: the tests, the plan and permission check of every committed stack, the diff, its comment, and a read-only preview without an environment", () => {
        const pullRequest = workflows.get("pull-request.yml") as Workflow;
        const on = mapping(pullRequest.document.on, "on");
        assert.deepEqual(Object.keys(on), ["pull_request"]);
        assert.deepEqual(mapping(on.pull_request, "pull_request").types, ["opened", "synchronize", "reopened", "labeled", "unlabeled"], "adding the allow-replace label re-runs the diff");
        const jobs = jobsOf(pullRequest);
        assert.deepEqual(Object.keys(jobs), ["test", "plan", "diff", "comment", "preview"]);
        for (const [id, job] of Object.entries(jobs)) {
            assert.equal(job.environment, undefined, `${id}: without an environment the token's subject is :pull_request`);
        }
        const matrix = mapping(mapping(jobs.plan.strategy, "strategy").matrix, "matrix");
        assert.deepEqual([...sequence(matrix.stack, "stacks")].map(String).sort(), committedStacks());
        const plan = String(stepNamed(jobs.plan, "Plan").run);
        assert.match(plan, /args=\(--stack "\$STACK" --permissions --format markdown --out plan\.md\)/);
        assert.match(plan, /npm run --silent plan -- "\$\{args\[@\]\}"/);
        assert.match(scriptOf(jobs.plan), /cat plan\.md >> "\$GITHUB_STEP_SUMMARY"/);

        const preview = jobs.preview;
        assert.equal(mapping(preview.env, "env").ARM_CLIENT_ID, "${{ vars.PULL_REQUEST_AZURE_CLIENT_ID }}");
        assert.equal(mapping(preview.env, "env").STACK, "${{ vars.PULL_REQUEST_STACK }}");
        assert.equal(preview.if, "github.event.pull_request.head.repo.full_name == github.repository", "forks get no OIDC token");
        const script = scriptOf(preview);
        assert.deepEqual(
            pulumiCommands(script).map((command) => command.split(" ").slice(0, 2).join(" ")),
            ["pulumi preview"],
        );
        assert.doesNotMatch(script, /pulumi (up|refresh|destroy|import|cancel|state|stack (rm|import))\b/, "read-only");
        assert.match(script, /\$GITHUB_STEP_SUMMARY/);
    });

    it("pin every third-party action to a full commit SHA with its release tag in a comment, the same SHA everywhere", () => {
        // The check refuses what it should.
        assert.equal(pinProblem({ action: "actions/checkout", ref: "v5", comment: "" }), "actions/checkout@v5 is not a full commit SHA");
        assert.equal(pinProblem({ action: "actions/checkout", ref: "3d3c42e", comment: " # v7.0.1" }), "actions/checkout@3d3c42e is not a full commit SHA");
        assert.equal(
            pinProblem({ action: "actions/checkout", ref: "3d3c42e5aac5ba805825da76410c181273ba90b1", comment: "" }),
            'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 says no release tag in a comment ("# vX.Y.Z")',
        );
        const seen = new Set<string>();
        for (const workflow of workflows.values()) {
            for (const reference of actionReferences(workflow.text)) {
                assert.equal(pinProblem(reference), undefined, `${workflow.file}: ${reference.line}`);
                const pinned = PINNED_ACTIONS[reference.action];
                assert.ok(pinned, `${workflow.file}: ${reference.action} is in the table of looked-up SHAs`);
                assert.equal(reference.ref, pinned.sha, `${workflow.file}: ${reference.line}`);
                assert.equal(reference.comment.trim(), `# ${pinned.tag}`, `${workflow.file}: ${reference.line}`);
                seen.add(reference.action);
            }
        }
        assert.deepEqual([...seen].sort(), Object.keys(PINNED_ACTIONS).sort(), "every looked-up action is used");
    });

    it("set up Node.js from .nvmrc (24) in every job that runs npm", () => {
        assert.equal(read(path.join(PROJECT_ROOT, ".nvmrc")).trim(), "24");
        let setups = 0;
        for (const workflow of workflows.values()) {
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                const steps = stepsOf(job);
                const runsNpm = steps.some((step) => typeof step.run === "string" && /\bnpm\b|\bnpx\b|stack-diff\.sh/.test(step.run));
                const setup = steps.filter((step) => typeof step.uses === "string" && step.uses.startsWith("actions/setup-node@"));
                assert.equal(setup.length, runsNpm ? 1 : 0, `${workflow.file} ${id}`);
                for (const step of setup) {
                    setups++;
                    const inputs = mapping(step.with, `${workflow.file} ${id} setup-node inputs`);
                    assert.equal(inputs["node-version-file"], ".nvmrc", `${workflow.file} ${id}`);
                    assert.equal(inputs["node-version"], undefined, `${workflow.file} ${id}: one source of the version`);
                }
            }
        }
        assert.equal(setups, 6, "test, plan, diff and preview of the pull request, the deploy test, the per-stack deploy");
    });

    it("install the Pulumi CLI of .pulumi-version in every job that runs Pulumi", () => {
        const version = read(path.join(PROJECT_ROOT, ".pulumi-version"));
        assert.match(version, /^3\.\d+\.\d+\n$/, "one 3.x version and a newline");
        for (const workflow of workflows.values()) {
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                const installs = stepsOf(job).filter((step) => typeof step.uses === "string" && step.uses.startsWith("pulumi/actions@"));
                assert.equal(installs.length, pulumiCommands(scriptOf(job)).length > 0 ? 1 : 0, `${workflow.file} ${id}`);
                for (const step of installs) {
                    assert.deepEqual(step.with, { "pulumi-version-file": ".pulumi-version" }, `${workflow.file} ${id}: no command, no second version`);
                }
            }
        }
    });

    it(`install kubelogin ${KUBELOGIN_VERSION} with azure/use-kubelogin`, () => {
        let installs = 0;
        for (const workflow of workflows.values()) {
            for (const job of Object.values(jobsOf(workflow))) {
                for (const step of stepsOf(job).filter((s) => typeof s.uses === "string" && s.uses.startsWith("azure/use-kubelogin@"))) {
                    installs++;
                    assert.deepEqual(step.with, { "kubelogin-version": KUBELOGIN_VERSION });
                }
            }
        }
        assert.equal(installs, 2);
    });

    it("run the policy pack in every preview and up", () => {
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policy", "PulumiPolicy.yaml")), "policy/ is a policy pack");
        let commands = 0;
        for (const workflow of workflows.values()) {
            for (const command of pulumiCommands(workflow.text)) {
                commands++;
                assert.match(command, / --policy-pack policy( |$)/, `${workflow.file}: ${command}`);
            }
        }
        assert.equal(commands, 3, "the pull-request preview, the deployment's preview and up");
    });

    it("fail the plan step on the plan's exit codes 3, 4 and 5 (and any other failure), and pass on 0", () => {
        const plan = String(stepNamed(jobsOf(workflows.get("pull-request.yml") as Workflow).plan, "Plan").run);
        assert.equal(stepNamed(jobsOf(workflows.get("pull-request.yml") as Workflow).plan, "Plan")["continue-on-error"], undefined);
        for (const status of [0, 1, 3, 4, 5]) {
            const result = runBash(plan, { env: { STACK: "dev", BOOTSTRAP_CONFIG: "", FAKE_STATUS: String(status) }, fakes: { npm: 'echo "npm $*" >&2; exit "$FAKE_STATUS"' } });
            assert.equal(result.status, status, `plan exit ${status}: ${result.stdout}${result.stderr}`);
            assert.match(result.stderr, /^npm run --silent plan -- --stack dev --permissions --format markdown --out plan\.md$/m);
        }
        const withBootstrap = runBash(plan, { env: { STACK: "prod", BOOTSTRAP_CONFIG: "bootstrap/Pulumi.contoso.yaml", FAKE_STATUS: "5" }, fakes: { npm: 'echo "npm $*" >&2; exit "$FAKE_STATUS"' } });
        assert.equal(withBootstrap.status, 5);
        assert.match(withBootstrap.stderr, /--out plan\.md --bootstrap-config bootstrap\/Pulumi\.contoso\.yaml$/m);
        assert.match(withBootstrap.stdout, /^::error::prod: the pipeline identity lacks a permission this stack needs \(plan exit 5\): re-run the bootstrap before merging\.$/m);
    });

    it("never run a pull-request job on the deploy runner, and say so", () => {
        const deployRunsOn = new Set<string>();
        for (const workflow of workflows.values()) {
            const triggers = Object.keys(mapping(workflow.document.on, `${workflow.file} on`));
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                if (!triggers.includes("pull_request") && job.steps !== undefined && touchesAzure(job, workflows)) {
                    deployRunsOn.add(String(job["runs-on"]));
                    assert.equal(job["runs-on"], DEPLOY_RUNS_ON, `${workflow.file} ${id} runs where the API servers are reachable`);
                }
            }
        }
        assert.deepEqual([...deployRunsOn], [DEPLOY_RUNS_ON]);
        const pullRequest = workflows.get("pull-request.yml") as Workflow;
        assert.ok(Object.keys(mapping(pullRequest.document.on, "on")).includes("pull_request"), "pull-request.yml runs on pull_request");
        for (const [id, job] of Object.entries(jobsOf(pullRequest))) {
            const runsOn = JSON.stringify(job["runs-on"]);
            assert.ok(!deployRunsOn.has(String(job["runs-on"])), `${id} does not share the deploy jobs' runs-on`);
            assert.doesNotMatch(runsOn, /DEPLOY_RUNS_ON|self-hosted/, `${id}: ${runsOn}`);
            assert.ok(job["runs-on"] === "ubuntu-latest" || job["runs-on"] === PR_RUNS_ON, `${id}: ${runsOn}`);
        }
        assert.equal(jobsOf(pullRequest).preview["runs-on"], PR_RUNS_ON);
        assert.match(pullRequest.text, /^# Runners: no job here ever runs on the deploy runner \(vars\.DEPLOY_RUNS_ON\)\./m);

        // At run time too, for a misconfiguration: the preview refuses a PR_RUNS_ON that is the deploy runner.
        const guard = stepsOf(jobsOf(pullRequest).preview)[0];
        assert.equal(guard.name, "Refuse the deploy runner");
        assert.deepEqual(guard.env, { PR_RUNS_ON: "${{ vars.PR_RUNS_ON }}", DEPLOY_RUNS_ON: "${{ vars.DEPLOY_RUNS_ON }}" });
        const cases: [string, string, number][] = [
            ['["self-hosted","aks-deploy"]', '["self-hosted","aks-deploy"]', 1],
            ['["self-hosted","aks-pr"]', '["self-hosted","aks-deploy"]', 0],
            ["", '["self-hosted","aks-deploy"]', 0],
            ["", "", 0],
        ];
        for (const [pr, deploy, status] of cases) {
            const result = runBash(String(guard.run), { env: { PR_RUNS_ON: pr, DEPLOY_RUNS_ON: deploy } });
            assert.equal(result.status, status, `PR_RUNS_ON=${pr} DEPLOY_RUNS_ON=${deploy}`);
        }
    });

    it("diff every changed stack file against the target branch and post it as one pull-request comment", () => {
        const jobs = jobsOf(workflows.get("pull-request.yml") as Workflow);
        const diff = jobs.diff;
        const checkout = stepsOf(diff).find((step) => String(step.uses).startsWith("actions/checkout@"));
        assert.deepEqual(mapping(checkout, "checkout").with, { "fetch-depth": 0, "persist-credentials": false }, "origin/<target> exists for --base");
        assert.deepEqual(diff.env, { BASE_REF: "${{ github.base_ref }}", ALLOW_REPLACE: "${{ contains(github.event.pull_request.labels.*.name, 'allow-replace') }}" });
        const step = stepNamed(diff, "Diff every changed stack file against the target branch");
        assert.match(String(step.run), /pipelines\/stack-diff\.sh "origin\/\$BASE_REF" stack-diff\.md \|\| status=\$\?/);
        assert.match(String(step.run).trimEnd(), /\nexit "\$status"$/);
        assert.deepEqual(diff.outputs, { markdown: "${{ steps.diff.outputs.markdown }}" });

        const comment = jobs.comment;
        assert.equal(comment.needs, "diff");
        assert.equal(comment.if, "always() && needs.diff.outputs.markdown != '' && github.event.pull_request.head.repo.full_name == github.repository");
        const post = stepsOf(comment)[0];
        assert.equal(mapping(post.env, "env").BODY, "${{ needs.diff.outputs.markdown }}");
        assert.match(String(post.run), /gh api --method PATCH "repos\/\$REPOSITORY\/issues\/comments\/\$id" -f body="\$BODY"/);
        assert.match(String(post.run), /gh api --method POST "repos\/\$REPOSITORY\/issues\/\$NUMBER\/comments" -f body="\$BODY"/);
        assert.ok(String(post.run).includes("<!-- aks-workload-identity:stack-diff -->"), "finds its own comment by the marker stack-diff.sh writes");
        assert.ok(read(STACK_DIFF).includes("marker='<!-- aks-workload-identity:stack-diff -->'"), "stack-diff.sh writes the marker the comment step looks for");
    });
});

describe("No pipeline", () => {
    it("pipes a download into a shell", () => {
        assert.match("curl -fsSL https://get.pulumi.com | sh", PIPE_TO_SHELL, "the check finds the old installer");
        assert.match("wget -qO- https://example.test/install | sudo bash", PIPE_TO_SHELL);
        for (const { file, text } of pipelineTexts()) {
            assert.doesNotMatch(text, PIPE_TO_SHELL, file);
        }
    });
});

describe("Dependabot", () => {
    const file = path.join(PROJECT_ROOT, ".github", "dependabot.yml");

    it("keeps the GitHub Actions (their pinned SHAs) and the npm dependencies current", () => {
        const config = mapping(parse(read(file)), "dependabot.yml");
        assert.equal(config.version, 2);
        const updates = sequence(config.updates, "updates").map((update) => mapping(update, "update"));
        assert.deepEqual(
            updates.map((update) => [update["package-ecosystem"], update.directory, mapping(update.schedule, "schedule").interval]),
            [
                ["github-actions", "/", "weekly"],
                ["npm", "/", "weekly"],
            ],
        );
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "package.json")) && fs.existsSync(path.join(PROJECT_ROOT, ".github", "workflows")), "the directories dependabot watches exist");
    });

    it("cites no file that does not exist", () => {
        const cited = (text: string): string[] => [...text.matchAll(/(?:^|[\s(`"'])((?:\.{0,2}\/)?[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*\.(?:md|ya?ml|json|ts|sh))\b/g)].map((match) => match[1]);
        assert.deepEqual(cited("# the compiler API Pulumi needs (STYLE.md); see docs/team-setup.md"), ["STYLE.md", "docs/team-setup.md"], "the scan finds cited files");
        const missing = cited(read(file)).filter((name) => !fs.existsSync(path.join(PROJECT_ROOT, name)));
        assert.deepEqual(missing, []);
    });
});

describe("Azure DevOps pipeline", () => {
    let pipeline: Mapping;
    let steps: Mapping;
    let text: string;
    let stages: Mapping[];
    let validateJobs: Record<string, Mapping>;

    before(() => {
        text = [AZURE_DEVOPS, AZURE_DEVOPS_STEPS, AZURE_DEVOPS_NODE, AZURE_DEVOPS_PULUMI].map(read).join("\n");
        pipeline = mapping(parse(read(AZURE_DEVOPS)), "azure-devops.yml");
        steps = mapping(parse(read(AZURE_DEVOPS_STEPS)), "pulumi-steps.yml");
        stages = sequence(pipeline.stages, "stages").map((stage) => mapping(stage, "stage"));
        validateJobs = Object.fromEntries(sequence(stages[0].jobs, "jobs").map((job) => [String(mapping(job, "job").job), mapping(job, "job")]));
    });

    /** The steps of the template file, with the `${{ if }}` blocks opened. */
    function templateSteps(document: Mapping): Mapping[] {
        return sequence(document.steps, "steps").flatMap((step) => {
            const entry = mapping(step, "step");
            const conditional = Object.entries(entry).find(([key]) => key.startsWith("${{ if"));
            return conditional === undefined ? [entry] : sequence(conditional[1], "conditional steps").map((inner) => mapping(inner, "step"));
        });
    }

    it("runs the same stages: pull-request checks, then the tests, then dev, staging and prod in promotion order on main", () => {
        assert.deepEqual(
            stages.map((stage) => stage.stage),
            ["validate", "test", ...promotionOrder()],
        );
        assert.equal(stages[0].condition, "eq(variables['Build.Reason'], 'PullRequest')");
        assert.deepEqual(Object.keys(validateJobs), ["test", "plan", "diff", "comment", "preview"]);
        assert.deepEqual(Object.keys(mapping(mapping(validateJobs.plan.strategy, "strategy").matrix, "matrix")).sort(), committedStacks());
        const previewSteps = sequence(validateJobs.preview.steps, "steps").map((step) => mapping(step, "step"));
        assert.deepEqual(previewSteps[previewSteps.length - 1], {
            template: "templates/pulumi-steps.yml",
            parameters: { serviceConnection: "aks-workload-identity-pull-request", stack: "dev", backendUrl: "azblob://state-dev" },
        });

        promotionOrder().forEach((environment, index) => {
            const stage = stages[index + 2];
            assert.deepEqual(stage.dependsOn, index === 0 ? "test" : promotionOrder()[index - 1], environment);
            assert.match(String(stage.condition), /eq\(variables\['Build\.SourceBranch'\], 'refs\/heads\/main'\)/, environment);
            const [job, ...others] = sequence(stage.jobs, "jobs").map((j) => mapping(j, "job"));
            assert.equal(others.length, 0);
            assert.equal(job.deployment, "pulumi");
            assert.equal(job.environment, environment, "an Azure DevOps environment: approvals and the exclusive lock");
            assert.equal(job.timeoutInMinutes, 120);
            const deploySteps = sequence(mapping(mapping(mapping(job.strategy, "strategy").runOnce, "runOnce").deploy, "deploy").steps, "steps");
            assert.deepEqual(deploySteps, [
                { checkout: "self" },
                {
                    template: "templates/pulumi-steps.yml",
                    parameters: { serviceConnection: `aks-workload-identity-${environment}`, stack: environment, backendUrl: `azblob://state-${environment}`, update: true },
                },
            ]);
        });
        assert.equal(pipeline.lockBehavior, "sequential");
    });

    it("runs the tests on main before dev, as GitHub's deploy workflow does", () => {
        const test = stages[1];
        assert.equal(test.stage, "test");
        assert.deepEqual(test.dependsOn, []);
        assert.equal(test.condition, "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'), ne(variables['Build.Reason'], 'PullRequest'))");
        const [job] = sequence(test.jobs, "jobs").map((j) => mapping(j, "job"));
        assert.deepEqual(job.steps, [{ template: "templates/node.yml" }, { script: "npm test", displayName: "npm test" }]);
        assert.deepEqual(job.steps, validateJobs.test.steps, "the same tests as on a pull request");
        assert.equal(stages[2].dependsOn, "test", "dev waits for them");
        assert.equal(stages[2].condition, "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'), ne(variables['Build.Reason'], 'PullRequest'))");
    });

    it("uses Node.js 24 (the major in .nvmrc) and npm ci in every job that runs npm", () => {
        const node = mapping(parse(read(AZURE_DEVOPS_NODE)), "node.yml");
        assert.deepEqual(node.steps, [
            { task: "UseNode@1", displayName: "Node.js 24", inputs: { version: `${read(path.join(PROJECT_ROOT, ".nvmrc")).trim()}.x` } },
            { script: "npm ci --no-audit --no-fund", displayName: "npm ci" },
        ]);
        assert.doesNotMatch(text, /NodeTool@0|versionSpec|20\.x/);
        for (const [id, job] of Object.entries(validateJobs)) {
            const jobSteps = JSON.stringify(job.steps);
            const usesNode = jobSteps.includes('"template":"templates/node.yml"') || jobSteps.includes('"template":"templates/pulumi-steps.yml"');
            assert.equal(usesNode, id !== "comment", `${id}`);
        }
        assert.deepEqual(templateSteps(steps)[0], { template: "node.yml" });
    });

    it("installs the Pulumi CLI of .pulumi-version from the release tarball, checked against the release's SHA-256 sums, and kubelogin " + KUBELOGIN_VERSION, () => {
        const install = templateSteps(steps).find((step) => step.displayName === "Pulumi CLI (.pulumi-version)");
        const script = String(mapping(install, "install step").bash);
        assert.match(script, /version="\$\(tr -d '\[:space:\]' < \.pulumi-version\)"/);
        assert.match(script, /archive="pulumi-v\$\{version\}-linux-x64\.tar\.gz"/);
        assert.match(script, /curl -fsSL --retry 3 -o "\$download\/\$archive" "https:\/\/get\.pulumi\.com\/releases\/sdk\/\$archive"/);
        assert.match(script, /https:\/\/github\.com\/pulumi\/pulumi\/releases\/download\/v\$\{version\}\/pulumi-\$\{version\}-checksums\.txt/);
        assert.match(script, /sha256sum --check --strict -/);
        assert.match(script, /if \[ "\$installed" != "v\$version" \]/);
        assert.doesNotMatch(text, PIPE_TO_SHELL);
        const kubelogin = templateSteps(steps).find((step) => step.task === "KubeloginInstaller@0");
        assert.deepEqual(mapping(kubelogin, "kubelogin").inputs, { kubeloginVersion: KUBELOGIN_VERSION });
    });

    it("logs in only through workload identity federation service connections, with credentials that refresh themselves, and references no secret", () => {
        const tasks = templateSteps(steps).filter((step) => step.task === "AzureCLI@2");
        assert.equal(tasks.length, 2, "preview, and up when update is true");
        tasks.forEach((task, index) => {
            const inputs = mapping(task.inputs, "AzureCLI@2 inputs");
            assert.equal(inputs.azureSubscription, "${{ parameters.serviceConnection }}");
            assert.equal(inputs.addSpnToEnvironment, true);
            assert.equal(inputs.scriptLocation, "scriptPath");
            assert.equal(inputs.scriptPath, "pipelines/templates/pulumi.sh");
            assert.equal(inputs.arguments, ["preview", "up"][index]);
            const env = mapping(task.env, "env");
            assert.equal(env.PULUMI_BACKEND_URL, "${{ parameters.backendUrl }}");
            assert.equal(env.SYSTEM_ACCESSTOKEN, "$(System.AccessToken)", "for the job's OIDC endpoint");
        });
        for (const pattern of SHORT_LIVED) {
            assert.doesNotMatch(text, pattern, "a credential that expires mid-deploy");
        }
        assert.deepEqual(referencedSecrets(text), []);
        for (const pattern of SECRET_SHAPED) {
            assert.doesNotMatch(text, pattern);
        }
    });

    it("runs preview and up through the token bridge with the policy pack, kubelogin's mode from the environment and no Azure CLI profile", () => {
        const fakes = {
            az: 'echo 00000000-0000-0000-0000-0000000000aa',
            npx: [
                'echo "npx $*" >> "$LOG"',
                'for name in ARM_USE_OIDC ARM_CLIENT_ID ARM_TENANT_ID ARM_SUBSCRIPTION_ID AAD_LOGIN_METHOD AZURE_CLIENT_ID AZURE_TENANT_ID; do echo "$name=${!name}" >> "$LOG"; done',
                'echo "profile=$(ls -A "$AZURE_CONFIG_DIR" | wc -l)" >> "$LOG"',
                'echo "preview output"',
                'exit "$FAKE_STATUS"',
            ].join("\n"),
        };
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-sh-"));
        const env = {
            LOG: path.join(temp, "log"),
            STACK: "staging",
            PULUMI_BACKEND_URL: "azblob://state-staging",
            AZURE_STORAGE_ACCOUNT: "stateaccount",
            servicePrincipalId: "11111111-2222-3333-4444-555555555555",
            tenantId: "66666666-7777-8888-9999-000000000000",
            SUMMARY_DIRECTORY: temp,
        };
        const preview = runBash(`bash ${AZURE_DEVOPS_PULUMI} preview`, { env: { ...env, REFRESH: "True", FAKE_STATUS: "4" }, fakes });
        assert.equal(preview.status, 4, "a mandatory policy fails the preview");
        assert.match(preview.stdout, /^##vso\[task\.uploadsummary\].*\/preview-staging\.md$/m);
        const up = runBash(`bash ${AZURE_DEVOPS_PULUMI} up`, { env: { ...env, FAKE_STATUS: "0" }, fakes });
        assert.equal(up.status, 0, up.stderr);
        const log = read(env.LOG).split("\n");
        const expectedEnv = [
            "ARM_USE_OIDC=true",
            `ARM_CLIENT_ID=${env.servicePrincipalId}`,
            `ARM_TENANT_ID=${env.tenantId}`,
            "ARM_SUBSCRIPTION_ID=00000000-0000-0000-0000-0000000000aa",
            "AAD_LOGIN_METHOD=workloadidentity",
            `AZURE_CLIENT_ID=${env.servicePrincipalId}`,
            `AZURE_TENANT_ID=${env.tenantId}`,
            "profile=0",
        ];
        assert.deepEqual(log, [
            "npx --no-install tsx pipelines/federated-token.ts --serve -- pulumi preview --stack staging --diff --refresh --non-interactive --policy-pack policy",
            ...expectedEnv,
            "npx --no-install tsx pipelines/federated-token.ts --serve -- pulumi up --stack staging --refresh --yes --skip-preview --non-interactive --policy-pack policy",
            ...expectedEnv,
            "",
        ]);
        assert.equal(runBash(`bash ${AZURE_DEVOPS_PULUMI} destroy`, { env, fakes }).status, 2);
        fs.rmSync(temp, { recursive: true, force: true });
    });

    it("fails the plan job on the plan's exit codes 3, 4 and 5, and passes on 0", () => {
        const planStep = sequence(validateJobs.plan.steps, "steps").map((step) => mapping(step, "step")).find((step) => step.displayName === "Plan $(STACK)");
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "ado-plan-"));
        const script = String(mapping(planStep, "plan step").bash).replaceAll("$(Agent.TempDirectory)", temp);
        for (const status of [0, 3, 4, 5]) {
            const result = runBash(script, { env: { STACK: "dev", FAKE_STATUS: String(status) }, fakes: { npm: 'echo "npm $*" >&2; exit "$FAKE_STATUS"' } });
            assert.equal(result.status, status, `plan exit ${status}`);
            assert.ok(result.stderr.includes(`npm run --silent plan -- --stack dev --permissions --format markdown --out ${temp}/plan-dev.md`), result.stderr);
        }
        fs.rmSync(temp, { recursive: true, force: true });
    });

    it("never runs a pull-request job in the deploy pool", () => {
        const deployPool = "${{ parameters.deployPool }}";
        for (const [id, job] of Object.entries(validateJobs)) {
            assert.notDeepEqual(job.pool, deployPool, id);
            assert.ok(!JSON.stringify(job).includes("parameters.deployPool }}"), `${id} does not use the deploy pool`);
        }
        assert.equal(validateJobs.preview.pool, "${{ parameters.pullRequestPool }}");
        for (const stage of stages.slice(2)) {
            for (const job of sequence(stage.jobs, "jobs").map((j) => mapping(j, "job"))) {
                assert.equal(job.pool, deployPool, String(stage.stage));
            }
        }
        const parameters = sequence(pipeline.parameters, "parameters").map((parameter) => mapping(parameter, "parameter"));
        assert.deepEqual(
            parameters.map((parameter) => [parameter.name, parameter.default]),
            [
                ["deployPool", { vmImage: "ubuntu-latest" }],
                ["pullRequestPool", { vmImage: "ubuntu-latest" }],
            ],
        );
        const guard = mapping(sequence(validateJobs.preview.steps, "steps")[0], "guard");
        assert.deepEqual(Object.keys(guard), ["${{ if and(eq(convertToJson(parameters.pullRequestPool), convertToJson(parameters.deployPool)), not(contains(convertToJson(parameters.deployPool), 'vmImage'))) }}"]);
        assert.match(read(AZURE_DEVOPS), /^# Agent pools: pull-request jobs never run in the deploy pool\./m);
    });

    it("posts the offline diff of every changed stack file as one pull-request thread, reading the job's token only before the pull request's code runs", () => {
        const diffSteps = sequence(validateJobs.diff.steps, "steps").map((step) => mapping(step, "step"));
        assert.deepEqual(diffSteps[0], { checkout: "self", fetchDepth: 0 });
        assert.deepEqual(diffSteps[1].env, { SYSTEM_ACCESSTOKEN: "$(System.AccessToken)" });
        assert.match(String(diffSteps[1].bash), /pullRequests\/\$\{SYSTEM_PULLREQUEST_PULLREQUESTID\}\/labels\?api-version=7\.1/);
        assert.match(String(diffSteps[1].bash), /##vso\[task\.setvariable variable=ALLOW_REPLACE\]\$allow/);
        assert.deepEqual(diffSteps[2], { template: "templates/node.yml" });
        assert.equal(diffSteps[3].name, "diff");
        assert.equal(diffSteps[3].env, undefined, "no token where the pull request's code runs");
        assert.match(String(diffSteps[3].bash), /pipelines\/stack-diff\.sh "origin\/\$target" "\$out" \|\| status=\$\?/);
        assert.match(String(diffSteps[3].bash), /target="\$\{SYSTEM_PULLREQUEST_TARGETBRANCH#refs\/heads\/\}"/);

        const comment = validateJobs.comment;
        assert.equal(comment.dependsOn, "diff");
        assert.equal(comment.condition, "and(succeededOrFailed(), ne(dependencies.diff.outputs['diff.markdown'], ''))");
        const commentSteps = sequence(comment.steps, "steps").map((step) => mapping(step, "step"));
        assert.deepEqual(commentSteps[0], { checkout: "none" });
        assert.match(String(commentSteps[1].bash), /pullRequests\/\$\{SYSTEM_PULLREQUEST_PULLREQUESTID\}\/threads/);
        assert.ok(String(commentSteps[1].bash).includes("marker='<!-- aks-workload-identity:stack-diff -->'"), "the Azure Pipelines comment step finds its comment by the stack-diff marker");
    });
});

describe("pipelines/stack-diff.sh", () => {
    let repository: string;
    let planLog: string;
    const fakePlan = (directory: string): string => {
        const file = path.join(directory, "fake-plan.sh");
        fs.writeFileSync(
            file,
            `#!/usr/bin/env bash\necho "$*" >> "${path.join(directory, "plan.log")}"\nstack="$2"\necho "diff of $stack"\nstatus_var="STATUS_$stack"\nexit "\${!status_var:-0}"\n`,
            { mode: 0o755 },
        );
        return file;
    };
    const git = (...args: string[]): void => {
        const result = spawnSync("git", args, { cwd: repository, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test" } });
        assert.equal(result.status, 0, result.stderr);
    };

    before(() => {
        repository = fs.mkdtempSync(path.join(os.tmpdir(), "stack-diff-"));
        planLog = path.join(repository, "plan.log");
        git("init", "--quiet", "--initial-branch=main");
        for (const name of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]) {
            fs.writeFileSync(path.join(repository, name), `# ${name}\n`);
        }
        fs.mkdirSync(path.join(repository, "bootstrap"));
        fs.writeFileSync(path.join(repository, "bootstrap", "Pulumi.example.yaml"), "# bootstrap\n");
        git("add", ".");
        git("commit", "--quiet", "-m", "base");
        git("update-ref", "refs/remotes/origin/main", "HEAD");
        git("checkout", "--quiet", "-b", "change");
        fs.appendFileSync(path.join(repository, "Pulumi.dev.yaml"), "changed: true\n");
        fs.writeFileSync(path.join(repository, "Pulumi.qa.yaml"), "# new\n");
        fs.rmSync(path.join(repository, "Pulumi.staging.yaml"));
        fs.appendFileSync(path.join(repository, "Pulumi.yaml"), "# not a stack file\n");
        fs.appendFileSync(path.join(repository, "bootstrap", "Pulumi.example.yaml"), "# not the main program's\n");
        git("add", "-A");
        git("commit", "--quiet", "-m", "change");
    });

    after(() => {
        fs.rmSync(repository, { recursive: true, force: true });
    });

    const diff = (env: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string; markdown: string; calls: string[] } => {
        fs.rmSync(planLog, { force: true });
        const out = path.join(repository, "out.md");
        const result = runBash(`${STACK_DIFF} origin/main ${out}`, { cwd: repository, env: { STACK_DIFF_PLAN: fakePlan(repository), ...env } });
        return { ...result, markdown: read(out), calls: fs.existsSync(planLog) ? read(planLog).trim().split("\n") : [] };
    };

    it("plans each changed stack file against the base, a new one without --base, and skips deleted and other files", () => {
        const result = diff({});
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(result.calls, ["--stack dev --format markdown --base origin/main", "--stack qa --format markdown"]);
        assert.ok(result.markdown.startsWith("<!-- aks-workload-identity:stack-diff -->\n## Offline diff of the changed stacks against `origin/main`\n"), result.markdown);
        assert.match(result.markdown, /### `Pulumi\.dev\.yaml`\n\ndiff of dev\n/);
        assert.match(result.markdown, /### `Pulumi\.qa\.yaml`\n\nA new stack: not in `origin\/main`, so this is its whole plan\.\n\ndiff of qa\n/);
        assert.doesNotMatch(result.markdown, /staging|Pulumi\.yaml`|example/);
    });

    it("fails with exit 3 on a hazard unless allow-replace is set, which it passes on as --allow-replace", () => {
        const refused = diff({ STATUS_dev: "3" });
        assert.equal(refused.status, 3);
        assert.match(refused.markdown, /\*\*Refused \(exit 3\): .*add the label `allow-replace` to the pull request\.\*\*/);
        assert.match(refused.stderr, /^stack-diff: dev: a hazard without the label allow-replace \(exit 3\)$/m);
        assert.deepEqual(refused.calls.length, 2, "the other stacks are still planned");

        const allowed = diff({ ALLOW_REPLACE: "true" });
        assert.equal(allowed.status, 0);
        assert.deepEqual(allowed.calls, ["--stack dev --format markdown --base origin/main --allow-replace", "--stack qa --format markdown --allow-replace"]);
    });

    it("fails with the first failing plan's exit code, and cuts an oversized comment", () => {
        const failed = diff({ STATUS_dev: "5", STATUS_qa: "1" });
        assert.equal(failed.status, 5);
        assert.match(failed.markdown, /\*\*The plan failed \(exit 5\)\.\*\*/);
        assert.match(failed.markdown, /\*\*The plan failed \(exit 1\)\.\*\*/);
        const cut = diff({ STACK_DIFF_MAX_BYTES: "300" });
        assert.ok(Buffer.byteLength(cut.markdown) <= 300, `${Buffer.byteLength(cut.markdown)} bytes`);
        assert.match(cut.markdown, /_Cut at 300 bytes: the job's log and summary have the whole diff\._\n$/);
    });

    it("writes nothing when no stack file changed, and refuses a base the checkout lacks", () => {
        git("checkout", "--quiet", "main");
        try {
            const none = diff({});
            assert.equal(none.status, 0);
            assert.equal(none.markdown, "");
            assert.deepEqual(none.calls, []);
            const missing = runBash(`${STACK_DIFF} origin/release ${path.join(repository, "x.md")}`, { cwd: repository });
            assert.equal(missing.status, 2);
            assert.equal(missing.stderr, "stack-diff: origin/release is not in this checkout: check out with the full history (GitHub fetch-depth: 0, Azure Pipelines fetchDepth: 0).\n");
            assert.equal(runBash(`${STACK_DIFF} origin/main`, { cwd: repository }).status, 2);
        } finally {
            git("checkout", "--quiet", "change");
        }
    });
});

describe("pipelines/federated-token.ts", () => {
    /** A fake OIDC endpoint: every answer is a new token, and it records what it was asked. */
    async function fakeEndpoint(field: "value" | "oidcToken", status = 200): Promise<{ url: string; requests: { method: string; url: string; authorization: string }[]; close: () => Promise<void> }> {
        const requests: { method: string; url: string; authorization: string }[] = [];
        const server = http.createServer((request, response) => {
            requests.push({ method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization ?? "" });
            response.writeHead(status, { "Content-Type": "application/json" });
            response.end(status === 200 ? JSON.stringify({ [field]: `token-${requests.length}` }) : '{"message":"The service connection is not authorized."}');
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as AddressInfo;
        return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    }

    it("asks GitHub Actions for a token with the Entra ID audience, and Azure Pipelines with a POST for the service connection", () => {
        assert.deepEqual(tokenRequest({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.example.test/idtoken?api-version=2.0", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime" }), {
            source: "github-actions",
            url: "https://pipelines.example.test/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange",
            method: "GET",
            headers: { Authorization: "bearer runtime", Accept: "application/json" },
            field: "value",
        });
        assert.equal(AUDIENCE, "api://AzureADTokenExchange");
        assert.deepEqual(
            tokenRequest({ SYSTEM_OIDCREQUESTURI: "https://dev.azure.test/org/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken", SYSTEM_ACCESSTOKEN: "job", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "c0ffee00-0000-0000-0000-000000000001" }),
            {
                source: "azure-pipelines",
                url: "https://dev.azure.test/org/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken?api-version=7.1&serviceConnectionId=c0ffee00-0000-0000-0000-000000000001",
                method: "POST",
                headers: { Authorization: "Bearer job", "Content-Type": "application/json", Accept: "application/json" },
                field: "oidcToken",
            },
        );
        assert.throws(
            () => tokenRequest({ SYSTEM_OIDCREQUESTURI: "https://dev.azure.test/oidctoken" }),
            new TokenError(
                "Azure Pipelines: SYSTEM_ACCESSTOKEN and AZURESUBSCRIPTION_SERVICE_CONNECTION_ID are not set: run this inside an AzureCLI@2 task on a workload identity federation service connection, with env SYSTEM_ACCESSTOKEN: $(System.AccessToken).",
            ),
        );
        assert.throws(() => tokenRequest({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://x.test/" }), /^TokenError: No OIDC token endpoint in this job: on GitHub Actions grant the job `permissions: id-token: write`/);
    });

    it("hands the command the token file and no static token; with the bridge, none of the job's Azure Pipelines credentials", () => {
        const env = { PATH: "/bin", ARM_OIDC_TOKEN: "static", ARM_OIDC_TOKEN_FILE_PATH: "/static", SYSTEM_ACCESSTOKEN: "job", SYSTEM_OIDCREQUESTURI: "https://x.test", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "c", ARM_OIDC_REQUEST_URL: "https://x.test" };
        assert.deepEqual(commandEnvironment(env, "/tmp/t/token"), {
            PATH: "/bin",
            SYSTEM_ACCESSTOKEN: "job",
            SYSTEM_OIDCREQUESTURI: "https://x.test",
            AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "c",
            ARM_OIDC_REQUEST_URL: "https://x.test",
            AZURE_FEDERATED_TOKEN_FILE: "/tmp/t/token",
        });
        assert.deepEqual(commandEnvironment(env, "/tmp/t/token", { url: "http://127.0.0.1:1/token?source=federated-token", secret: "s" }), {
            PATH: "/bin",
            AZURE_FEDERATED_TOKEN_FILE: "/tmp/t/token",
            ACTIONS_ID_TOKEN_REQUEST_URL: "http://127.0.0.1:1/token?source=federated-token",
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: "s",
        });
    });

    it("reports an endpoint's refusal without a token in the message", async () => {
        const endpoint = await fakeEndpoint("value", 403);
        try {
            await assert.rejects(
                fetchToken({ source: "azure-pipelines", url: `${endpoint.url}/oidctoken`, method: "POST", headers: {}, field: "oidcToken" }),
                new TokenError('azure-pipelines OIDC endpoint answered HTTP 403: {"message":"The service connection is not authorized."}'),
            );
        } finally {
            await endpoint.close();
        }
    });

    it("serves fresh tokens GitHub-style on 127.0.0.1 to the holder of the secret only", async () => {
        let served = 0;
        const { bridge, close } = await startBridge("s3cret", () => Promise.resolve(`fresh-${++served}`));
        try {
            assert.match(bridge.url, /^http:\/\/127\.0\.0\.1:\d+\/token\?source=federated-token$/);
            const ask = async (authorization: string | undefined, url = `${bridge.url}&audience=api://AzureADTokenExchange`, method = "GET"): Promise<[number, unknown]> => {
                const response = await fetch(url, { method, headers: authorization === undefined ? {} : { Authorization: authorization } });
                return [response.status, await response.json()];
            };
            assert.deepEqual(await ask("bearer s3cret"), [200, { count: 1, value: "fresh-1" }]);
            assert.deepEqual(await ask("Bearer s3cret"), [200, { count: 1, value: "fresh-2" }], "kubelogin writes 'bearer', the providers 'Bearer'");
            assert.deepEqual(await ask("Bearer wrong!"), [401, { message: "unauthorized" }]);
            assert.deepEqual(await ask(undefined), [401, { message: "unauthorized" }]);
            assert.deepEqual(await ask("Bearer s3cret", bridge.url, "POST"), [405, { message: "only GET is served" }]);
            assert.deepEqual(await ask("Bearer s3cret", bridge.url.replace("/token", "/other")), [404, { message: "only /token is served" }]);
            assert.equal(served, 2);
        } finally {
            await close();
        }
    });

    it("keeps the token file fresh while the command runs, returns its exit code, and removes the file", async () => {
        const endpoint = await fakeEndpoint("value");
        const lines: string[] = [];
        try {
            const child = [
                "const fs = require('node:fs');",
                "const file = process.env.AZURE_FEDERATED_TOKEN_FILE;",
                "const first = fs.readFileSync(file, 'utf8');",
                "setTimeout(() => { console.error(JSON.stringify({ file, first, later: fs.readFileSync(file, 'utf8'), mode: (fs.statSync(file).mode & 0o777).toString(8) })); process.exit(7); }, 2300);",
            ].join("\n");
            const outputFile = path.join(os.tmpdir(), `federated-token-test-${process.pid}.json`);
            const status = await run({
                command: ["sh", "-c", `node -e "$0" 2> ${outputFile}`, child],
                intervalSeconds: 1,
                serve: false,
                env: { PATH: process.env.PATH, ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime" },
                log: (line) => lines.push(line),
            });
            assert.equal(status, 7, "the command's exit code");
            const seen = JSON.parse(read(outputFile)) as { file: string; first: string; later: string; mode: string };
            fs.rmSync(outputFile);
            assert.equal(seen.first, "token-1");
            assert.ok(Number(seen.later.replace("token-", "")) >= 2, `refreshed: ${seen.later}`);
            assert.equal(seen.mode, "600");
            assert.equal(fs.existsSync(seen.file), false, "the token file is gone with the command");
            assert.deepEqual(new Set(endpoint.requests.map((request) => `${request.method} ${request.url} ${request.authorization}`)), new Set(["GET /idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange bearer runtime"]));
            assert.deepEqual(lines, ["federated-token: github-actions token in AZURE_FEDERATED_TOKEN_FILE, refreshed every 1 s"]);
        } finally {
            await endpoint.close();
        }
    });

    it("on Azure Pipelines, serves the command fresh tokens from the job's endpoint and keeps the job's token from it", async () => {
        const endpoint = await fakeEndpoint("oidcToken");
        try {
            const child = [
                "(async () => {",
                "  const ask = () => fetch(process.env.ACTIONS_ID_TOKEN_REQUEST_URL + '&audience=api://AzureADTokenExchange', { headers: { Authorization: 'bearer ' + process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN } }).then((r) => r.json());",
                "  const a = await ask(); const b = await ask();",
                "  const leaked = ['SYSTEM_ACCESSTOKEN', 'SYSTEM_OIDCREQUESTURI', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'].filter((name) => name in process.env);",
                "  process.exit(a.value === 'token-2' && b.value === 'token-3' && leaked.length === 0 ? 0 : 9);",
                "})();",
            ].join("\n");
            const status = await run({
                command: ["node", "-e", child],
                intervalSeconds: 60,
                serve: true,
                env: { PATH: process.env.PATH, SYSTEM_OIDCREQUESTURI: `${endpoint.url}/oidctoken`, SYSTEM_ACCESSTOKEN: "job-token", AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: "sc-1" },
                log: () => undefined,
            });
            assert.equal(status, 0, "two fresh tokens through the bridge, and no job credential in the command's environment");
            assert.deepEqual(
                endpoint.requests.map((request) => `${request.method} ${request.url} ${request.authorization}`),
                Array.from({ length: 3 }, () => "POST /oidctoken?api-version=7.1&serviceConnectionId=sc-1 Bearer job-token"),
            );
        } finally {
            await endpoint.close();
        }
    });

    it("does not start the command without a first token", async () => {
        const endpoint = await fakeEndpoint("value", 500);
        const lines: string[] = [];
        try {
            const marker = path.join(os.tmpdir(), `federated-token-started-${process.pid}`);
            const status = await run({
                command: ["touch", marker],
                intervalSeconds: 60,
                serve: false,
                env: { PATH: process.env.PATH, ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime" },
                log: (line) => lines.push(line),
            });
            assert.equal(status, 1);
            assert.equal(fs.existsSync(marker), false);
            assert.deepEqual(lines, ['federated-token: no first token, not starting touch: github-actions OIDC endpoint answered HTTP 500: {"message":"The service connection is not authorized."}']);
        } finally {
            await endpoint.close();
        }
    });

    it("is a CLI with --help, one-line usage errors (exit 2) and the exit codes it documents", () => {
        const cli = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } => {
            const result = spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "pipelines", "federated-token.ts"), ...args], { cwd: PROJECT_ROOT, encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
            return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
        };
        const help = cli(["--help"]);
        assert.equal(help.status, 0);
        assert.match(help.stdout, /^Usage: tsx pipelines\/federated-token\.ts \[--serve\] \[--interval SECONDS\] -- COMMAND \[ARGS\.\.\.\]\n/);
        assert.match(help.stdout, /Exit codes: COMMAND's exit code \(128 \+ signal number if it was killed\), 1 the first token could\nnot be fetched \(COMMAND is not started\), 2 usage, 127 COMMAND could not be started\./);
        const interval = cli(["--interval", "0", "--", "true"]);
        assert.equal(interval.status, 2);
        assert.equal(interval.stderr, 'federated-token: --interval takes whole seconds from 1 to 240, got "0".\nUsage: tsx pipelines/federated-token.ts [--serve] [--interval SECONDS] -- COMMAND [ARGS...]\n');
        assert.equal(cli([]).status, 2);
        const noEndpoint = cli(["--", "true"]);
        assert.equal(noEndpoint.status, 1);
        assert.match(noEndpoint.stderr, /^federated-token: No OIDC token endpoint in this job/);
        assert.doesNotMatch(noEndpoint.stderr, /\n\s+at /, "no stack trace");
    });
});
