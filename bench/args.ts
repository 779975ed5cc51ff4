import * as fs from "node:fs";
import { parseArgs } from "node:util";

/** The bench's sections, in the order they run. */
export const SECTIONS = ["startup", "typecheck", "scaling", "plan"] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
    /** Runs per start-up variant; the variants take turns, run by run. */
    readonly startupRuns: number;
    /** Runs per type-check and scaling figure. */
    readonly runs: number;
    /** Workload counts for the scaling section, ascending. */
    readonly sizes: readonly number[];
    readonly sections: ReadonlySet<Section>;
    /** The document whose text after the bench-output marker the report replaces. */
    readonly out?: string;
}

export const USAGE = `Usage: npm run bench -- [--startup-runs N] [--runs N] [--sizes 10,100,500,1000] [--only SECTIONS] [--out FILE]

Measures what \`pulumi up\` costs before it talks to Azure, each figure the median of several runs
in fresh Node.js processes under the Pulumi SDK's mocks (nothing touches Azure):
  startup    start-up of the dev stack with cold caches, for each way the Pulumi Node.js host can
             load the TypeScript program: ts-node transpile-only and type-checked, tsx (--require
             tsx/cjs, --import tsx), the project's esbuild hook (register-ts.cjs), Node.js's own
             type stripping; against the program precompiled by tsc and a naive single-file
             program. Each variant's resources, invokes, logs and outputs are compared with
             those of tsc's emit. The variants take turns, run by run.
  typecheck  tsc --noEmit of the project and of the naive program
  scaling    generated stacks of --sizes workloads (2 clusters, 2 role assignments each) against
             the SDK floor, and the largest with --stack-trace-limit=0
  plan       the offline plan's critical path for each committed stack
Prints a Markdown report on stdout, progress on stderr.

Options:
  --startup-runs N  runs per start-up variant (default 11)
  --runs N          runs per type-check and scaling figure (default 3)
  --sizes LIST      workload counts for the scaling section (default 10,100,500,1000)
  --only LIST       sections to run, of startup, typecheck, scaling, plan (default: all)
  --out FILE        replace the text after "<!-- bench output -->" in FILE with the report
                    (every section must run)
  -h, --help        this text

Duration: about 30 minutes with the defaults on a 2-core machine (the one docs/performance.md
names): startup 6, typecheck 2, scaling 23 (about 3 with --sizes 10,100). The machine must be otherwise idle for the figures
to mean much: the report prints the load average before and after.

Exit codes: 0 report printed, 1 a measurement failed, 2 usage error.
`;

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

function positiveInteger(flag: string, value: string): number {
    if (!/^[1-9]\d*$/.test(value)) {
        throw new UsageError(`${flag} takes a positive whole number, not "${value}"`);
    }
    return Number(value);
}

/** The options, or "help"; a UsageError for anything else. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | "help" {
    let values;
    try {
        ({ values } = parseArgs({
            args: [...argv],
            strict: true,
            allowPositionals: false,
            options: {
                "startup-runs": { type: "string", default: "11" },
                runs: { type: "string", default: "3" },
                sizes: { type: "string", default: "10,100,500,1000" },
                only: { type: "string" },
                out: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (error) {
        // node:util's messages name the flag; drop its advice about "--" and positionals.
        const message = error instanceof Error ? error.message.split(". ")[0].replace(/\.$/, "") : String(error);
        throw new UsageError(message);
    }
    if (values.help === true) {
        return "help";
    }
    const sizes = values.sizes.split(",").map((size) => positiveInteger("--sizes", size.trim()));
    if (new Set(sizes).size !== sizes.length) {
        throw new UsageError(`--sizes lists a size twice: ${values.sizes}`);
    }
    const sections = new Set<Section>();
    for (const name of values.only === undefined ? SECTIONS : values.only.split(",").map((s) => s.trim())) {
        if (!(SECTIONS as readonly string[]).includes(name)) {
            throw new UsageError(`--only takes ${SECTIONS.join(", ")}, not "${name}"`);
        }
        sections.add(name as Section);
    }
    if (values.out !== undefined) {
        if (sections.size !== SECTIONS.length) {
            throw new UsageError("--out replaces the whole report: it cannot be combined with --only");
        }
        if (!fs.existsSync(values.out)) {
            throw new UsageError(`--out ${values.out}: no such file`);
        }
    }
    return {
        startupRuns: positiveInteger("--startup-runs", values["startup-runs"]),
        runs: positiveInteger("--runs", values.runs),
        sizes: [...sizes].sort((a, b) => a - b),
        sections,
        out: values.out,
    };
}
