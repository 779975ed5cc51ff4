"use strict";
/**
 * Runs a Pulumi program the way the Pulumi Node.js host (@pulumi/pulumi/cmd/run) does - the same
 * modules loaded first (instrumentation, source-map-support, the V8 inspector hooks, run.js), the
 * same TypeScript require path, ts-node registration and options - but against the project's mock
 * runner instead of an engine, then prints what it cost. One fresh process per measurement.
 *
 *   node bench/host.cjs <tsconfig path | -> <mock runner module> <program module> <stack config file>
 *
 * "-" skips ts-node: a precompiled program, or TypeScript left to the node arguments before this
 * script (`typescript: false` with a `--require`/`--import` hook), as the host leaves it.
 * PULUMI_NODEJS_TRANSPILE_ONLY is honoured as the host honours it. Prints one JSON line:
 * { resources, maxRssKB, programMs }. With BENCH_DUMP_GRAPH set, also writes the recorded
 * resources to that file; with BENCH_DUMP_RUN set, the whole record (resources, invokes, logs,
 * outputs), which the bench compares with the precompiled program's.
 */
const fs = require("node:fs");
const path = require("node:path");

const [tsConfigPath, runnerModule, programModule, stackFile] = process.argv.slice(2);
const sdk = (module) => require(require.resolve(module, { paths: [process.cwd()] }));

// As @pulumi/pulumi/cmd/run/index.js does before it runs the program: OpenTelemetry's gRPC
// instrumentation (inert without TRACEPARENT) and source-map-support, which formats every stack
// trace from then on; then the V8 inspector hooks closure serialization needs (a debugger
// session that hears of every script parsed), and run.js with what it loads.
sdk("@pulumi/pulumi/cmd/run/instrumentation");
require(require.resolve("source-map-support/register", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }))] }));

/** What run.js loads (its own module would start cmd/run's main, which wants an engine). */
function loadRunDependencies() {
    const runJs = require.resolve("@pulumi/pulumi/cmd/run/run.js", { paths: [process.cwd()] });
    const requireFromRun = require("node:module").createRequire(runJs);
    for (const [, specifier] of fs.readFileSync(runJs, "utf8").matchAll(/\brequire\("([^"]+)"\)/g)) {
        if (specifier !== ".") {
            requireFromRun(specifier);
        }
    }
}

async function prepare() {
    await sdk("@pulumi/pulumi/runtime/closure/v8Hooks").isInitializedAsync();
    loadRunDependencies();
    if (tsConfigPath !== "-") {
        registerTsNode();
    }
}

function registerTsNode() {
    // As @pulumi/pulumi/cmd/run/run.js does for a TypeScript program outside ESM mode.
    const tsutils = sdk("@pulumi/pulumi/tsutils");
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = env ? env === "true" : compilerOptions.noCheck;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const ts = require(typescriptRequire);
    const [major, minor] = ts.version.split(".").map(Number);
    const useNodeNext = major > 4 || (major === 4 && minor >= 7);
    require(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly,
        project: tsConfigPath,
        skipProject: !fs.existsSync(tsConfigPath),
        compilerOptions: {
            target: "ES2020",
            module: useNodeNext ? "nodenext" : "commonjs",
            moduleResolution: useNodeNext ? "nodenext" : "node",
            sourceMap: "true",
            ...compilerOptions,
        },
    });
}

const started = performance.now();
const programPath = path.resolve(programModule);
prepare()
    .then(() => {
        const runner = require(path.resolve(runnerModule));
        return runner.runStack({
            stack: "dev",
            config: runner.loadStackFile(path.resolve(stackFile)),
            program: () => {
                const exported = require(programPath);
                return typeof exported === "function" ? exported() : exported;
            },
        });
    })
    .then((run) => {
        if (process.env.BENCH_DUMP_GRAPH) {
            // The floor replays exactly these resources (bench/floor.ts).
            fs.writeFileSync(process.env.BENCH_DUMP_GRAPH, JSON.stringify(run.resources));
        }
        if (process.env.BENCH_DUMP_RUN) {
            const { resources, invokes, logs, outputs } = run;
            fs.writeFileSync(process.env.BENCH_DUMP_RUN, JSON.stringify({ resources, invokes, logs, outputs }));
        }
        process.stdout.write(
            `${JSON.stringify({ resources: run.resources.length, maxRssKB: process.resourceUsage().maxRSS, programMs: Math.round(performance.now() - started) })}\n`,
        );
    })
    .catch((error) => {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    });
