import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");

describe("the project files the Pulumi CLI reads", () => {
    const project = parse(read("Pulumi.yaml")) as {
        name: string;
        runtime: { name: string; options: { typescript: boolean; tsconfig: string } };
        backend?: unknown;
    };

    it("name the project and the transpile-only tsconfig, and no backend", () => {
        assert.equal(project.name, "aks-workload-identity");
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, true);
        assert.equal(project.runtime.options.tsconfig, "tsconfig.pulumi.json");
        // A committed backend.url would override the backend a pipeline selects.
        assert.equal(project.backend, undefined);
    });

    it("compile the program the host runs with the same semantics as the type-check, without checking", () => {
        const strip = (text: string) => JSON.parse(text) as { compilerOptions: Record<string, unknown>; files?: string[] };
        const host = strip(read("tsconfig.pulumi.json"));
        const check = strip(read("tsconfig.json"));
        assert.equal(host.compilerOptions.noCheck, true);
        assert.deepEqual(host.files, ["index.ts"]);
        for (const option of ["module", "moduleResolution", "strict", "useDefineForClassFields", "esModuleInterop", "target"]) {
            assert.equal(host.compilerOptions[option], check.compilerOptions[option], option);
        }
    });

    it("keep Node.js and TypeScript where Pulumi's runtime needs them", () => {
        const pkg = JSON.parse(read("package.json")) as { engines: { node: string }; devDependencies: Record<string, string>; main: string };
        assert.equal(pkg.engines.node, ">=22");
        assert.equal(pkg.devDependencies.typescript, "~5.9");
        assert.equal(pkg.devDependencies["@types/node"], "^24.19.4");
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
