import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { parse } from "yaml";
import { flattenConfig, lastRun, runCommittedStack, runStack } from "../testing/mock-runner";

/**
 * The catalog of refused configs (test/catalog/invalid-configs.yaml): every case runs through the
 * real program under mocks, must fail with exactly its lines and register nothing but the stack.
 * The program reads the Kubernetes version table for the real date; here the clock is pinned (to
 * the catalog's `today`, or a case's own), so the messages do not change with the calendar.
 */

type Config = Record<string, unknown>;

interface Case {
    title: string;
    set?: Config;
    unset?: string[];
    /** The day the program runs on (`YYYY-MM-DD`). Default: the catalog's `today`. */
    today?: string;
    errors?: string[];
    warnings?: string[];
}

interface Catalog {
    today: string;
    base: Config;
    cases: Case[];
    warnings: Case[];
    /** The warnings each committed stack deploys with (its placeholders, its deprecated keys). */
    committed: Record<string, string[]>;
}

const catalog = parse(readFileSync(path.join(__dirname, "catalog", "invalid-configs.yaml"), "utf8")) as Catalog;

function merged(entry: Case): Config {
    const config: Config = { ...catalog.base, ...(entry.set ?? {}) };
    for (const key of entry.unset ?? []) {
        delete config[key];
    }
    return config;
}

function configOf(entry: Case): Record<string, string> {
    return flattenConfig(merged(entry));
}

function expectedMessage(lines: readonly string[]): string {
    const count = lines.length === 1 ? "1 problem" : `${lines.length} problems`;
    return [`Invalid stack config (${count}); nothing was created:`, ...lines.map((line) => `  - ${line}`)].join("\n");
}

function pinClock(day: string): void {
    mock.timers.setTime(Date.parse(`${day}T12:00:00Z`));
}

before(() => {
    mock.timers.enable({ apis: ["Date"], now: Date.parse(`${catalog.today}T12:00:00Z`) });
});

after(() => {
    mock.timers.reset();
});

describe("the catalog of refused configs", () => {
    it("has at least 40 distinct cases", () => {
        assert.ok(catalog.cases.length >= 40, `${catalog.cases.length} cases`);
        assert.equal(new Set(catalog.cases.map((c) => c.title)).size, catalog.cases.length, "titles are distinct");
        assert.equal(new Set(catalog.cases.map((c) => JSON.stringify([c.today, configOf(c)]))).size, catalog.cases.length, "configs are distinct");
    });

    for (const entry of catalog.cases) {
        it(entry.title, async () => {
            assert.ok(entry.errors && entry.errors.length > 0, "the case lists its errors");
            pinClock(entry.today ?? catalog.today);
            await assert.rejects(runStack({ stack: "dev", config: configOf(entry) }), (error: Error) => {
                assert.equal(error.message, expectedMessage(entry.errors ?? []));
                return true;
            });
            assert.deepEqual(lastRun()?.resources.map((r) => r.type), ["pulumi:pulumi:Stack"], "nothing but the stack was registered");
        });
    }
});

/** The value a reported path (`<namespace>:<key>.<segment>...`) points at in a case's config. */
function valueAt(config: Config, reported: string): { found: boolean; value: unknown } {
    const [root, ...segments] = reported.split(".");
    let value: unknown = config[root];
    let found = root in config;
    for (const segment of segments) {
        if (typeof value !== "object" || value === null || !(segment in value)) {
            return { found: false, value: undefined };
        }
        value = (value as Record<string, unknown>)[segment];
        found = true;
    }
    return { found, value };
}

describe("every refusal names what it refuses", () => {
    for (const entry of catalog.cases) {
        it(entry.title, () => {
            const config = merged(entry);
            for (const line of entry.errors ?? []) {
                const separator = line.indexOf(": ");
                const reported = line.slice(0, separator);
                const message = line.slice(separator + 2);
                // An unknown or invalid key: the refused thing is the key itself.
                const keyMessage = /^(?:unknown key|invalid key|key) "([^"]+)"|^unknown namespace "([^"]+)"/.exec(message);
                if (keyMessage !== null) {
                    const named = keyMessage[1] ?? keyMessage[2];
                    assert.ok(reported.endsWith(named) || reported.startsWith(`${named}:`), `${line}: names the key it refuses`);
                    continue;
                }
                const { found, value } = valueAt(config, reported);
                if (!found || typeof value === "object") {
                    if (Array.isArray(value) && value.every((item) => typeof item !== "object")) {
                        assert.ok(
                            value.some((item) => message.toLowerCase().includes(String(item).toLowerCase())),
                            `${line}: names one of ${JSON.stringify(value)}`,
                        );
                    }
                    continue;
                }
                // Role names are case-insensitive: "owner" is refused as "Owner".
                const text = typeof value === "string" ? value : JSON.stringify(value);
                assert.ok(message.toLowerCase().includes(text.toLowerCase()), `${line}: names the value ${text}`);
            }
        });
    }
});

describe("accepted with a warning", () => {
    it("the base config deploys without a warning", async () => {
        pinClock(catalog.today);
        const run = await runStack({ stack: "dev", config: configOf({ title: "base" }) });
        assert.deepEqual(run.logs, []);
        assert.ok(run.resources.length > 1, "the base config registers resources");
    });

    for (const entry of catalog.warnings) {
        it(entry.title, async () => {
            pinClock(entry.today ?? catalog.today);
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
        it(`${stack} deploys with a warning for each of its placeholders and deprecated keys, and nothing else`, async () => {
            pinClock(catalog.today);
            const run = await runCommittedStack(stack);
            assert.deepEqual(
                run.logs,
                (catalog.committed[stack] ?? []).map((message) => ({ severity: "warning", message })),
            );
        });
    }
});
