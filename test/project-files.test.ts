import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import ts from "typescript";
import { parse } from "yaml";
import { parseStackConfig, rawStackConfig } from "../stacks/config";
import { loadStackFile, stackFilePath } from "../testing/mock-runner";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");
const PROJECT = "aks-workload-identity";

interface ConfigDeclaration {
    type?: string;
    items?: { type: string };
    description?: string;
    default?: unknown;
    value?: unknown;
}

interface ProjectFile {
    name: string;
    runtime: { name: string; options: { typescript?: boolean; tsconfig?: string; nodeargs?: string } };
    options?: { refresh?: string };
    backend?: unknown;
    template?: { displayName?: string; description?: string; config?: Record<string, { description?: string; default?: string; secret?: boolean }> };
    config?: Record<string, ConfigDeclaration>;
}

const project = parse(read("Pulumi.yaml")) as ProjectFile;

/** A node process with no NODE_OPTIONS of the caller's (the tests run under tsx). */
function node(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const result = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the project files the Pulumi CLI reads", () => {
    it("name the project, load the TypeScript with register-ts.cjs, refresh always, and no backend", () => {
        assert.equal(project.name, PROJECT);
        assert.equal(project.runtime.name, "nodejs");
        // The Pulumi Node.js host (@pulumi/pulumi cmd/run) loads ts-node only when `typescript` is on.
        assert.deepEqual(project.runtime.options, { typescript: false, nodeargs: "--require ./register-ts.cjs" });
        assert.ok(existsSync(path.join(ROOT, "register-ts.cjs")), "the hook nodeargs names is committed");
        // pulumi/pulumi sdk/go/common/workspace/project.json: options.refresh is the const "always".
        assert.equal(project.options?.refresh, "always");
        // A committed backend.url would override the backend a pipeline selects.
        assert.equal(project.backend, undefined);
    });

    it("compile the program the host runs with the same semantics as the type-check, without checking", () => {
        const strip = (text: string) => JSON.parse(text) as { compilerOptions: Record<string, unknown>; files?: string[] };
        const host = strip(read("tsconfig.pulumi.json"));
        const check = strip(read("tsconfig.json"));
        // Also what ts-node would do, should typescript be turned back on: transpile only.
        assert.equal(host.compilerOptions.noCheck, true);
        assert.deepEqual(host.files, ["index.ts"]);
        for (const option of ["module", "moduleResolution", "strict", "useDefineForClassFields", "esModuleInterop", "target"]) {
            assert.equal(host.compilerOptions[option], check.compilerOptions[option], option);
        }
        assert.equal(host.compilerOptions.useDefineForClassFields, false);
    });

    it("keep Node.js and TypeScript where Pulumi's runtime needs them", () => {
        const pkg = JSON.parse(read("package.json")) as { engines: { node: string }; devDependencies: Record<string, string>; main: string };
        assert.equal(pkg.engines.node, ">=22");
        assert.equal(pkg.devDependencies.typescript, "~5.9");
        assert.equal(pkg.devDependencies["@types/node"], "^24.19.4");
        // register-ts.cjs uses the esbuild that tsx brings.
        assert.equal(typeof pkg.devDependencies.tsx, "string", "tsx is a devDependency");
        assert.equal(pkg.main, "index.ts");
    });

    it("pin Node.js 24 LTS in one place per tool: version managers, CI's installer and the runtime that runs the tests", () => {
        assert.equal(read(".nvmrc").trim(), "24");
        assert.equal(read(".node-version").trim(), "24");
        const installer = read(".ci/node.sh");
        assert.match(installer, /^NODE_VERSION=24\.\d+\.\d+$/m, "CI installs a pinned 24.x");
        assert.match(installer, /^NODE_INTEGRITY=sha512-[A-Za-z0-9+/=]+$/m, "the tarball is checked against the registry's integrity");
        assert.match(read(".ci/run"), /^source \.ci\/node\.sh$/m, ".ci/run puts the pinned Node.js first on PATH");
        assert.match(read(".gitignore"), /^\.tools\/$/m, "the installed Node.js is not committed");
        assert.equal(process.versions.node.split(".")[0], "24", `the tests run on Node.js 24, not ${process.versions.node}`);
    });
});

/**
 * A fixture of the TypeScript whose emit differs between compilers and settings: class fields
 * under useDefineForClassFields false (a declared-only field, an initializer over an inherited
 * setter, parameter properties before initializers), enums, `import =` and `export =`,
 * esModuleInterop, and a file only a computed require reaches.
 */
const FIXTURE: Readonly<Record<string, string>> = {
    "main.ts": [
        'import * as shapes from "./shapes";',
        'import plainDefault from "./plain.js";',
        'import * as plainNamespace from "./plain.js";',
        'import legacy = require("./legacy");',
        'import { Color, Flags } from "./enums";',
        'const dynamicName = "dynamic";',
        "// A computed specifier: the hook's scan cannot see it, so the file is compiled on its own.",
        'const dynamic = require("./" + dynamicName) as { value: string };',
        "export = {",
        "    derivedKeepsBaseValue: new shapes.Derived().value ?? null,",
        "    setterSeen: new shapes.Sub().seen,",
        "    subName: new shapes.Sub().name,",
        "    parameterBeforeField: new shapes.P(1).a,",
        "    staticField: shapes.P.created,",
        "    color: Color.Green,",
        "    colorName: Color[Color.Green],",
        "    flag: Flags.B,",
        "    legacy: legacy.answer,",
        "    plainDefault: typeof plainDefault,",
        "    plainNamespaceDefault: typeof plainNamespace.default,",
        "    dynamic: dynamic.value,",
        "};",
        "",
    ].join("\n"),
    "shapes.ts": [
        'export class Base { value: string = "base"; }',
        "export class Derived extends Base { value!: string; }",
        "export class WithSetter {",
        "    seen: string[] = [];",
        '    get name(): string { return "getter"; }',
        "    set name(value: string) { this.seen.push(value); }",
        "}",
        '// @ts-expect-error TS2610: an initializer over an inherited accessor; tsc still emits it.',
        'export class Sub extends WithSetter { name = "field"; }',
        "export class P {",
        '    static created = "static";',
        "    a = this.b + 1;",
        "    constructor(public b: number) {}",
        "}",
        "",
    ].join("\n"),
    "enums.ts": "export enum Color { Red, Green }\nexport const enum Flags { A = 1, B = 2 }\n",
    "legacy.ts": "const answer: number = 42;\nexport = { answer };\n",
    "plain.js": 'module.exports = function plain() { return "plain"; };\n',
    "dynamic.ts": 'export const value: string = "compiled on its own";\n',
    "error.ts": ["export function boom(): never {", "    const reason: string = 'on line 3';", "    throw new Error(reason);", "}", ""].join("\n"),
};

/** What tsc's emit of the fixture gives, by property: the reference the hook must match. */
const EXPECTED = {
    derivedKeepsBaseValue: "base",
    setterSeen: ["field"],
    subName: "getter",
    parameterBeforeField: 2,
    staticField: "static",
    color: 1,
    colorName: "Green",
    flag: 2,
    legacy: 42,
    plainDefault: "function",
    plainNamespaceDefault: "function",
    dynamic: "compiled on its own",
};

describe("register-ts.cjs, the loader Pulumi.yaml commits", () => {
    // The hook compiles files under its own directory in one call: a copy of it, with the
    // fixture beside it and this project's node_modules, runs exactly as it runs here.
    let dir: string;
    before(() => {
        dir = mkdtempSync(path.join(os.tmpdir(), "register-ts-"));
        copyFileSync(path.join(ROOT, "register-ts.cjs"), path.join(dir, "register-ts.cjs"));
        copyFileSync(path.join(ROOT, "tsconfig.pulumi.json"), path.join(dir, "tsconfig.pulumi.json"));
        symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
        mkdirSync(path.join(dir, "fixture"));
        for (const [file, text] of Object.entries(FIXTURE)) {
            writeFileSync(path.join(dir, "fixture", file), text);
        }
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const hook = (script: string) => node(["--require", "./register-ts.cjs", "-e", script], dir);

    it("runs the fixture as tsc's emit does (useDefineForClassFields false, enums, export =, esModuleInterop)", () => {
        // tsc's emitter, with the compiler options tsconfig.pulumi.json gives the program.
        const { compilerOptions } = JSON.parse(read("tsconfig.pulumi.json")) as { compilerOptions: Record<string, unknown> };
        const { options, errors } = ts.convertCompilerOptionsFromJson({ ...compilerOptions, noCheck: false, sourceMap: false }, ROOT);
        assert.deepEqual(errors, []);
        const emitted = path.join(dir, "tsc");
        mkdirSync(emitted);
        for (const [file, text] of Object.entries(FIXTURE)) {
            const out = file.endsWith(".ts") ? ts.transpileModule(text, { compilerOptions: options, fileName: file }).outputText : text;
            writeFileSync(path.join(emitted, file.replace(/\.ts$/, ".js")), out);
        }
        const byTsc = node(["-e", 'console.log(JSON.stringify(require("./tsc/main.js")))'], dir);
        assert.equal(byTsc.status, 0, byTsc.stderr);
        assert.deepEqual(JSON.parse(byTsc.stdout), EXPECTED, "the fixture's expectations are tsc's");

        const byHook = hook('console.log(JSON.stringify(require("./fixture/main.ts")))');
        assert.equal(byHook.status, 0, byHook.stderr);
        assert.deepEqual(JSON.parse(byHook.stdout), EXPECTED);
    });

    it("points a stack trace at the .ts source line through the source-map-support the host registers", () => {
        // @pulumi/pulumi/cmd/run requires source-map-support/register before it runs the program.
        const result = hook('require("source-map-support/register"); try { require("./fixture/error.ts").boom(); } catch (e) { console.log(e.stack.split("\\n")[1]); }');
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /fixture[/\\]error\.ts:3:\d+\)$/m);
    });

    it("reports a syntax error as a SyntaxError naming the file, line and column", () => {
        writeFileSync(path.join(dir, "fixture", "broken.ts"), "export const x: number = ;\n");
        const result = hook('require("./fixture/broken.ts")');
        assert.equal(result.status, 1);
        assert.ok(result.stderr.includes(`SyntaxError: ${path.join(dir, "fixture", "broken.ts")}:1:26: Unexpected ";"`), result.stderr);
    });

    it("leaves the program's environment as it was", () => {
        const result = hook('require("./fixture/main.ts"); console.log(JSON.stringify([process.env.GOGC, process.env.ESBUILD_WORKER_THREADS]))');
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout.trim(), "[null,null]");
    });

    it("runs a program without import cycles, where esbuild's CommonJS exports behave as tsc's", () => {
        // esbuild replaces module.exports by an object of getters before the module body runs,
        // tsc fills in `exports` as it goes: the two differ only inside an import cycle.
        const cycles: string[] = [];
        const done = new Set<string>();
        const stack: string[] = [];
        const visit = (file: string): void => {
            if (stack.includes(file)) {
                cycles.push([...stack.slice(stack.indexOf(file)), file].map((f) => path.relative(ROOT, f)).join(" -> "));
                return;
            }
            if (done.has(file)) {
                return;
            }
            stack.push(file);
            for (const fileName of runtimeImports(file)) {
                const resolved = fileName.startsWith(".") ? ts.resolveModuleName(fileName, file, { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }, ts.sys).resolvedModule : undefined;
                if (resolved !== undefined && !resolved.isExternalLibraryImport && resolved.extension === ".ts") {
                    visit(path.resolve(resolved.resolvedFileName));
                }
            }
            stack.pop();
            done.add(file);
        };
        visit(path.join(ROOT, "index.ts"));
        assert.ok(done.size > 10, `the scan found the program's files (${done.size})`);
        assert.deepEqual(cycles, []);
    });
});

/**
 * The specifiers a file imports at run time: `import type`, `export type` and imports of types
 * only are left out (both compilers erase them); `import x = require()`, `require()` and
 * `import()` count.
 */
function runtimeImports(file: string): string[] {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
            const clause = node.importClause;
            const bindings = clause?.namedBindings;
            const typesOnly =
                clause !== undefined &&
                (clause.isTypeOnly || (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)));
            if (!typesOnly) {
                found.push(node.moduleSpecifier.text);
            }
        } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
            found.push(node.moduleSpecifier.text);
        } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
            found.push(node.moduleReference.expression.text);
        } else if (
            ts.isCallExpression(node) &&
            (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
            node.arguments[0] !== undefined &&
            ts.isStringLiteral(node.arguments[0])
        ) {
            found.push(node.arguments[0].text);
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

/** Whether a stack file's value has a declared Pulumi config type, as the CLI checks it (pulumi/pulumi sdk/go/common/workspace/project.go, ValidateConfigValue). */
function hasPulumiType(type: string, items: { type: string } | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return Number.isInteger(value) || (typeof value === "string" && /^-?\d+$/.test(value));
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((item) => hasPulumiType(items.type, undefined, item));
        default:
            return false;
    }
}

/** The value the CLI hands the program for a declared default (pulumi/pulumi pkg/workspace/config.go, createConfigValue). */
function asConfigValue(value: unknown): string {
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

/** The top-level keys of `stackSchema` in stacks/config.ts, read from its source. */
function schemaKeys(): string[] {
    const source = ts.createSourceFile("config.ts", read("stacks/config.ts"), ts.ScriptTarget.ES2022, true);
    let keys: string[] | undefined;
    const visit = (node: ts.Node): void => {
        if (ts.isVariableDeclaration(node) && node.name.getText() === "stackSchema" && node.initializer !== undefined && ts.isCallExpression(node.initializer)) {
            const literal = node.initializer.arguments[0];
            if (literal !== undefined && ts.isObjectLiteralExpression(literal)) {
                keys = literal.properties.map((property) => property.name?.getText() ?? "");
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    assert.ok(keys !== undefined && keys.length > 0, "stacks/config.ts declares stackSchema as z.strictObject({ ... })");
    return keys;
}

/** The program's keys the Pulumi.yaml `config:` leaves out, and why no default could stand for them. */
const UNDECLARED: Readonly<Record<string, string>> = {
    resourceGroupName: "left out, the stack creates its resource group; any value adopts an existing one",
    environment: "left out, the stack's name",
};

describe("Pulumi.yaml `config:` and `template:` against the program's config", () => {
    const declared = project.config ?? {};
    const programKeys = schemaKeys();
    const stacks = ["dev", "staging", "prod"].map((stack) => ({
        stack,
        values: (parse(read(`Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> }).config,
        flat: loadStackFile(stackFilePath(stack)),
    }));

    it("declares only keys the program reads, in the project's namespace", () => {
        assert.ok(programKeys.includes("clusters") && programKeys.includes("location"), `stackSchema's keys: ${programKeys.join(", ")}`);
        for (const key of Object.keys(declared)) {
            assert.ok(!key.includes(":"), `${key}: a key of another namespace takes a value that every stack would get`);
            assert.ok(programKeys.includes(key) && key !== "location", `${key} is not a key stacks/config.ts reads (${programKeys.join(", ")})`);
            assert.equal(typeof declared[key].description, "string", `${key} has a description`);
        }
        for (const key of Object.keys(UNDECLARED)) {
            assert.ok(programKeys.includes(key), `${key} (left out on purpose) is a key the program reads`);
            assert.equal(declared[key], undefined, `${key} is left out: ${UNDECLARED[key]}`);
        }
    });

    it("declares every key the committed stack files use, with the type their values have", () => {
        for (const { stack, values } of stacks) {
            for (const [fullKey, value] of Object.entries(values)) {
                if (fullKey === "azure-native:location") {
                    // The program reads location from the provider's key; `pulumi new` asks for it.
                    assert.ok(project.template?.config?.[fullKey] !== undefined, "the template asks for azure-native:location");
                    continue;
                }
                assert.ok(fullKey.startsWith(`${PROJECT}:`), `${stack}: ${fullKey} is in the project's namespace`);
                const key = fullKey.slice(PROJECT.length + 1);
                if (UNDECLARED[key] !== undefined) {
                    continue;
                }
                const declaration = declared[key];
                assert.ok(declaration !== undefined, `Pulumi.${stack}.yaml uses ${fullKey}, which Pulumi.yaml does not declare`);
                if (declaration.type !== undefined) {
                    assert.ok(hasPulumiType(declaration.type, declaration.items, value), `Pulumi.${stack}.yaml: ${fullKey} is not of the declared type ${declaration.type}`);
                }
            }
        }
    });

    it("gives each declared default the program's own: the default changes nothing the program reads", () => {
        const dev = stacks[0].flat;
        for (const [key, declaration] of Object.entries(declared)) {
            const fullKey = `${PROJECT}:${key}`;
            const without = Object.fromEntries(Object.entries(dev).filter(([k]) => k !== fullKey));
            const absent = parseStackConfig(rawStackConfig(without), "dev");
            if (declaration.default === undefined) {
                // Without a default the CLI refuses a stack that lacks the key: so must the program.
                assert.ok("problems" in absent && absent.problems.some((p) => p.path.startsWith(fullKey)), `${key} has no default, but the program runs without it`);
                continue;
            }
            if (declaration.type !== undefined) {
                assert.ok(hasPulumiType(declaration.type, declaration.items, declaration.default), `${key}: the default is not of type ${declaration.type}`);
            }
            const defaulted = parseStackConfig(rawStackConfig({ ...without, [fullKey]: asConfigValue(declaration.default) }), "dev");
            assert.deepEqual(defaulted, absent, `${key}: default ${JSON.stringify(declaration.default)} is not what the program does without the key`);
        }
    });

    it("leaves clusters untyped: `pulumi new` stores the template's answer as a JSON string", () => {
        assert.ok(declared.clusters !== undefined, "clusters is declared");
        assert.equal(declared.clusters.type, undefined);
        assert.equal(declared.clusters.default, undefined, "every stack must say which clusters it has");
    });

    it("asks a new stack for its location, admin group and IP range, and refuses the unanswered placeholders", () => {
        const template = project.template?.config ?? {};
        assert.deepEqual(Object.keys(template).sort(), ["aks-workload-identity:clusters", "azure-native:location"]);
        const clusters = template["aks-workload-identity:clusters"];
        assert.match(clusters.description ?? "", /ADMIN-GROUP-OBJECT-ID/);
        assert.match(clusters.description ?? "", /CALLER-IP-RANGE/);
        // As `pulumi new` stores the answers: plain strings, the clusters value JSON text.
        const answers = (clustersValue: string) => ({ "azure-native:location": String(template["azure-native:location"].default), "aks-workload-identity:clusters": clustersValue });
        const unanswered = parseStackConfig(rawStackConfig(answers(String(clusters.default))), "dev");
        assert.ok("problems" in unanswered, "the placeholders are refused");
        assert.deepEqual(unanswered.problems.map((p) => p.path).sort(), [
            "aks-workload-identity:clusters.main.adminGroupObjectIds.0",
            "aks-workload-identity:clusters.main.authorizedIpRanges.0",
        ]);
        const answered = String(clusters.default).replace("ADMIN-GROUP-OBJECT-ID", "0f8e2c4d-3b1a-4e5f-9a7b-6c5d4e3f2a1b").replace("CALLER-IP-RANGE", "198.51.100.7/32");
        const result = parseStackConfig(rawStackConfig(answers(answered)), "dev");
        assert.ok("config" in result, `the answered template is a valid stack: ${JSON.stringify("problems" in result ? result.problems : [])}`);
        assert.deepEqual(result.config.clusters.main.adminGroupObjectIds, ["0f8e2c4d-3b1a-4e5f-9a7b-6c5d4e3f2a1b"]);
        assert.deepEqual(result.config.clusters.main.authorizedIpRanges, ["198.51.100.7/32"]);
    });

    it("pins a Pulumi CLI that knows `type: object` (3.186.0, pulumi/pulumi#20129)", { skip: !existsSync(path.join(ROOT, ".pulumi-version")) && "no .pulumi-version on this branch" }, () => {
        const [major, minor] = read(".pulumi-version").trim().split(".").map(Number);
        assert.ok(major > 3 || (major === 3 && minor >= 186), `.pulumi-version ${read(".pulumi-version").trim()}`);
    });
});
