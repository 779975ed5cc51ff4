"use strict";
/**
 * Runs a Pulumi program the way the Pulumi Node.js host (@pulumi/pulumi/cmd/run) does - the same
 * TypeScript require path, ts-node registration and options - but against the project's mock
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

if (tsConfigPath !== "-") {
    // As @pulumi/pulumi/cmd/run/run.js does for a TypeScript program outside ESM mode.
    const tsutils = require("@pulumi/pulumi/tsutils");
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
const runner = require(path.resolve(runnerModule));
const programPath = path.resolve(programModule);
runner
    .runStack({
        stack: "dev",
        config: runner.loadStackFile(path.resolve(stackFile)),
        program: () => {
            const exported = require(programPath);
            return typeof exported === "function" ? exported() : exported;
        },
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
