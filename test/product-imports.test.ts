import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { productFiles, ROOT } from "../testing/source-files";

/**
 * Product code does not import `testing/`: the plan, the doctor, the bench, the policy pack and
 * the program run on offline/ (the one mock runner and its graph queries), and testing/ holds
 * what only the tests need. Every module specifier is read from the syntax tree (imports,
 * exports, `import x = require()`, `require()`, `import()` calls and `import("...")` types), so
 * neither a comment naming testing/ nor a word in a string counts, and no way of importing slips by.
 */

const TESTING = path.join(ROOT, "testing");

const literal = (node: ts.Node | undefined): string | undefined =>
    node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;

/** Every module specifier a source file names, in source order. */
function moduleSpecifiers(fileName: string, text: string): string[] {
    const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const add = (specifier: string | undefined): void => {
        if (specifier !== undefined) {
            found.push(specifier);
        }
    };
    const visit = (node: ts.Node): void => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
            add(literal(node.moduleSpecifier));
        } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
            add(literal(node.moduleReference.expression));
        } else if (ts.isCallExpression(node)) {
            const callee = node.expression;
            const isRequire = ts.isIdentifier(callee) && callee.text === "require";
            const isRequireResolve = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "require" && callee.name.text === "resolve";
            if (isRequire || isRequireResolve || callee.kind === ts.SyntaxKind.ImportKeyword) {
                add(literal(node.arguments[0]));
            }
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
            add(literal(node.argument.literal));
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

/** Whether a specifier written in `file` resolves into the top-level testing/ folder. */
function importsTesting(file: string, specifier: string): boolean {
    if (!specifier.startsWith(".")) {
        return false;
    }
    const target = path.resolve(path.dirname(file), specifier);
    return target === TESTING || target.startsWith(TESTING + path.sep);
}

describe("product code does not import testing/", () => {
    it("reads every form of import from the syntax tree", () => {
        const text = [
            'import { a } from "../testing/graph";',
            'import type { B } from "../testing/mock-runner";',
            'export * from "./x";',
            'export { c } from "../y";',
            'import z = require("zz");',
            'const r = require("../testing/r");',
            'const p = require.resolve("../testing/p");',
            'const d = import("../testing/d");',
            "const t = import(`../testing/t`);",
            'let u: import("../testing/u").U;',
            '// import { no } from "../testing/comment";',
            'const s = "../testing/string";',
            "const n = require(name);",
        ].join("\n");
        assert.deepEqual(moduleSpecifiers("plan/example.ts", text), ["../testing/graph", "../testing/mock-runner", "./x", "../y", "zz", "../testing/r", "../testing/p", "../testing/d", "../testing/t", "../testing/u"]);
    });

    it("tells a specifier into testing/ from policy/testing and from packages", () => {
        const plan = path.join(ROOT, "plan", "model.ts");
        const cases: [string, string, boolean][] = [
            [plan, "../testing/mock-runner", true],
            [plan, "../testing", true],
            [path.join(ROOT, "index.ts"), "./testing/graph", true],
            [path.join(ROOT, "bench", "run.ts"), "../testing/../testing/graph", true],
            [plan, "../offline/mock-runner", false],
            [path.join(ROOT, "policy", "aks.ts"), "./testing", false],
            [plan, "../testing-helpers/x", false],
            [plan, "testing", false],
            [plan, "@pulumi/pulumi/testing", false],
        ];
        for (const [file, specifier, expected] of cases) {
            assert.equal(importsTesting(file, specifier), expected, `${path.relative(ROOT, file)}: ${specifier}`);
        }
    });

    it("finds the product files, and none of them imports testing/", () => {
        const files = productFiles();
        for (const expected of ["index.ts", "plan/model.ts", "policy/evaluate.ts", "doctor/bindings.ts", "bench/run.ts", "bench/host.cjs", "tools/plan.ts", "offline/mock-runner.ts", "register-ts.cjs"]) {
            assert.ok(files.includes(expected), `${expected} is not among the product files: ${files.join(", ")}`);
        }
        for (const excluded of ["test/", "testing/", "node_modules/", "bench/naive/"]) {
            assert.deepEqual(files.filter((file) => file.startsWith(excluded)), [], `files under ${excluded} counted as product code`);
        }
        const offending = files.flatMap((file) =>
            moduleSpecifiers(file, readFileSync(path.join(ROOT, file), "utf8"))
                .filter((specifier) => importsTesting(path.join(ROOT, file), specifier))
                .map((specifier) => `${file} imports ${specifier}`),
        );
        assert.deepEqual(offending, [], "product code imports testing/ (move what it needs to offline/)");
    });
});
