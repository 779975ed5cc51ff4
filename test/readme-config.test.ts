import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { z } from "zod";
import { unwrapSchema } from "../stacks/config-problems";
import { stackSchema } from "../stacks/config";

/**
 * README's "Config reference" against the schema the program parses with: every key the code
 * accepts is documented, nothing documented is unknown to the code, inline shapes (`{ a, b? }`)
 * list exactly the fields with their optionality, and every table renders (a header, a separator,
 * the same number of cells in each row, no blank line inside).
 */

const README = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

function configSection(): string[] {
    const lines = README.split("\n");
    const start = lines.indexOf("## Config reference");
    assert.ok(start >= 0, "README has a Config reference section");
    const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
    return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The cells of a table row; `\|` inside a cell is not a separator. */
function cells(row: string): string[] {
    return row
        .trim()
        .replace(/^\||\|$/g, "")
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim());
}

interface Table {
    /** The path the table documents, from the `` `clusters.<key>`: `` line above it ("" at the top). */
    readonly prefix: string;
    readonly lines: readonly string[];
}

function tables(section: readonly string[]): Table[] {
    const found: Table[] = [];
    let prefix = "";
    let current: string[] | undefined;
    for (const line of section) {
        const heading = /^`([^`]+)`:$/.exec(line.trim());
        if (heading !== null) {
            prefix = heading[1];
        }
        if (line.startsWith("|")) {
            if (current === undefined) {
                current = [];
                found.push({ prefix, lines: current });
            }
            current.push(line);
        } else {
            current = undefined;
        }
    }
    return found;
}

/** `clusters.<key>.nodePools.<name>` -> `clusters.<>.nodePools.<>`: map keys are placeholders. */
function normalise(documented: string): string {
    return documented.replace(/<[^>]+>/g, "<>").replace(/^azure-native:location$/, "location");
}

/** The field names of an inline shape `{ a, b?, c: X \| Y, d?: [names] }`, with their optionality. */
function shapeFields(type: string): Map<string, boolean> | undefined {
    const open = type.indexOf("{");
    if (open < 0) {
        return undefined;
    }
    let depth = 0;
    let close = -1;
    for (let index = open; index < type.length; index++) {
        depth += type[index] === "{" || type[index] === "[" ? 1 : type[index] === "}" || type[index] === "]" ? -1 : 0;
        if (depth === 0) {
            close = index;
            break;
        }
    }
    const inner = type.slice(open + 1, close);
    const fields = new Map<string, boolean>();
    let part = "";
    depth = 0;
    for (const char of `${inner},`) {
        depth += char === "[" || char === "{" ? 1 : char === "]" || char === "}" ? -1 : 0;
        if (char === "," && depth === 0) {
            const match = /^\s*([A-Za-z]+)(\?)?/.exec(part);
            assert.ok(match !== null, `a field in ${type}`);
            fields.set(match[1], match[2] === "?");
            part = "";
        } else {
            part += char;
        }
    }
    return fields;
}

/** What README documents: each key path, and for inline shapes each field with its optionality. */
function documented(): { keys: Set<string>; optional: Map<string, boolean> } {
    const keys = new Set<string>();
    const optional = new Map<string, boolean>();
    for (const table of tables(configSection())) {
        for (const row of table.lines.slice(2)) {
            const [keyCell, typeCell] = cells(row);
            const key = /^`([^`]+)`$/.exec(keyCell)?.[1];
            assert.ok(key !== undefined, `the key cell of "${row}" is one code span`);
            const full = normalise(table.prefix === "" ? key : `${table.prefix}.${key}`);
            keys.add(full.replace(/\.<>$/, ""));
            for (const [field, isOptional] of shapeFields(typeCell) ?? []) {
                keys.add(`${full}.${field}`);
                optional.set(`${full}.${field}`, isOptional);
            }
        }
    }
    return { keys, optional };
}

function isOptional(schema: z.core.$ZodType): boolean {
    return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault;
}

/** Every key path the schema accepts (map entries as `<>`), with its optionality. */
function schemaKeys(schema: z.core.$ZodType, prefix = "", found = new Map<string, boolean>()): Map<string, boolean> {
    const object = unwrapSchema(schema);
    if (!(object instanceof z.ZodObject)) {
        return found;
    }
    for (const [field, child] of Object.entries<z.core.$ZodType>(object.shape)) {
        const full = prefix === "" ? field : `${prefix}.${field}`;
        found.set(full, isOptional(child));
        const inner = unwrapSchema(child);
        if (inner instanceof z.ZodObject) {
            schemaKeys(inner, full, found);
        } else if (inner instanceof z.ZodRecord) {
            schemaKeys(inner.valueType, `${full}.<>`, found);
        }
    }
    return found;
}

describe("README config reference", () => {
    it("documents every key the schema accepts, and no other", () => {
        const code = schemaKeys(stackSchema);
        const docs = documented();
        assert.deepEqual([...code.keys()].filter((key) => !docs.keys.has(key)), [], "accepted by the code but not documented");
        assert.deepEqual([...docs.keys].filter((key) => !code.has(key)), [], "documented but unknown to the code");
        assert.ok(code.size > 60, `${code.size} keys compared`);
    });

    it("marks exactly the optional fields of inline shapes with ?", () => {
        const code = schemaKeys(stackSchema);
        const { optional } = documented();
        assert.ok(optional.size > 20, `${optional.size} inline fields`);
        for (const [key, isOptionalInDocs] of optional) {
            assert.equal(isOptionalInDocs, code.get(key), `${key}: optional in README exactly when optional in the schema`);
        }
    });

    it("renders every table: a header, a separator, rows of the header's width, no blank line inside", () => {
        const found = tables(configSection());
        assert.deepEqual(found.map((table) => table.prefix), ["", "clusters.<key>", "workloads.<key>"]);
        for (const table of found) {
            const width = cells(table.lines[0]).length;
            assert.match(table.lines[1], /^\|(\s*:?-+:?\s*\|)+$/, `${table.prefix || "top"}: the second line is the separator`);
            assert.equal(cells(table.lines[1]).length, width, `${table.prefix || "top"}: the separator has the header's width`);
            assert.ok(table.lines.length > 2, `${table.prefix || "top"}: has rows`);
            for (const row of table.lines.slice(2)) {
                assert.equal(cells(row).length, width, `${table.prefix || "top"}: "${row}" has ${width} cells`);
            }
        }
    });

    it("would catch the defect it was written for: a blank line splitting a table", () => {
        const broken = ["`clusters.<key>`:", "", "| key | type |", "|---|---|", "| `a` | x |", "", "| `b` | y |"];
        const split = tables(broken);
        assert.equal(split.length, 2, "the blank line makes a second table");
        assert.doesNotMatch(split[1].lines[1] ?? "", /^\|(\s*:?-+:?\s*\|)+$/, "which has no separator, so the check above fails it");
    });
});
