import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { buildPlan } from "../plan/model";
import { formatDuration } from "../plan/durations";
import { runCommittedStack } from "../testing/mock-runner";
import { scaleConfig } from "./scale";

/**
 * `npm run bench`: start-up, type-check, scaling and deployment-path figures, each the median of
 * several runs in fresh processes, printed as a table with the targets met or missed. Figures,
 * never a timed test: nothing here fails a build.
 */

const ROOT = path.resolve(__dirname, "..");
const BUILD = path.join(ROOT, "bench", ".build");
const NODE = process.execPath;
const HOST = path.join(ROOT, "bench", "host.cjs");
const MEASURE = path.join(ROOT, "bench", "measure.cjs");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

interface Sample {
    readonly ms: number;
    readonly rssMB: number;
    readonly resources?: number;
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs a command `runs` times in fresh processes; wall time from spawn to exit, peak RSS as reported. */
function measure(label: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; runs: number }): Sample {
    const samples: Sample[] = [];
    for (let i = 0; i < options.runs; i++) {
        const started = process.hrtime.bigint();
        const result = spawnSync(NODE, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const line = `${result.stdout}\n${result.stderr}`.split("\n").find((l) => l.startsWith("{") || l.startsWith("MEASURE "));
        if (line === undefined) {
            throw new Error(`${label} printed no measurement (exit ${String(result.status)}):\n${result.stderr.slice(-2000)}`);
        }
        const parsed = JSON.parse(line.replace(/^MEASURE /, "")) as { maxRssKB: number; resources?: number };
        samples.push({ ms, rssMB: parsed.maxRssKB / 1024, resources: parsed.resources });
        process.stderr.write(`  ${label}: run ${i + 1}/${options.runs} ${Math.round(ms)} ms, ${Math.round(parsed.maxRssKB / 1024)} MB\n`);
    }
    return { ms: median(samples.map((s) => s.ms)), rssMB: median(samples.map((s) => s.rssMB)), resources: samples[0].resources };
}

/**
 * How the committed Pulumi.yaml makes the host start the program: the node arguments it adds and
 * the tsconfig ts-node uses, or "-" when `typescript: false` leaves TypeScript to those arguments.
 */
function committedHost(): { nodeArgs: string[]; tsconfig: string; description: string } {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        runtime?: { options?: { typescript?: boolean; tsconfig?: string; nodeargs?: string } };
    };
    const options = project.runtime?.options ?? {};
    const nodeArgs = (options.nodeargs ?? "").split(/\s+/).filter((arg) => arg !== "");
    const tsconfig = options.typescript === false ? "-" : (options.tsconfig ?? "tsconfig.json");
    const description = [options.typescript === false ? "typescript: false" : `tsconfig ${tsconfig}`, ...(nodeArgs.length > 0 ? [`nodeargs ${nodeArgs.join(" ")}`] : [])].join(", ");
    return { nodeArgs, tsconfig, description };
}

/** Compiles the project to JavaScript once, for the precompiled figure and a runner shared by all runs. */
function precompile(): string {
    const out = path.join(BUILD, "js");
    fs.rmSync(out, { recursive: true, force: true });
    const result = spawnSync(NODE, [TSC, "-p", "tsconfig.json", "--outDir", out, "--sourceMap", "false"], { cwd: ROOT, encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
    }
    return out;
}

function row(cells: readonly (string | number)[]): string {
    return `| ${cells.join(" | ")} |`;
}

function mark(met: boolean): string {
    return met ? "met" : "MISSED";
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string", default: "3" },
            sizes: { type: "string", default: "10,100,500,1000" },
            out: { type: "string" },
            help: { type: "boolean" },
        },
    });
    if (values.help) {
        process.stdout.write("Usage: npm run bench -- [--runs N] [--sizes 10,100,500,1000] [--out docs/performance.md]\n");
        return;
    }
    const runs = Number(values.runs);
    const sizes = (values.sizes ?? "").split(",").map(Number);
    fs.mkdirSync(BUILD, { recursive: true });
    process.stderr.write("Compiling the project once (precompiled figure and the shared mock runner)...\n");
    const js = precompile();
    const runner = path.join(js, "testing", "mock-runner.js");
    const devStack = path.join(ROOT, "Pulumi.dev.yaml");
    const host = committedHost();

    process.stderr.write("Start-up of the dev stack under mocks (cold ts-node cache):\n");
    // ts-node caches what it compiled (and then skips the type-check); a first run, a CI runner or
    // a fresh container has no such cache, so every start-up here is measured cold.
    const cold = { TS_NODE_CACHE: "false", TSX_DISABLE_CACHE: "1" };
    const committed = measure("committed Pulumi.yaml", [...host.nodeArgs, HOST, host.tsconfig, runner, "index.ts", devStack], { runs, env: cold });
    const typeChecked = measure("Pulumi default (type-check)", [HOST, "tsconfig.json", runner, "index.ts", devStack], { runs, env: cold });
    const precompiled = measure("precompiled JavaScript", [HOST, "-", runner, path.join(js, "index.js"), devStack], { runs, env: cold });
    const naive = measure("naive single file, Pulumi default", [HOST, "tsconfig.json", runner, "index.ts", devStack], {
        runs,
        cwd: path.join(ROOT, "bench", "naive"),
        env: cold,
    });

    process.stderr.write("Type-check:\n");
    const tscProject = measure("tsc --noEmit (project)", [MEASURE, TSC, "--noEmit", "-p", "tsconfig.json"], { runs });
    const tscNaive = measure("tsc --noEmit (naive)", [MEASURE, TSC, "--noEmit", "-p", "bench/naive/tsconfig.json"], { runs });

    process.stderr.write("Scaling under mocks:\n");
    const scaling: { workloads: number; real: Sample; floor: Sample }[] = [];
    for (const size of sizes) {
        const file = path.join(BUILD, `scale-${size}.yaml`);
        fs.writeFileSync(file, stringify(scaleConfig(size)));
        const graph = path.join(BUILD, `scale-${size}-graph.json`);
        // One untimed run records the graph the floor replays.
        measure(`${size} workloads: recording the graph`, [HOST, "-", runner, path.join(js, "index.js"), file], { runs: 1, env: { BENCH_DUMP_GRAPH: graph } });
        const real = measure(`${size} workloads`, [HOST, "-", runner, path.join(js, "index.js"), file], { runs });
        const floor = measure(`${size} workloads: SDK floor`, [HOST, "-", runner, path.join(js, "bench", "floor.js"), file], {
            runs,
            env: { BENCH_FLOOR_GRAPH: graph },
        });
        scaling.push({ workloads: size, real, floor });
    }
    const largest = sizes[sizes.length - 1];
    const traceFile = path.join(BUILD, `scale-${largest}.yaml`);
    const noTraces = measure(`${largest} workloads, --stack-trace-limit=0`, ["--stack-trace-limit=0", HOST, "-", runner, path.join(js, "index.js"), traceFile], { runs });
    const bigHeap = measure(`${largest} workloads, --stack-trace-limit=0 --max-old-space-size=4096`, ["--stack-trace-limit=0", "--max-old-space-size=4096", HOST, "-", runner, path.join(js, "index.js"), traceFile], { runs });

    const paths = await Promise.all(
        ["dev", "staging", "prod"].map(async (stack) => ({ stack, estimate: buildPlan(stack, await runCommittedStack(stack)).deployment })),
    );

    // Report.
    const ms = (s: Sample) => `${Math.round(s.ms)} ms`;
    const mb = (s: Sample) => `${Math.round(s.rssMB)} MB`;
    const lines: string[] = [];
    lines.push(`Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node.js ${process.version}; medians of ${runs} runs in fresh processes.`);
    lines.push("", "### 1. Start-up of the dev stack under mocks (the Pulumi host's TypeScript path, cold ts-node cache)", "");
    lines.push(row(["how", "wall time", "peak RSS"]), row(["---", "---", "---"]));
    lines.push(row([`committed Pulumi.yaml (${host.description})`, ms(committed), mb(committed)]));
    lines.push(row(["same program, Pulumi default (type-check)", ms(typeChecked), mb(typeChecked)]));
    lines.push(row(["same program, precompiled JavaScript", ms(precompiled), mb(precompiled)]));
    lines.push(row(["naive single file (azure-native root), Pulumi default", ms(naive), mb(naive)]));
    lines.push("", "### 2. Type-check (`tsc --noEmit`)", "");
    lines.push(row(["project", "wall time", "peak RSS"]), row(["---", "---", "---"]));
    lines.push(row(["this project (CI type-check)", ms(tscProject), mb(tscProject)]));
    lines.push(row(["naive single file", ms(tscNaive), mb(tscNaive)]));
    lines.push("", "### 3. Scaling under mocks (2 clusters, 2 role assignments per workload)", "");
    lines.push(row(["workloads", "resources", "wall time", "peak RSS", "ms / resource", "KB / resource", "SDK floor ms / resource", "program / floor"]));
    lines.push(row(["---", "---", "---", "---", "---", "---", "---", "---"]));
    for (const { workloads, real, floor } of scaling) {
        const resources = real.resources ?? 1;
        const perResource = real.ms / resources;
        const floorPerResource = floor.ms / resources;
        lines.push(
            row([
                workloads,
                resources,
                ms(real),
                mb(real),
                perResource.toFixed(2),
                ((real.rssMB * 1024) / resources).toFixed(0),
                floorPerResource.toFixed(2),
                (perResource / floorPerResource).toFixed(2),
            ]),
        );
    }
    const small = scaling.find((s) => s.workloads === 100) ?? scaling[0];
    const large = scaling[scaling.length - 1];
    const exponent = Math.log(large.real.ms / small.real.ms) / Math.log((large.real.resources ?? 1) / (small.real.resources ?? 1));
    const ratio = large.real.ms / large.floor.ms;
    lines.push("", `Fitted growth between ${small.workloads} and ${large.workloads} workloads: time ~ resources^${exponent.toFixed(2)}.`);
    lines.push(
        `${largest} workloads with \`--stack-trace-limit=0\`: ${ms(noTraces)}, ${mb(noTraces)}; adding \`--max-old-space-size=4096\`: ${ms(bigHeap)}, ${mb(bigHeap)}.`,
    );
    lines.push("", "### 4. Modeled deployment critical path (plan/durations.ts)", "");
    lines.push(row(["stack", "critical path", "lower bound"]), row(["---", "---", "---"]));
    for (const { stack, estimate } of paths) {
        lines.push(row([stack, formatDuration(estimate.seconds), formatDuration(estimate.lowerBoundSeconds)]));
    }
    lines.push("", "### Targets", "");
    const targets: [string, boolean, string][] = [
        ["start-up within 1.3x of precompiled JS", committed.ms <= 1.3 * precompiled.ms, `${(committed.ms / precompiled.ms).toFixed(2)}x`],
        ["start-up at most 0.3x the naive baseline's Pulumi-default time", committed.ms <= 0.3 * naive.ms, `${(committed.ms / naive.ms).toFixed(2)}x`],
        ["start-up memory at least 3x below the naive baseline", naive.rssMB >= 3 * committed.rssMB, `${(naive.rssMB / committed.rssMB).toFixed(1)}x less`],
        ["tsc --noEmit memory under 0.6x the naive baseline's", tscProject.rssMB < 0.6 * tscNaive.rssMB, `${(tscProject.rssMB / tscNaive.rssMB).toFixed(2)}x`],
        [`growth exponent under 1.1 (${small.workloads} to ${large.workloads} workloads)`, exponent < 1.1, exponent.toFixed(2)],
        ["cost per resource within 1.2x of the SDK floor", ratio <= 1.2, `${ratio.toFixed(2)}x`],
        ["every committed stack's critical path equals its lower bound", paths.every((p) => p.estimate.seconds === p.estimate.lowerBoundSeconds), paths.map((p) => `${p.stack} ${formatDuration(p.estimate.seconds)}`).join(", ")],
    ];
    lines.push(row(["target", "result", "figure"]), row(["---", "---", "---"]));
    for (const [target, met, figure] of targets) {
        lines.push(row([target, mark(met), figure]));
    }
    const report = `${lines.join("\n")}\n`;
    process.stdout.write(report);
    if (values.out !== undefined) {
        const document = fs.readFileSync(values.out, "utf8");
        const marker = "<!-- bench output -->";
        const at = document.indexOf(marker);
        fs.writeFileSync(values.out, `${at < 0 ? `${document}\n${marker}\n` : document.slice(0, at + marker.length)}\n\n${report}`);
        process.stderr.write(`Wrote ${values.out}\n`);
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
});
