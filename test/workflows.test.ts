import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../testing/mock-runner";
import { ENVIRONMENT_VARIABLES, REPOSITORY_VARIABLES } from "../bootstrap/github";

/**
 * The pipelines, checked offline: every GitHub workflow against GitHub's own workflow schema
 * (@actions/workflow-parser, with the reusable workflows it calls), then the rules of a pipeline
 * without secrets: OIDC on every job that reaches Azure and on no other, no secret referenced,
 * environments in promotion order, one run per stack, actions referenced by a version.
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
const RUNS_ON = "${{ fromJSON(vars.DEPLOY_RUNS_ON || '\"ubuntu-latest\"') }}";
const WORKLOAD_IDENTITY_MODE = "--config aks-workload-identity:kubeloginMode=workloadidentity";

function mapping(value: unknown, what: string): Mapping {
    assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), `${what} is a mapping`);
    return value as Mapping;
}

function sequence(value: unknown, what: string): unknown[] {
    assert.ok(Array.isArray(value), `${what} is a list`);
    return value;
}

function jobsOf(workflow: Workflow): Record<string, Mapping> {
    return Object.fromEntries(Object.entries(mapping(workflow.document.jobs, `${workflow.file} jobs`)).map(([id, job]) => [id, mapping(job, `${workflow.file} job ${id}`)]));
}

function stepsOf(job: Mapping): Mapping[] {
    return job.steps === undefined ? [] : sequence(job.steps, "steps").map((step) => mapping(step, "step"));
}

function scriptOf(job: Mapping): string {
    return stepsOf(job)
        .map((step) => (typeof step.run === "string" ? step.run : ""))
        .join("\n");
}

function actionsOf(job: Mapping): string[] {
    return stepsOf(job).flatMap((step) => (typeof step.uses === "string" ? [step.uses] : []));
}

function loadWorkflows(): Map<string, Workflow> {
    const workflows = new Map<string, Workflow>();
    for (const file of fs.readdirSync(WORKFLOW_DIRECTORY).filter((name) => /\.ya?ml$/.test(name)).sort()) {
        const text = fs.readFileSync(path.join(WORKFLOW_DIRECTORY, file), "utf8");
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
            return Promise.resolve({ name: reference.path, content: fs.readFileSync(path.join(PROJECT_ROOT, reference.path), "utf8") });
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

/** The `pulumi preview` and `pulumi up` command lines of a script, continuation lines joined. */
function pulumiCommands(script: string): string[] {
    return script
        .replace(/\\\n\s*/g, " ")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => /^pulumi (preview|up)\b/.test(line));
}

/** Variables a text reads: `vars.NAME`. */
function referencedVariables(text: string): string[] {
    return [...new Set([...text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]))].sort();
}

/** Environments in promotion order, as the bootstrap's example config lists them. */
function promotionOrder(): string[] {
    const document = mapping(parse(fs.readFileSync(path.join(PROJECT_ROOT, "bootstrap", "Pulumi.example.yaml"), "utf8")), "Pulumi.example.yaml");
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

    it("grant id-token: write to every job that reaches Azure, and to no other job", () => {
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
                    assert.ok(level === "read" || (scope === "id-token" && level === "write"), `${workflow.file} job ${id}: ${scope}: ${String(level)}`);
                }
            }
        }
        assert.deepEqual(reaching.sort(), ["deploy.yml:dev", "deploy.yml:prod", "deploy.yml:staging", "pull-request.yml:preview", "pulumi-stack.yml:deploy"]);
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

    it("log in to Azure with OIDC only: azure/login with client, tenant and subscription IDs from variables, and the providers with ARM_USE_OIDC", () => {
        let logins = 0;
        for (const workflow of workflows.values()) {
            for (const [id, job] of Object.entries(jobsOf(workflow))) {
                for (const step of stepsOf(job).filter((s) => typeof s.uses === "string" && s.uses.startsWith("azure/login@"))) {
                    logins++;
                    const inputs = mapping(step.with, `${workflow.file} ${id} azure/login inputs`);
                    assert.deepEqual(Object.keys(inputs).sort(), ["client-id", "subscription-id", "tenant-id"], `${workflow.file} ${id}`);
                    for (const value of Object.values(inputs)) {
                        assert.match(String(value), /^\$\{\{ vars\.[A-Z_]+ \}\}$/, `${workflow.file} ${id}`);
                    }
                    const environment = mapping(job.env, `${workflow.file} ${id} env`);
                    assert.equal(environment.ARM_USE_OIDC, "true");
                    assert.equal(environment.ARM_CLIENT_ID, inputs["client-id"], "the providers log in as the CLI does");
                    assert.equal(environment.ARM_TENANT_ID, inputs["tenant-id"]);
                    assert.equal(environment.ARM_SUBSCRIPTION_ID, inputs["subscription-id"]);
                    // kubelogin's workloadidentity mode reads AZURE_CLIENT_ID and AZURE_TENANT_ID.
                    assert.equal(environment.AZURE_CLIENT_ID, inputs["client-id"]);
                    assert.equal(environment.AZURE_TENANT_ID, inputs["tenant-id"]);
                    assert.match(String(environment.PULUMI_BACKEND_URL), /^\$\{\{ vars\.[A-Z_]*PULUMI_BACKEND_URL \}\}$/);
                    assert.equal(environment.AZURE_STORAGE_ACCOUNT, "${{ vars.AZURE_STORAGE_ACCOUNT }}");
                    assert.equal(environment.AZURE_KEYVAULT_AUTH_VIA_CLI, "true", "the Key Vault secrets provider uses the CLI login");
                    assert.ok(actionsOf(job).some((action) => action.startsWith("azure/use-kubelogin@")), `${workflow.file} ${id} installs kubelogin`);
                    assert.equal(job["runs-on"], RUNS_ON, `${workflow.file} ${id} runs where the API servers are reachable`);
                    const script = scriptOf(job);
                    for (const command of pulumiCommands(script)) {
                        assert.ok(command.includes(WORKLOAD_IDENTITY_MODE), `${workflow.file} ${id}: ${command}`);
                    }
                    const steps = stepsOf(job);
                    const loginAt = steps.indexOf(step);
                    const firstPulumi = steps.findIndex((s) => typeof s.run === "string" && /\bpulumi (preview|up)\b/.test(s.run));
                    assert.ok(loginAt >= 0 && firstPulumi > loginAt, `${workflow.file} ${id} logs in before Pulumi runs`);
                }
            }
        }
        assert.equal(logins, 2, "the read-only preview and the per-stack deployment");
    });

    it("read only the variables the bootstrap prints, and use every one of them", () => {
        const printed = [...REPOSITORY_VARIABLES, ...ENVIRONMENT_VARIABLES].sort();
        const used = referencedVariables([...workflows.values()].map((workflow) => workflow.text).join("\n"));
        assert.deepEqual(used, printed);
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

        const commands = pulumiCommands(scriptOf(job));
        assert.equal(commands.length, 2);
        assert.match(commands[0], /^pulumi preview --stack "\$STACK" /);
        assert.match(commands[1], /^pulumi up --stack "\$STACK" --refresh --yes /);
        assert.ok(scriptOf(job).split("$GITHUB_STEP_SUMMARY").length - 1 >= 2, "preview and update go to the job summary");

        const deploy = workflows.get("deploy.yml") as Workflow;
        assert.deepEqual(deploy.document.concurrency, { group: "deploy-${{ github.ref }}", "cancel-in-progress": false }, "a running promotion is never cancelled");
    });

    it("on pull requests: the tests, the offline plan of every committed stack, and a read-only preview without an environment", () => {
        const pullRequest = workflows.get("pull-request.yml") as Workflow;
        assert.deepEqual(Object.keys(mapping(pullRequest.document.on, "on")), ["pull_request"]);
        const jobs = jobsOf(pullRequest);
        assert.deepEqual(Object.keys(jobs), ["test", "plan", "preview"]);
        for (const [id, job] of Object.entries(jobs)) {
            assert.equal(job.environment, undefined, `${id}: without an environment the token's subject is :pull_request`);
        }
        const matrix = mapping(mapping(jobs.plan.strategy, "strategy").matrix, "matrix");
        assert.deepEqual([...sequence(matrix.stack, "stacks")].map(String).sort(), committedStacks());
        assert.match(scriptOf(jobs.plan), /npm run plan -- --stack "\$STACK" --format markdown --out plan\.md/);
        assert.match(scriptOf(jobs.plan), /cat plan\.md >> "\$GITHUB_STEP_SUMMARY"/);

        const preview = jobs.preview;
        assert.equal(mapping(preview.env, "env").ARM_CLIENT_ID, "${{ vars.PULL_REQUEST_AZURE_CLIENT_ID }}");
        assert.equal(mapping(preview.env, "env").STACK, "${{ vars.PULL_REQUEST_STACK }}");
        assert.equal(preview.if, "github.event.pull_request.head.repo.full_name == github.repository", "forks get no OIDC token");
        const script = scriptOf(preview);
        assert.match(script, /pulumi preview --stack "\$STACK"/);
        assert.doesNotMatch(script, /pulumi (up|refresh|destroy|import|cancel|state|stack (rm|import))\b/, "read-only");
        assert.match(script, /\$GITHUB_STEP_SUMMARY/);
    });

    it("reference actions by a version tag, or by a full commit SHA with its version in a comment", () => {
        for (const workflow of workflows.values()) {
            for (const line of workflow.text.split("\n")) {
                const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
                if (match === null || match[1].startsWith("./")) {
                    continue;
                }
                const [action, ref] = match[1].split("@");
                assert.match(action, /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?$/, line);
                assert.ok(ref !== undefined, `${workflow.file}: ${line} names a version`);
                if (/^[0-9a-f]{40}$/.test(ref)) {
                    assert.match(match[2], /#\s*v\d+(\.\d+){0,2}\b/, `${workflow.file}: a pinned SHA says which release it is: ${line}`);
                } else {
                    assert.match(ref, /^v\d+(\.\d+){0,2}$/, `${workflow.file}: ${line}`);
                }
            }
        }
    });
});

describe("Dependabot", () => {
    it("keeps the GitHub Actions and the npm dependencies current", () => {
        const config = mapping(parse(fs.readFileSync(path.join(PROJECT_ROOT, ".github", "dependabot.yml"), "utf8")), "dependabot.yml");
        assert.equal(config.version, 2);
        const updates = sequence(config.updates, "updates").map((update) => mapping(update, "update"));
        assert.deepEqual(
            updates.map((update) => [update["package-ecosystem"], update.directory, mapping(update.schedule, "schedule").interval]),
            [
                ["github-actions", "/", "weekly"],
                ["npm", "/", "weekly"],
            ],
        );
    });
});

describe("Azure DevOps pipeline", () => {
    let pipeline: Mapping;
    let steps: Mapping;
    let text: string;

    before(() => {
        text = `${fs.readFileSync(AZURE_DEVOPS, "utf8")}\n${fs.readFileSync(AZURE_DEVOPS_STEPS, "utf8")}`;
        pipeline = mapping(parse(fs.readFileSync(AZURE_DEVOPS, "utf8")), "azure-devops.yml");
        steps = mapping(parse(fs.readFileSync(AZURE_DEVOPS_STEPS, "utf8")), "pulumi-steps.yml");
    });

    it("runs the same stages: pull-request checks, then dev, staging and prod in promotion order on main", () => {
        const stages = sequence(pipeline.stages, "stages").map((stage) => mapping(stage, "stage"));
        assert.deepEqual(
            stages.map((stage) => stage.stage),
            ["validate", ...promotionOrder()],
        );
        assert.equal(stages[0].condition, "eq(variables['Build.Reason'], 'PullRequest')");
        const validateJobs = sequence(stages[0].jobs, "jobs").map((job) => mapping(job, "job"));
        assert.deepEqual(
            validateJobs.map((job) => job.job),
            ["test", "plan", "preview"],
        );
        assert.deepEqual(Object.keys(mapping(mapping(validateJobs[1].strategy, "strategy").matrix, "matrix")).sort(), committedStacks());
        const previewStep = mapping(sequence(validateJobs[2].steps, "steps")[0], "step");
        assert.deepEqual(previewStep, {
            template: "templates/pulumi-steps.yml",
            parameters: { serviceConnection: "aks-workload-identity-pull-request", stack: "dev", backendUrl: "azblob://state-dev" },
        });

        promotionOrder().forEach((environment, index) => {
            const stage = stages[index + 1];
            assert.deepEqual(stage.dependsOn, index === 0 ? [] : promotionOrder()[index - 1], environment);
            assert.match(String(stage.condition), /eq\(variables\['Build\.SourceBranch'\], 'refs\/heads\/main'\)/, environment);
            const [job, ...others] = sequence(stage.jobs, "jobs").map((j) => mapping(j, "job"));
            assert.equal(others.length, 0);
            assert.equal(job.deployment, "pulumi");
            assert.equal(job.environment, environment, "an Azure DevOps environment: approvals and the exclusive lock");
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

    it("logs in only through workload identity federation service connections, and references no secret", () => {
        const tasks = sequence(steps.steps, "steps")
            .flatMap((step) => {
                const entry = mapping(step, "step");
                const conditional = Object.entries(entry).find(([stepKey]) => stepKey.startsWith("${{ if"));
                return conditional === undefined ? [entry] : sequence(conditional[1], "conditional steps").map((inner) => mapping(inner, "step"));
            })
            .filter((step) => step.task === "AzureCLI@2");
        assert.equal(tasks.length, 2, "preview, and up when update is true");
        for (const task of tasks) {
            const inputs = mapping(task.inputs, "AzureCLI@2 inputs");
            assert.equal(inputs.azureSubscription, "${{ parameters.serviceConnection }}");
            assert.equal(inputs.addSpnToEnvironment, true);
            const script = String(inputs.inlineScript);
            assert.match(script, /export ARM_USE_OIDC=true ARM_CLIENT_ID="\$servicePrincipalId" ARM_TENANT_ID="\$tenantId" ARM_OIDC_TOKEN="\$idToken"/);
            assert.match(script, /AZURE_FEDERATED_TOKEN_FILE/);
            assert.match(script, /export AZURE_KEYVAULT_AUTH_VIA_CLI=true/);
            assert.ok(script.includes(WORKLOAD_IDENTITY_MODE), script);
            assert.equal(mapping(task.env, "env").PULUMI_BACKEND_URL, "${{ parameters.backendUrl }}");
        }
        assert.match(String(mapping(tasks[1].inputs, "inputs").inlineScript), /pulumi up --stack "\$STACK" --refresh --yes/);
        assert.deepEqual(referencedSecrets(text), []);
        for (const pattern of SECRET_SHAPED) {
            assert.doesNotMatch(text, pattern);
        }
    });
});
