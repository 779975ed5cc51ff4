import * as fs from "node:fs";
import * as path from "node:path";
import { format as formatLog, parseArgs } from "node:util";
import { buildPlan, mandatoryFindings } from "../plan/model";
import { render, type PlanFormat } from "../plan/render";
import { fail, runSelectedStack, selectStack } from "./stack-run";

const USAGE = `Usage: npm run plan -- (--stack NAME | --config FILE) [--format text|markdown|json] [--out FILE]

Runs the program offline under Pulumi mocks with a stack's config and prints what \`pulumi up\`
would build: a summary, the trust map (principal -> federated credential -> ServiceAccount ->
roles), problems found, and a deployment order estimate. Needs no Azure subscription.

  --stack NAME     use Pulumi.NAME.yaml (and NAME as the stack name)
  --config FILE    use this stack config file instead; the stack name is --stack, or NAME
                   when the file is called Pulumi.NAME.yaml
  --format FORMAT  text (default), markdown (with a Mermaid diagram), or json
  --out FILE       write to FILE instead of standard output
  --help           show this text

Exit codes (the plan, JSON included, is printed whatever the code):
  0  plan printed, nothing below applies
  1  the config or the program failed (its problems are printed on standard error)
  2  usage
  4  a mandatory policy of the pack (policy/) fails: pulumi preview --policy-pack policy would fail
     (the findings are under "Problems", and in "policy" in JSON)
  5  reserved for the permission check
When several apply, the lowest code is returned.`;

/** The exit code of a printed plan: 4 when a mandatory policy fails, else 0. */
export function planExitCode(mandatoryPolicyFailures: number): number {
    return mandatoryPolicyFailures > 0 ? 4 : 0;
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

async function main(): Promise<void> {
    let values: { stack?: string; config?: string; format?: string; out?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string" },
                config: { type: "string" },
                format: { type: "string", default: "text" },
                out: { type: "string" },
                help: { type: "boolean" },
            },
        }));
    } catch (error) {
        fail(`${(error as Error).message}\n\n${USAGE}`, 2);
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const format = values.format as PlanFormat;
    if (!["text", "markdown", "json"].includes(format)) {
        fail(`Unknown --format "${values.format}". Allowed values are: text, markdown, json.\n\n${USAGE}`, 2);
    }
    const { file, stack } = selectStack(values, USAGE);
    const run = await withStdoutForThePlan(() => runSelectedStack(file, stack));
    const plan = buildPlan(stack, run);
    const output = render(plan, format);
    if (values.out === undefined) {
        process.stdout.write(output);
    } else {
        fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
        fs.writeFileSync(values.out, output);
        process.stderr.write(`Wrote ${values.out}\n`);
    }
    const mandatory = mandatoryFindings(plan);
    if (mandatory.length > 0) {
        process.stderr.write(
            `${mandatory.length} mandatory ${mandatory.length === 1 ? "policy fails" : "policies fail"} (${[...new Set(mandatory.map((f) => f.policy))].join(", ")}): pulumi preview --policy-pack policy would fail.\n`,
        );
    }
    process.exitCode = planExitCode(mandatory.length);
}

if (require.main === module) {
    // A closed pipe (`| head`) ends the command quietly.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE") {
            process.exit(0);
        }
        throw error;
    });
    main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error), 1));
}
