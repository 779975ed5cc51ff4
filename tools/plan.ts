import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { format as formatLog, parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { diffGraphs, hazards, type DiffReport } from "../plan/diff";
import { buildPlan, mandatoryFindings } from "../plan/model";
import { render, renderDiff, type PlanFormat } from "../plan/render";
import { flattenConfig, runStack, type RunResult } from "../offline/mock-runner";
import {
    BootstrapGrantsError,
    DEFAULT_BOOTSTRAP_CONFIG,
    permissionEntries,
    permissionSummary,
    pipelineGrants,
    renderPermissionsMarkdown,
    renderPermissionsText,
    type PermissionEntry,
} from "../plan/permissions";
import { runCli, usageError } from "./cli";
import { fail, runSelectedStack, selectStack } from "./stack-run";

const USAGE = `Usage: npm run plan -- (--stack NAME | --config FILE) [--base FILE|GIT-REF [--allow-replace]]
                       [--permissions [--bootstrap-config FILE]] [--format text|markdown|json] [--out FILE]

Runs the program offline under Pulumi mocks with a stack's config and prints what \`pulumi up\`
would build: a summary, the trust map (principal -> federated credential -> ServiceAccount ->
roles), problems found, and a deployment order estimate. Needs no Azure subscription.

With --base it runs the program twice, with the base config and with the current one, and prints
the diff instead: every resource created, updated (the changed input paths), replaced (the paths
that force it, by the providers' rules in plan/replacements.ts) or deleted, and the hazards: a
cluster or identity replaced, a pool deleted before its replacement exists, a pool change AKS
rejects, a FIC created while its twin (same issuer and subject) is still there, a namespace
deleted with objects that stay.

  --stack NAME      use Pulumi.NAME.yaml (and NAME as the stack name)
  --config FILE     use this stack config file instead; the stack name is --stack, or NAME
                    when the file is called Pulumi.NAME.yaml
  --base BASE       diff against BASE: a stack config file, or a git ref (branch, tag, commit) at
                    which the same stack file is read (git show REF:Pulumi.NAME.yaml); a stack
                    file that does not exist at REF is new: everything is created
  --allow-replace   report hazards without failing on them
  --permissions     also list, for every resource, the operations a deploy performs and the
                    permission each needs at its scope, and whether the grants the bootstrap
                    declares for this environment's pipeline identity cover it (granted, naming
                    the grant, or missing); JSON gets a top-level "permissions" key
  --bootstrap-config FILE
                    the bootstrap config the grants are computed from, with the committed stack
                    files it names (default: bootstrap/Pulumi.example.yaml); implies --permissions
  --format FORMAT   text (default), markdown (for a pull request; the plan has a Mermaid
                    diagram), or json
  --out FILE        write to FILE instead of standard output
  --help            show this text

Exit codes (the output, JSON included, is printed whatever the code):
  0  printed, nothing below applies
  1  the config or the program failed (its problems are printed on standard error)
  2  usage
  3  --base: the diff has a hazard and --allow-replace was not given
  4  a mandatory policy of the pack (policy/) fails: pulumi preview --policy-pack policy would fail
     (the findings are under "Problems", and in "policy" in JSON)
  5  --permissions: a permission the deploy needs is missing from the pipeline's grants
When several apply, the lowest code is returned.`;

/** The exit code of a printed plan or diff: the lowest that applies. */
export function planExitCode(outcome: {
    readonly mandatoryPolicyFailures: number;
    readonly hazards?: number;
    readonly allowReplace?: boolean;
    readonly missingPermissions?: number;
}): number {
    if ((outcome.hazards ?? 0) > 0 && outcome.allowReplace !== true) {
        return 3;
    }
    if (outcome.mandatoryPolicyFailures > 0) {
        return 4;
    }
    return (outcome.missingPermissions ?? 0) > 0 ? 5 : 0;
}

/** Appends the permission view to a rendered plan or diff; JSON gets a top-level `permissions` key. */
function withPermissions(output: string, format: PlanFormat, permissions: readonly PermissionEntry[] | undefined, title: string): string {
    if (permissions === undefined) {
        return output;
    }
    if (format === "json") {
        return `${JSON.stringify({ ...(JSON.parse(output) as Record<string, unknown>), permissions }, null, 2)}\n`;
    }
    return `${output}\n${format === "markdown" ? renderPermissionsMarkdown(permissions, title) : renderPermissionsText(permissions, title)}`;
}

/**
 * Standard output carries the plan alone (`--format json | jq` must parse): whatever the program
 * or the SDK writes with console.log/info/debug while it runs under mocks goes to standard error.
 */
export async function withStdoutForThePlan<T>(run: () => Promise<T>): Promise<T> {
    const saved = { log: console.log, info: console.info, debug: console.debug };
    const toStderr = (...data: unknown[]): void => {
        process.stderr.write(`${formatLog(...data)}\n`);
    };
    console.log = console.info = console.debug = toStderr;
    try {
        return await run();
    } finally {
        Object.assign(console, saved);
    }
}

export interface BaseConfig {
    /** For the reader: `Pulumi.prod.yaml as of origin/main`, or the file. */
    readonly description: string;
    /** The flat config map; undefined when the stack file does not exist at the git ref (a new stack). */
    readonly config: Record<string, string> | undefined;
}

function git(cwd: string, args: string[]): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * The base config `--base` names: a file, or the current stack file as of a git ref. Exits 2 when
 * it is neither.
 */
export function resolveBase(base: string, currentFile: string): BaseConfig {
    if (fs.existsSync(base) && fs.statSync(base).isFile()) {
        return { description: base, config: flattenConfig((parseYaml(fs.readFileSync(base, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {}) };
    }
    const dir = path.dirname(path.resolve(currentFile));
    let relative: string;
    try {
        const top = git(dir, ["rev-parse", "--show-toplevel"]).trim();
        relative = path.relative(top, path.resolve(currentFile)).split(path.sep).join("/");
        git(dir, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`]);
    } catch {
        fail(`--base ${base} is neither a file nor a git ref (branch, tag or commit) of the repository that holds ${currentFile}.`, 2);
    }
    const description = `${relative} as of ${base}`;
    try {
        git(dir, ["cat-file", "-e", `${base}:${relative}`]);
    } catch {
        return { description: `${description} (no such file there: a new stack)`, config: undefined };
    }
    const text = git(dir, ["show", `${base}:${relative}`]);
    return { description, config: flattenConfig((parseYaml(text) as { config?: Record<string, unknown> } | null)?.config ?? {}) };
}

async function runBase(base: BaseConfig, stack: string): Promise<RunResult | undefined> {
    if (base.config === undefined) {
        return undefined;
    }
    try {
        return await runStack({ stack, config: base.config });
    } catch (error) {
        fail(`The base config (${base.description}) failed, so there is nothing to compare with:\n${error instanceof Error ? error.message : String(error)}`, 1);
    }
}

function write(output: string, out: string | undefined): void {
    if (out === undefined) {
        process.stdout.write(output);
    } else {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        fs.writeFileSync(out, output);
        process.stderr.write(`Wrote ${out}\n`);
    }
}

async function main(): Promise<void> {
    let values: {
        stack?: string;
        config?: string;
        base?: string;
        "allow-replace"?: boolean;
        permissions?: boolean;
        "bootstrap-config"?: string;
        format?: string;
        out?: string;
        help?: boolean;
    };
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string" },
                config: { type: "string" },
                base: { type: "string" },
                "allow-replace": { type: "boolean" },
                permissions: { type: "boolean" },
                "bootstrap-config": { type: "string" },
                format: { type: "string", default: "text" },
                out: { type: "string" },
                help: { type: "boolean" },
            },
        }));
    } catch (error) {
        usageError((error as Error).message);
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const format = values.format as PlanFormat;
    if (!["text", "markdown", "json"].includes(format)) {
        usageError(`Unknown --format "${values.format}". Allowed values are: text, markdown, json.`);
    }
    if (values["allow-replace"] && values.base === undefined) {
        usageError("--allow-replace needs --base.");
    }
    const { file, stack } = selectStack(values, USAGE);
    const base = values.base === undefined ? undefined : resolveBase(values.base, file);
    const baseRun = base === undefined ? undefined : await withStdoutForThePlan(() => runBase(base, stack));
    const run = await withStdoutForThePlan(() => runSelectedStack(file, stack));
    const plan = buildPlan(stack, run);
    const mandatory = mandatoryFindings(plan);
    let permissions: PermissionEntry[] | undefined;
    let title = "";
    if (values.permissions === true || values["bootstrap-config"] !== undefined) {
        try {
            const grants = pipelineGrants(stack, values["bootstrap-config"] ?? DEFAULT_BOOTSTRAP_CONFIG);
            permissions = permissionEntries(run, grants);
            title = `Permissions of the ${grants.environment} deploy identity (${grants.identityName}) for stack ${stack}`;
        } catch (error) {
            if (error instanceof BootstrapGrantsError) {
                fail(error.message, 1);
            }
            throw error;
        }
    }
    let found = 0;
    if (base === undefined) {
        write(withPermissions(render(plan, format), format, permissions, title), values.out);
    } else {
        const report: DiffReport = {
            stack,
            base: base.description,
            current: path.relative(process.cwd(), file) || file,
            diff: diffGraphs(baseRun?.resources ?? [], run.resources),
            policy: mandatory.map(({ policy, resource, message }) => ({ policy, ...(resource === undefined ? {} : { resource }), message })),
            allowReplace: values["allow-replace"] === true,
        };
        found = hazards(report.diff).length;
        write(withPermissions(renderDiff(report, format), format, permissions, title), values.out);
        if (found > 0) {
            process.stderr.write(`${found} ${found === 1 ? "hazard" : "hazards"} in the diff${report.allowReplace ? " (allowed by --allow-replace)" : ": give --allow-replace to accept them"}.\n`);
        }
    }
    if (mandatory.length > 0) {
        process.stderr.write(
            `${mandatory.length} mandatory ${mandatory.length === 1 ? "policy fails" : "policies fail"} (${[...new Set(mandatory.map((f) => f.policy))].join(", ")}): pulumi preview --policy-pack policy would fail.\n`,
        );
    }
    const missing = permissions === undefined ? 0 : permissionSummary(permissions).missing;
    if (missing > 0) {
        process.stderr.write(`${missing} ${missing === 1 ? "permission is" : "permissions are"} missing from the pipeline identity's grants: re-run the bootstrap, or see "missing" above.\n`);
    }
    process.exitCode = planExitCode({ mandatoryPolicyFailures: mandatory.length, hazards: found, allowReplace: values["allow-replace"], missingPermissions: missing });
}

if (require.main === module) {
    runCli(USAGE, main);
}
