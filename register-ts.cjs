"use strict";
/**
 * How `pulumi up` loads the program's TypeScript: Pulumi.yaml runs the Node.js host with
 * `typescript: false` and `nodeargs: --require ./register-ts.cjs`, so the host `require`s
 * index.ts and this hook compiles each project .ts file, from its current source, as it is
 * required. No type-check here: that is `npm test` (tsc --noEmit).
 *
 * The compiler is esbuild (the one tsx installs), with the compiler options of
 * tsconfig.pulumi.json: target ES2022 and `useDefineForClassFields: false`, so class fields keep
 * tsc's assign-in-constructor semantics. It is faster than ts-node because it loads no
 * TypeScript compiler and, unlike tsx, leaves every other module (.js in node_modules) and
 * Node's own resolution alone. docs/performance.md has the figures; test/project-files.test.ts
 * checks the semantics against tsc's emit.
 *
 * On the first .ts file, the files it imports (relative specifiers, found by a scan) are
 * compiled in one esbuild call; a file the scan missed is compiled on its own, so the scan
 * only decides speed, never what runs. Stack traces point at the .ts source: the host formats
 * them with source-map-support (@pulumi/pulumi/cmd/run requires source-map-support/register),
 * which is handed the compiled files' source maps here.
 */
const Module = require("node:module");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = __dirname;

/** Runs `action` with `vars` in the environment (where the caller has not set them), then restores it. */
function withDefaultEnv(vars, action) {
    const added = Object.keys(vars).filter((name) => !Object.prototype.hasOwnProperty.call(process.env, name));
    for (const name of added) {
        process.env[name] = vars[name];
    }
    try {
        return action();
    } finally {
        for (const name of added) {
            delete process.env[name];
        }
    }
}

// esbuild's synchronous API runs a worker thread by default; one child process per call is
// cheaper here, where one call compiles the whole program. The program's environment is left as
// it was.
const esbuild = withDefaultEnv({ ESBUILD_WORKER_THREADS: "0" }, () => {
    const tsx = path.dirname(require.resolve("tsx/package.json", { paths: [ROOT] }));
    return require(require.resolve("esbuild", { paths: [ROOT, tsx] }));
});
// The esbuild process lives for one compile of a few dozen files: garbage collection only costs it.
const ESBUILD_ENV = { GOGC: "off" };
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.pulumi.json"), "utf8"));
const OPTIONS = {
    format: "cjs",
    target: String(compilerOptions.target).toLowerCase(),
    tsconfigRaw: { compilerOptions },
    sourcemap: "external",
    sourcesContent: false,
    logLevel: "silent",
};

const SPECIFIER = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']*|\.{1,2})["']/gm;

/** The project .ts file a relative specifier names, as Node's CommonJS resolution would find it. */
function resolveSpecifier(from, specifier) {
    const base = path.resolve(path.dirname(from), specifier);
    for (const candidate of [base, `${base}.ts`, path.join(base, "index.ts")]) {
        if (candidate.endsWith(".ts") && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
            return candidate;
        }
    }
    return undefined;
}

/** The .ts files reachable from `entry` through relative imports (a scan: it may miss some). */
function reachable(entry) {
    const found = new Set([entry]);
    const queue = [entry];
    while (queue.length > 0) {
        const file = queue.pop();
        for (const match of fs.readFileSync(file, "utf8").matchAll(SPECIFIER)) {
            const target = resolveSpecifier(file, match[1]);
            if (target !== undefined && !found.has(target) && !target.includes(`${path.sep}node_modules${path.sep}`)) {
                found.add(target);
                queue.push(target);
            }
        }
    }
    return [...found];
}

/** The build options that compile `files` (under ROOT) one by one, each output beside its source. */
function buildOptions(files) {
    return {
        ...OPTIONS,
        absWorkingDir: ROOT,
        outdir: ROOT,
        // Each output sits beside its source, so the source map's relative path is right.
        entryPoints: files.map((file) => ({ in: file, out: path.relative(ROOT, file).replace(/\.ts$/, "") })),
        bundle: false,
        write: false,
    };
}

const programFiles = (entry) => reachable(entry).filter((file) => !path.relative(ROOT, file).startsWith(".."));

/** file.ts -> its source map (JSON text), for stack traces. */
const sourceMaps = new Map();

/** file.ts -> compiled code, from esbuild's outputs (each file's code and source map). */
function compiledMap(outputFiles) {
    const compiled = new Map();
    for (const output of outputFiles) {
        if (output.path.endsWith(".js.map")) {
            sourceMaps.set(output.path.replace(/\.js\.map$/, ".ts"), output.text);
        } else {
            compiled.set(output.path.replace(/\.js$/, ".ts"), output.text);
        }
    }
    return compiled;
}

/** One synchronous esbuild call for the program's files: file -> compiled code. */
function compileProgram(entry) {
    try {
        return compiledMap(withDefaultEnv(ESBUILD_ENV, () => esbuild.buildSync(buildOptions(programFiles(entry)))).outputFiles);
    } catch {
        // A file that does not compile is reported by its own transform below, with its location.
        return new Map();
    }
}

function compileOne(filename) {
    try {
        const source = fs.readFileSync(filename, "utf8");
        const { code, map } = withDefaultEnv(ESBUILD_ENV, () => esbuild.transformSync(source, { ...OPTIONS, loader: "ts", sourcefile: filename }));
        sourceMaps.set(filename, map);
        return code;
    } catch (error) {
        const first = error && Array.isArray(error.errors) ? error.errors[0] : undefined;
        if (first === undefined) {
            throw error;
        }
        const where = first.location ? `${filename}:${first.location.line}:${first.location.column + 1}` : filename;
        // The Pulumi host prints a SyntaxError's message without a JavaScript stack.
        throw new SyntaxError(`${where}: ${first.text}`, { cause: error });
    }
}

/** file -> compiled code, once the program is compiled; each entry is used once. */
let program;

Module._extensions[".ts"] = function loadTypeScript(module, filename) {
    if (program === undefined) {
        program = compileProgram(filename);
    }
    const code = program.get(filename) ?? compileOne(filename);
    program.delete(filename);
    module._compile(code, filename, "commonjs");
};

// The same source-map-support the host registers (@pulumi/pulumi's), so that its stack traces,
// and the source positions Pulumi records for each resource from them, name the .ts lines.
try {
    const pulumi = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [ROOT] }));
    require(require.resolve("source-map-support", { paths: [pulumi] })).install({
        environment: "node",
        handleUncaughtExceptions: false,
        retrieveSourceMap: (source) => (sourceMaps.has(source) ? { url: source, map: sourceMaps.get(source) } : null),
    });
} catch {
    // Without the Pulumi SDK there is no host to format stack traces for.
}
