import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from "./args";
import { scaleConfig } from "./scale";

/**
 * `npm run bench`: start-up, type-check, scaling and deployment-path figures, each the median of
 * several runs in fresh processes, printed as a table with the targets met or missed. Figures,
 * never a timed test: nothing here fails a build. `--help` says what runs and for how long.
 */

const ROOT = path.resolve(__dirname, "..");
const BUILD = path.join(ROOT, "bench", ".build");
const NODE = process.execPath;
const HOST = path.join(ROOT, "bench", "host.cjs");
const MEASURE = path.join(ROOT, "bench", "measure.cjs");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
const PREVIOUS = path.join(ROOT, "bench", "previous-node20.json");

interface Sample {
    readonly ms: number;
    /** The fastest run's wall time, when several ran. */
    readonly fastestMs?: number;
    /** User + system CPU time of the process and the children it waited for; undefined off Linux. */
    readonly cpuMs?: number;
    readonly rssMB: number;
    readonly resources?: number;
}

type Outcome = { readonly sample: Sample } | { readonly error: string };

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU time of this process's waited-for children, from /proc (Linux), in ms. */
function childrenCpuMs(): number | undefined {
    try {
        // Fields after the command name: ... cutime (14th) and cstime (15th), in clock ticks (100 Hz).
        const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
        return (Number(fields[13]) + Number(fields[14])) * 10;
    } catch {
        return undefined;
    }
}

/** The environment of a measured process: no NODE_OPTIONS of the caller's, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    delete env.NODE_OPTIONS;
    return env;
}

/** The line of a failed run that says why: the first error line, paths made relative to the project. */
function failureReason(stderr: string, status: number | null): string {
    // Node's warnings (an experimental feature in use) are not the reason.
    const lines = stderr
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => !/^\(node:\d+\) \w*Warning:|^\(Use `node --trace-warnings/.test(line));
    const line = lines.find((l) => /^(\w*Error\b|Error \[|error:)/.test(l) || /\[ERR_[A-Z_]+\]/.test(l)) ?? lines.find((l) => l !== "") ?? `exit ${String(status)}`;
    return line.split(`${ROOT}${path.sep}`).join("").split("file://").join("").slice(0, 200);
}

/** One fresh process: wall time from spawn to exit, CPU time, peak RSS as the process reports it. */
function runOnce(args: readonly string[], options: { cwd?: string; env?: Record<string, string> }): Outcome {
    const cpuBefore = childrenCpuMs();
    const started = process.hrtime.bigint();
    const result = spawnSync(NODE, args, { cwd: options.cwd ?? ROOT, env: childEnv(options.env), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const cpuAfter = childrenCpuMs();
    const line = `${result.stdout}\n${result.stderr}`.split("\n").find((l) => l.startsWith("{") || l.startsWith("MEASURE "));
    if (result.status !== 0 || line === undefined) {
        return { error: failureReason(result.stderr, result.status) };
    }
    const parsed = JSON.parse(line.replace(/^MEASURE /, "")) as { maxRssKB: number; resources?: number };
    const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    return { sample: { ms, cpuMs, rssMB: parsed.maxRssKB / 1024, resources: parsed.resources } };
}

function summarize(samples: readonly Sample[]): Sample {
    const cpu = samples.map((s) => s.cpuMs);
    return {
        ms: median(samples.map((s) => s.ms)),
        fastestMs: Math.min(...samples.map((s) => s.ms)),
        cpuMs: cpu.every((c) => c !== undefined) ? median(cpu) : undefined,
        rssMB: median(samples.map((s) => s.rssMB)),
        resources: samples[0].resources,
    };
}

function progress(label: string, run: number, runs: number, outcome: Outcome): void {
    const text = "error" in outcome ? `fails: ${outcome.error}` : `${Math.round(outcome.sample.ms)} ms, ${Math.round(outcome.sample.rssMB)} MB`;
    process.stderr.write(`  ${label}: run ${run}/${runs} ${text}\n`);
}

/** Runs a command `runs` times in fresh processes; a failure ends the bench. */
function measure(label: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; runs: number }): Sample {
    const samples: Sample[] = [];
    for (let i = 0; i < options.runs; i++) {
        const outcome = runOnce(args, options);
        progress(label, i + 1, options.runs, outcome);
        if ("error" in outcome) {
            throw new Error(`${label} failed: ${outcome.error}`);
        }
        samples.push(outcome.sample);
    }
    return summarize(samples);
}

/** What Pulumi.yaml `runtime.options` says about how the host loads the program. */
interface RuntimeOptions {
    readonly typescript: boolean;
    readonly tsconfig?: string;
    readonly nodeArgs: readonly string[];
}

function readRuntimeOptions(): RuntimeOptions {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        runtime?: { options?: { typescript?: boolean; tsconfig?: string; nodeargs?: string } };
    };
    const options = project.runtime?.options ?? {};
    return {
        typescript: options.typescript !== false,
        tsconfig: options.tsconfig,
        nodeArgs: (options.nodeargs ?? "").split(/\s+/).filter((arg) => arg !== ""),
    };
}

/** One way the Pulumi Node.js host can start the program, as Pulumi.yaml would say it. */
interface Variant {
    readonly key: string;
    /** The Pulumi.yaml runtime options, or what else the row is. */
    readonly how: string;
    readonly runtime?: RuntimeOptions;
    readonly args: readonly string[];
    readonly cwd?: string;
    /** Whether its run is compared with the precompiled program's. */
    readonly compare: boolean;
}

function hostArgs(runtime: RuntimeOptions, runner: string, devStack: string): string[] {
    // ts-node only when `typescript` is on; otherwise the node arguments carry any TypeScript hook.
    const tsconfig = runtime.typescript ? (runtime.tsconfig ?? "tsconfig.json") : "-";
    return [...runtime.nodeArgs, HOST, tsconfig, runner, "index.ts", devStack];
}

function describeRuntime(runtime: RuntimeOptions): string {
    const parts = [`typescript: ${String(runtime.typescript)}`];
    if (runtime.typescript) {
        parts.push(runtime.tsconfig === undefined ? "tsconfig.json (the default: type-checked)" : `tsconfig: ${runtime.tsconfig}`);
    }
    if (runtime.nodeArgs.length > 0) {
        parts.push(`nodeargs: \`${runtime.nodeArgs.join(" ")}\``);
    }
    return parts.join(", ");
}

const sameRuntime = (a: RuntimeOptions, b: RuntimeOptions): boolean =>
    a.typescript === b.typescript && (a.typescript ? (a.tsconfig ?? "tsconfig.json") === (b.tsconfig ?? "tsconfig.json") : true) && a.nodeArgs.join(" ") === b.nodeArgs.join(" ");

/** The TypeScript loaders to compare, the committed one marked; precompiled and naive rows apart. */
function loaderVariants(committed: RuntimeOptions, runner: string, devStack: string): { variants: Variant[]; committedKey: string } {
    const loaders: { key: string; what: string; runtime: RuntimeOptions }[] = [
        { key: "ts-node-transpile", what: "ts-node, transpile only", runtime: { typescript: true, tsconfig: "tsconfig.pulumi.json", nodeArgs: [] } },
        { key: "ts-node-check", what: "ts-node, type-checked (Pulumi's default)", runtime: { typescript: true, nodeArgs: [] } },
        { key: "tsx-cjs", what: "tsx, CommonJS hook", runtime: { typescript: false, nodeArgs: ["--require", "tsx/cjs"] } },
        { key: "tsx-import", what: "tsx, ESM and CommonJS hooks", runtime: { typescript: false, nodeArgs: ["--import", "tsx"] } },
        { key: "esbuild-hook", what: "esbuild hook for the project's files (register-ts.cjs)", runtime: { typescript: false, nodeArgs: ["--require", "./register-ts.cjs"] } },
        { key: "node-strip", what: "Node.js type stripping (on by default in 24)", runtime: { typescript: false, nodeArgs: [] } },
        { key: "node-transform", what: "Node.js type stripping with --experimental-transform-types", runtime: { typescript: false, nodeArgs: ["--experimental-transform-types"] } },
    ];
    let committedKey = loaders.find((l) => sameRuntime(l.runtime, committed))?.key;
    const variants: Variant[] = loaders.map((l) => ({
        key: l.key,
        how: `${l.what}: ${describeRuntime(l.runtime)}${l.key === committedKey ? " **(committed)**" : ""}`,
        runtime: l.runtime,
        args: hostArgs(l.runtime, runner, devStack),
        compare: true,
    }));
    if (committedKey === undefined) {
        committedKey = "committed";
        variants.unshift({ key: committedKey, how: `committed Pulumi.yaml: ${describeRuntime(committed)}`, runtime: committed, args: hostArgs(committed, runner, devStack), compare: true });
    }
    return { variants, committedKey };
}

/** Compiles the project to JavaScript once, for the precompiled figure and a runner shared by all runs. */
function precompile(): string {
    const out = path.join(BUILD, "js");
    fs.rmSync(out, { recursive: true, force: true });
    const result = spawnSync(NODE, [TSC, "-p", "tsconfig.json", "--outDir", out, "--sourceMap", "false"], { cwd: ROOT, encoding: "utf8", env: childEnv() });
    if (result.status !== 0) {
        throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
    }
    fs.copyFileSync(path.join(ROOT, "components", "schema.json"), path.join(out, "components", "schema.json"));
    return out;
}

interface StartupResult {
    readonly variant: Variant;
    readonly outcome: Outcome;
    /** Whether the run recorded the same resources, invokes, logs and outputs as tsc's emit. */
    readonly same?: boolean;
}

/** One command of a set that takes turns. */
interface Turn {
    readonly key: string;
    readonly label: string;
    readonly args: readonly string[];
    readonly cwd?: string;
    readonly env?: Record<string, string>;
    /** Environment for the first run only (e.g. to record what the program registered). */
    readonly firstEnv?: Record<string, string>;
}

/**
 * Every command `runs` times, taking turns run by run, so that whatever else the machine does
 * weighs on all of them alike. A command that fails is not run again; a failure of a command in
 * `required` ends the bench.
 */
function takeTurns(turns: readonly Turn[], runs: number, required: readonly string[] = []): Map<string, Outcome> {
    const samples = new Map<string, Sample[]>(turns.map((t) => [t.key, []]));
    const errors = new Map<string, string>();
    for (let run = 1; run <= runs; run++) {
        // Each round starts one command later, so no command always follows the same one.
        const order = turns.map((_, i) => turns[(i + run - 1) % turns.length]);
        for (const turn of order) {
            if (errors.has(turn.key)) {
                continue;
            }
            const outcome = runOnce(turn.args, { cwd: turn.cwd, env: { ...turn.env, ...(run === 1 ? turn.firstEnv : {}) } });
            progress(turn.label, run, runs, outcome);
            if ("error" in outcome) {
                if (required.includes(turn.key)) {
                    throw new Error(`${turn.label} failed: ${outcome.error}`);
                }
                errors.set(turn.key, outcome.error);
                continue;
            }
            samples.get(turn.key)?.push(outcome.sample);
        }
    }
    return new Map(
        turns.map((turn) => {
            const error = errors.get(turn.key);
            return [turn.key, error !== undefined ? { error } : { sample: summarize(samples.get(turn.key) ?? []) }];
        }),
    );
}

/**
 * The start-up variants, taking turns. Cold caches: ts-node's and tsx's transpile caches are off
 * (a warm ts-node cache also skips the type-check), as on a first run, a CI runner or a fresh
 * container. Each variant's first run records what the program did, to compare with the
 * reference's.
 */
function measureStartup(variants: readonly Variant[], reference: Variant, runs: number): StartupResult[] {
    const cold = { TS_NODE_CACHE: "false", TSX_DISABLE_CACHE: "1" };
    const all = [reference, ...variants];
    const recordOf = (variant: Variant): string => path.join(BUILD, `startup-${variant.key}.json`);
    for (const variant of all) {
        fs.rmSync(recordOf(variant), { force: true });
    }
    const outcomes = takeTurns(
        all.map((variant) => ({
            key: variant.key,
            label: variant.how.replace(/\*\*/g, ""),
            args: variant.args,
            cwd: variant.cwd,
            env: cold,
            firstEnv: variant.compare ? { BENCH_DUMP_RUN: recordOf(variant) } : undefined,
        })),
        runs,
        [reference.key],
    );
    const record = (variant: Variant): string | undefined => (variant.compare && fs.existsSync(recordOf(variant)) ? fs.readFileSync(recordOf(variant), "utf8") : undefined);
    const referenceRecord = record(reference);
    return all.map((variant) => {
        const outcome = outcomes.get(variant.key) ?? { error: "not run" };
        const own = "error" in outcome ? undefined : record(variant);
        return { variant, outcome, same: own === undefined ? undefined : own === referenceRecord };
    });
}

interface Previous {
    readonly machine: string;
    readonly startup: Record<string, { ms: number; rssMB: number }>;
    readonly typecheck: Record<string, { ms: number; rssMB: number }>;
    readonly scaling: Record<string, { ms: number; rssMB: number }>;
    readonly noTraces: { ms: number; rssMB: number };
    readonly bigHeap: { ms: number; rssMB: number };
}

function row(cells: readonly (string | number)[]): string {
    return `| ${cells.join(" | ")} |`;
}

function mark(met: boolean | undefined): string {
    return met === undefined ? "not measured" : met ? "met" : "MISSED";
}

const ms = (s: { ms: number }): string => `${Math.round(s.ms)} ms`;
const cpu = (s: Sample): string => (s.cpuMs === undefined ? "n/a" : `${Math.round(s.cpuMs)} ms`);
const mb = (s: { rssMB: number }): string => `${Math.round(s.rssMB)} MB`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

function sdkVersion(): string {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string }).version;
}

const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(1)).join(" ");

async function bench(options: BenchOptions): Promise<string> {
    const began = Date.now();
    const loadBefore = loadAverage();
    const runs = options.runs;
    fs.mkdirSync(BUILD, { recursive: true });
    const needsBuild = options.sections.has("startup") || options.sections.has("scaling");
    if (needsBuild) {
        process.stderr.write("Compiling the project once (precompiled figure and the shared mock runner)...\n");
    }
    const js = needsBuild ? precompile() : path.join(BUILD, "js");
    const runner = path.join(js, "offline", "mock-runner.js");
    const devStack = path.join(ROOT, "Pulumi.dev.yaml");
    const previous = JSON.parse(fs.readFileSync(PREVIOUS, "utf8")) as Previous;
    const sections: string[] = [];
    const targets: [string, boolean | undefined, string][] = [];
    const against: string[] = [];
    const compare = (what: string, now: { ms: number; rssMB: number } | undefined, before: { ms: number; rssMB: number } | undefined): void => {
        if (now !== undefined && before !== undefined) {
            against.push(row([what, `${ms(now)}, ${mb(now)}`, `${ms(before)}, ${mb(before)}`]));
        }
    };

    let sectionStart = Date.now();
    const sectionDone = (name: string): void => {
        process.stderr.write(`(${name} took ${((Date.now() - sectionStart) / 60000).toFixed(1)} min)\n`);
        sectionStart = Date.now();
    };

    if (options.sections.has("startup")) {
        process.stderr.write(`Start-up of the dev stack under mocks, cold caches, ${options.startupRuns} runs per variant taking turns:\n`);
        const committed = readRuntimeOptions();
        const { variants, committedKey } = loaderVariants(committed, runner, devStack);
        const precompiledVariant: Variant = { key: "precompiled", how: "precompiled JavaScript (tsc's emit, run by node)", args: [HOST, "-", runner, path.join(js, "index.js"), devStack], compare: true };
        const naiveVariant: Variant = {
            key: "naive",
            how: "naive single file (azure-native root), Pulumi's default (type-checked)",
            args: [HOST, "tsconfig.json", runner, "index.ts", devStack],
            cwd: path.join(ROOT, "bench", "naive"),
            compare: false,
        };
        const results = measureStartup([...variants, naiveVariant], precompiledVariant, options.startupRuns);
        const sample = (key: string): Sample | undefined => {
            const found = results.find((r) => r.variant.key === key);
            return found !== undefined && "sample" in found.outcome ? found.outcome.sample : undefined;
        };
        const precompiled = sample("precompiled");
        if (precompiled === undefined) {
            throw new Error("the precompiled program did not run");
        }
        const lines = [
            "### 1. Start-up of the dev stack under mocks (the Pulumi host's run path, cold caches)",
            "",
            row(["how the host loads the program (Pulumi.yaml `runtime.options`)", "wall time", "CPU time", "peak RSS", "wall / precompiled", "CPU / precompiled", "fastest run / precompiled's", "same run as tsc's emit"]),
            row(["---", "---", "---", "---", "---", "---", "---", "---"]),
        ];
        for (const { variant, outcome, same } of results) {
            if ("error" in outcome) {
                lines.push(row([variant.how, `does not run: ${outcome.error.replace(/\|/g, "\\|")}`, "", "", "", "", "", ""]));
                continue;
            }
            const s = outcome.sample;
            const cpuRatio = s.cpuMs !== undefined && precompiled.cpuMs !== undefined ? ratio(s.cpuMs, precompiled.cpuMs) : "n/a";
            const sameText = variant.key === "precompiled" ? "(reference)" : same === undefined ? "not compared" : same ? "yes" : "**no**";
            const fastest = s.fastestMs !== undefined && precompiled.fastestMs !== undefined ? `${Math.round(s.fastestMs)} ms, ${ratio(s.fastestMs, precompiled.fastestMs)}` : "n/a";
            lines.push(row([variant.how, ms(s), cpu(s), mb(s), ratio(s.ms, precompiled.ms), cpuRatio, fastest, sameText]));
        }
        sections.push(lines.join("\n"));
        const committedResult = results.find((r) => r.variant.key === committedKey);
        const committedSample = sample(committedKey);
        const naive = sample("naive");
        const committedSame = committedResult?.same;
        const fastestRatio = committedSample?.fastestMs !== undefined && precompiled.fastestMs !== undefined ? `, fastest runs ${ratio(committedSample.fastestMs, precompiled.fastestMs)}` : "";
        targets.push([
            "committed start-up within 1.1x of precompiled JS (median wall time; CPU and fastest runs beside it)",
            committedSample === undefined ? false : committedSample.ms <= 1.1 * precompiled.ms,
            committedSample === undefined
                ? "does not run"
                : `${ratio(committedSample.ms, precompiled.ms)} wall, ${committedSample.cpuMs !== undefined && precompiled.cpuMs !== undefined ? ratio(committedSample.cpuMs, precompiled.cpuMs) : "n/a"} CPU${fastestRatio}`,
        ]);
        targets.push(["committed loader runs the same program as tsc's emit (resources, invokes, logs, outputs)", committedSame, committedSame === undefined ? "not compared" : committedSame ? "identical" : "differs"]);
        if (committedSample !== undefined && naive !== undefined) {
            targets.push(["start-up at most 0.3x the naive baseline's Pulumi-default time", committedSample.ms <= 0.3 * naive.ms, ratio(committedSample.ms, naive.ms)]);
            targets.push(["start-up memory at least 3x below the naive baseline", naive.rssMB >= 3 * committedSample.rssMB, `${(naive.rssMB / committedSample.rssMB).toFixed(1)}x less`]);
        }
        compare("start-up: ts-node, transpile only (tsconfig.pulumi.json)", sample("ts-node-transpile"), previous.startup.tsNodeTranspileOnly);
        compare("start-up: ts-node, type-checked (Pulumi's default)", sample("ts-node-check"), previous.startup.tsNodeTypeCheck);
        compare("start-up: precompiled JavaScript", precompiled, previous.startup.precompiled);
        compare("start-up: naive single file, Pulumi's default", naive, previous.startup.naive);
        const committedNow = committedKey === "ts-node-transpile" ? undefined : committedSample;
        if (committedNow !== undefined) {
            against.push(row(["start-up: the committed loader (this run) against the previous committed one (ts-node, transpile only)", `${ms(committedNow)}, ${mb(committedNow)}`, `${ms(previous.startup.tsNodeTranspileOnly)}, ${mb(previous.startup.tsNodeTranspileOnly)}`]));
        }
    }

    if (options.sections.has("startup")) {
        sectionDone("startup");
    }
    if (options.sections.has("typecheck")) {
        process.stderr.write("Type-check:\n");
        const outcomes = takeTurns(
            [
                { key: "project", label: "tsc --noEmit (project)", args: [MEASURE, TSC, "--noEmit", "-p", "tsconfig.json"] },
                { key: "naive", label: "tsc --noEmit (naive)", args: [MEASURE, TSC, "--noEmit", "-p", "bench/naive/tsconfig.json"] },
            ],
            runs,
            ["project", "naive"],
        );
        const [tscProject, tscNaive] = ["project", "naive"].map((key) => {
            const outcome = outcomes.get(key);
            if (outcome === undefined || "error" in outcome) {
                throw new Error(`tsc --noEmit (${key}) did not run`);
            }
            return outcome.sample;
        });
        sections.push(
            [
                "### 2. Type-check (`tsc --noEmit`)",
                "",
                row(["project", "wall time", "CPU time", "peak RSS"]),
                row(["---", "---", "---", "---"]),
                row(["this project (CI type-check)", ms(tscProject), cpu(tscProject), mb(tscProject)]),
                row(["naive single file", ms(tscNaive), cpu(tscNaive), mb(tscNaive)]),
            ].join("\n"),
        );
        targets.push(["tsc --noEmit memory under 0.6x the naive baseline's", tscProject.rssMB < 0.6 * tscNaive.rssMB, ratio(tscProject.rssMB, tscNaive.rssMB)]);
        compare("tsc --noEmit, this project", tscProject, previous.typecheck.project);
        compare("tsc --noEmit, naive single file", tscNaive, previous.typecheck.naive);
    }

    if (options.sections.has("typecheck")) {
        sectionDone("typecheck");
    }
    if (options.sections.has("scaling")) {
        process.stderr.write("Scaling under mocks:\n");
        const program = path.join(js, "index.js");
        const scaling: { workloads: number; real: Sample; floor: Sample }[] = [];
        const committed = readRuntimeOptions();
        const largest = options.sizes[options.sizes.length - 1];
        let noTraces: Sample | undefined;
        let bigHeap: Sample | undefined;
        let throughLoader: Outcome | undefined;
        for (const size of options.sizes) {
            const file = path.join(BUILD, `scale-${size}.yaml`);
            fs.writeFileSync(file, stringify(scaleConfig(size)));
            const graph = path.join(BUILD, `scale-${size}-graph.json`);
            // One untimed run records the graph the floor replays.
            measure(`${size} workloads: recording the graph`, [HOST, "-", runner, program, file], { runs: 1, env: { BENCH_DUMP_GRAPH: graph } });
            const turns: Turn[] = [
                { key: "real", label: `${size} workloads`, args: [HOST, "-", runner, program, file] },
                { key: "floor", label: `${size} workloads: SDK floor`, args: [HOST, "-", runner, path.join(js, "bench", "floor.js"), file], env: { BENCH_FLOOR_GRAPH: graph } },
            ];
            if (size === largest) {
                turns.push(
                    { key: "noTraces", label: `${size} workloads, --stack-trace-limit=0`, args: ["--stack-trace-limit=0", HOST, "-", runner, program, file] },
                    { key: "bigHeap", label: `${size} workloads, --stack-trace-limit=0 --max-old-space-size=4096`, args: ["--stack-trace-limit=0", "--max-old-space-size=4096", HOST, "-", runner, program, file] },
                    // The committed loader at scale: what its source maps and hooks cost per resource.
                    { key: "loader", label: `${size} workloads through the committed loader`, args: hostArgs(committed, runner, file), env: { TS_NODE_CACHE: "false", TSX_DISABLE_CACHE: "1" } },
                );
            }
            const outcomes = takeTurns(turns, runs, ["real", "floor", "noTraces", "bigHeap"]);
            const sampleOf = (key: string): Sample => {
                const outcome = outcomes.get(key);
                if (outcome === undefined || "error" in outcome) {
                    throw new Error(`${size} workloads: ${key} did not run`);
                }
                return outcome.sample;
            };
            const real = sampleOf("real");
            scaling.push({ workloads: size, real, floor: sampleOf("floor") });
            compare(`scaling: ${size} workloads (precompiled)`, real, previous.scaling[String(size)]);
            if (size === largest) {
                noTraces = sampleOf("noTraces");
                bigHeap = sampleOf("bigHeap");
                throughLoader = outcomes.get("loader");
            }
        }
        if (noTraces === undefined || bigHeap === undefined || throughLoader === undefined) {
            throw new Error("the largest size did not run");
        }
        const lines = [
            "### 3. Scaling under mocks (2 clusters, 2 role assignments per workload)",
            "",
            row(["workloads", "resources", "wall time", "peak RSS", "ms / resource", "KB / resource", "SDK floor ms / resource", "program / floor"]),
            row(["---", "---", "---", "---", "---", "---", "---", "---"]),
        ];
        for (const { workloads, real, floor } of scaling) {
            const resources = real.resources ?? 1;
            const perResource = real.ms / resources;
            const floorPerResource = floor.ms / resources;
            lines.push(row([workloads, resources, ms(real), mb(real), perResource.toFixed(2), ((real.rssMB * 1024) / resources).toFixed(0), floorPerResource.toFixed(2), (perResource / floorPerResource).toFixed(2)]));
        }
        const large = scaling[scaling.length - 1];
        const small = scaling.find((s) => s.workloads === 100 && s !== large) ?? scaling[0];
        if (small === large) {
            // One size gives no growth to fit.
            lines.push("", `Fitted growth: needs two sizes or more (measured ${large.workloads} workloads only).`);
            targets.push(["growth exponent under 1.1", undefined, "needs two sizes"]);
        } else {
            const exponent = Math.log(large.real.ms / small.real.ms) / Math.log((large.real.resources ?? 1) / (small.real.resources ?? 1));
            lines.push("", `Fitted growth between ${small.workloads} and ${large.workloads} workloads: time ~ resources^${exponent.toFixed(2)}.`);
            targets.push([`growth exponent under 1.1 (${small.workloads} to ${large.workloads} workloads)`, exponent < 1.1, exponent.toFixed(2)]);
        }
        lines.push(`${largest} workloads with \`--stack-trace-limit=0\`: ${ms(noTraces)}, ${mb(noTraces)}; adding \`--max-old-space-size=4096\`: ${ms(bigHeap)}, ${mb(bigHeap)}.`);
        const largeReal = scaling[scaling.length - 1].real;
        lines.push(
            "error" in throughLoader
                ? `${largest} workloads through the committed loader (${describeRuntime(committed)}): does not run: ${throughLoader.error}.`
                : `${largest} workloads through the committed loader (${describeRuntime(committed)}) instead of precompiled: ${ms(throughLoader.sample)}, ${mb(throughLoader.sample)} (${ratio(throughLoader.sample.ms, largeReal.ms)}).`,
        );
        sections.push(lines.join("\n"));
        targets.push(["cost per resource within 1.2x of the SDK floor", large.real.ms <= 1.2 * large.floor.ms, ratio(large.real.ms, large.floor.ms)]);
        if (largest === 1000) {
            compare("scaling: 1000 workloads with --stack-trace-limit=0", noTraces, previous.noTraces);
            compare("scaling: 1000 workloads, adding --max-old-space-size=4096", bigHeap, previous.bigHeap);
        }
    }

    if (options.sections.has("scaling")) {
        sectionDone("scaling");
    }
    if (options.sections.has("plan")) {
        // Loaded here: they load the Pulumi SDK, which --help and a usage error need not wait for.
        const { buildPlan } = await import("../plan/model");
        const { formatDuration } = await import("../plan/durations");
        const { runCommittedStack } = await import("../offline/mock-runner");
        const paths = await Promise.all(["dev", "staging", "prod"].map(async (stack) => ({ stack, estimate: buildPlan(stack, await runCommittedStack(stack)).deployment })));
        const lines = ["### 4. Modeled deployment critical path (plan/durations.ts)", "", row(["stack", "critical path", "lower bound"]), row(["---", "---", "---"])];
        for (const { stack, estimate } of paths) {
            lines.push(row([stack, formatDuration(estimate.seconds), formatDuration(estimate.lowerBoundSeconds)]));
        }
        sections.push(lines.join("\n"));
        targets.push([
            "every committed stack's critical path equals its lower bound",
            paths.every((p) => p.estimate.seconds === p.estimate.lowerBoundSeconds),
            paths.map((p) => `${p.stack} ${formatDuration(p.estimate.seconds)}`).join(", "),
        ]);
    }

    const minutes = ((Date.now() - began) / 60000).toFixed(0);
    const header = [
        `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node.js ${process.version}, @pulumi/pulumi ${sdkVersion()}.`,
        [
            ...(options.sections.has("startup") ? [`Start-up: medians of ${options.startupRuns} runs per variant, taking turns.`] : []),
            ...(options.sections.has("typecheck") || options.sections.has("scaling") ? [`Type-check and scaling: medians of ${runs} runs.`] : []),
            `Each run a fresh process. Load average (1, 5, 15 min) ${loadBefore} before, ${loadAverage()} after; the bench took ${minutes} min.`,
        ].join(" "),
    ].join("\n");
    const againstSection =
        against.length === 0
            ? []
            : [
                  [
                      "### Against the previous run (Node.js 20)",
                      "",
                      `The previous run: ${previous.machine} Another machine: the two columns compare runtimes and SDKs only roughly.`,
                      "",
                      row(["figure (wall time, peak RSS)", `Node.js ${process.version}, @pulumi/pulumi ${sdkVersion()} (this run)`, "Node.js v20.20.2, @pulumi/pulumi 3.248.0 (previous run)"]),
                      row(["---", "---", "---"]),
                      ...against,
                  ].join("\n"),
              ];
    const targetLines = ["### Targets", "", row(["target", "result", "figure"]), row(["---", "---", "---"]), ...targets.map(([target, met, figure]) => row([target, mark(met), figure]))];
    return `${[header, ...sections, ...againstSection, targetLines.join("\n")].join("\n\n")}\n`;
}

function writeReport(file: string, report: string): void {
    const document = fs.readFileSync(file, "utf8");
    const marker = "<!-- bench output -->";
    const at = document.indexOf(marker);
    fs.writeFileSync(file, `${at < 0 ? `${document}\n${marker}\n` : document.slice(0, at + marker.length)}\n\n${report}`);
    process.stderr.write(`Wrote ${file}\n`);
}

async function main(): Promise<void> {
    // `npm run bench | head`: a closed pipe ends the bench quietly.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE") {
            process.exit(0);
        }
        throw error;
    });
    let options;
    try {
        options = parseBenchArgs(process.argv.slice(2));
    } catch (error) {
        if (error instanceof UsageError) {
            process.stderr.write(`bench: ${error.message} (see --help)\n`);
            process.exit(2);
        }
        throw error;
    }
    if (options === "help") {
        process.stdout.write(USAGE);
        return;
    }
    const report = await bench(options);
    process.stdout.write(report);
    if (options.out !== undefined) {
        writeReport(options.out, report);
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
