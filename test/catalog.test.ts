import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { flattenConfig, lastRun, runCommittedStack, runStack } from "../testing/mock-runner";

/**
 * The catalog of refused configs (test/catalog/invalid-configs.yaml): every case runs through the
 * real program under mocks, must fail with exactly its lines and register nothing but the stack.
 */

type Config = Record<string, unknown>;

interface Case {
    title: string;
    set?: Config;
    unset?: string[];
    errors?: string[];
    warnings?: string[];
}

interface Catalog {
    base: Config;
    cases: Case[];
    warnings: Case[];
}

const catalog = parse(readFileSync(path.join(__dirname, "catalog", "invalid-configs.yaml"), "utf8")) as Catalog;

function configOf(entry: Case): Record<string, string> {
    const config: Config = { ...catalog.base, ...(entry.set ?? {}) };
    for (const key of entry.unset ?? []) {
        delete config[key];
    }
    return flattenConfig(config);
}

function expectedMessage(lines: readonly string[]): string {
    const count = lines.length === 1 ? "1 problem" : `${lines.length} problems`;
    return [`Invalid stack config (${count}); nothing was created:`, ...lines.map((line) => `  - ${line}`)].join("\n");
}

describe("the catalog of refused configs", () => {
    it("has at least 40 distinct cases", () => {
        assert.ok(catalog.cases.length >= 40, `${catalog.cases.length} cases`);
        assert.equal(new Set(catalog.cases.map((c) => c.title)).size, catalog.cases.length, "titles are distinct");
        assert.equal(new Set(catalog.cases.map((c) => JSON.stringify(configOf(c)))).size, catalog.cases.length, "configs are distinct");
    });

    for (const entry of catalog.cases) {
        it(entry.title, async () => {
            assert.ok(entry.errors && entry.errors.length > 0, "the case lists its errors");
            await assert.rejects(runStack({ stack: "dev", config: configOf(entry) }), (error: Error) => {
                assert.equal(error.message, expectedMessage(entry.errors ?? []));
                return true;
            });
            assert.deepEqual(lastRun()?.resources.map((r) => r.type), ["pulumi:pulumi:Stack"], "nothing but the stack was registered");
        });
    }
});

describe("accepted with a warning", () => {
    it("the base config deploys without a warning", async () => {
        const run = await runStack({ stack: "dev", config: configOf({ title: "base" }) });
        assert.deepEqual(run.logs, []);
        assert.ok(run.resources.length > 1);
    });

    for (const entry of catalog.warnings) {
        it(entry.title, async () => {
            const run = await runStack({ stack: "dev", config: configOf(entry) });
            assert.deepEqual(
                run.logs,
                (entry.warnings ?? []).map((message) => ({ severity: "warning", message })),
            );
            assert.ok(run.resources.some((r) => r.type === "azure-native:containerservice:ManagedCluster"), "the stack still deploys");
        });
    }
});

describe("the committed stacks", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack} deploys without a problem or a warning`, async () => {
            const run = await runCommittedStack(stack);
            assert.deepEqual(run.logs, []);
        });
    }
});
