import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Checks the ARM request bodies the program would send against Azure's published REST API specs
 * (swagger 2.0 for the API versions azure-native 3.28 uses, copied into
 * test/fixtures/azure-rest-api-specs: see its SOURCES.md). Mocks accept any input; ARM silently
 * drops a misspelt property and rejects a bad enum or pattern only at deploy time. This catches
 * both offline.
 */

export const SPECS_ROOT = path.resolve(__dirname, "..", "test", "fixtures", "azure-rest-api-specs", "specification");

type Schema = Record<string, unknown>;

interface Located {
    readonly file: string;
    readonly schema: Schema;
}

const documents = new Map<string, Schema>();

function load(file: string): Schema {
    let document = documents.get(file);
    if (document === undefined) {
        document = JSON.parse(fs.readFileSync(file, "utf8")) as Schema;
        documents.set(file, document);
    }
    return document;
}

function pointer(document: Schema, fragment: string): Schema {
    let node: unknown = document;
    for (const part of fragment.split("/").filter((p) => p.length > 0)) {
        node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
        if (node === undefined) {
            throw new Error(`No ${fragment} in the spec`);
        }
    }
    return node as Schema;
}

function resolve(from: string, ref: string): Located {
    const [target, fragment = ""] = ref.split("#");
    const file = target === "" ? from : path.resolve(path.dirname(from), target);
    return { file, schema: pointer(load(file), fragment) };
}

function deref(located: Located): Located {
    let current = located;
    while (typeof current.schema.$ref === "string") {
        current = resolve(current.file, current.schema.$ref);
    }
    return current;
}

/** The schema's properties, its allOf parents' included, each with the file it resolves against. */
function propertiesOf(located: Located): Map<string, Located> {
    const own = deref(located);
    const found = new Map<string, Located>();
    for (const parent of (own.schema.allOf as Schema[] | undefined) ?? []) {
        for (const [name, value] of propertiesOf({ file: own.file, schema: parent })) {
            found.set(name, value);
        }
    }
    for (const [name, value] of Object.entries((own.schema.properties as Record<string, Schema> | undefined) ?? {})) {
        found.set(name, { file: own.file, schema: value });
    }
    return found;
}

/** Every way `value` breaks the schema: unknown or read-only properties, types, enums, patterns, lengths. */
function check(value: unknown, located: Located, at: string, problems: string[]): void {
    const { file, schema } = deref(located);
    if (value === undefined || value === null) {
        return;
    }
    if (schema.readOnly === true) {
        problems.push(`${at}: read-only in the spec; ARM ignores or refuses it`);
        return;
    }
    const type = schema.type as string | undefined;
    const properties = propertiesOf({ file, schema });
    if (type === "object" || properties.size > 0 || schema.additionalProperties !== undefined) {
        if (typeof value !== "object" || Array.isArray(value)) {
            problems.push(`${at}: expected an object, got ${JSON.stringify(value)}`);
            return;
        }
        for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
            const known = properties.get(name);
            if (known !== undefined) {
                check(child, known, `${at}.${name}`, problems);
            } else if (typeof schema.additionalProperties === "object") {
                check(child, { file, schema: schema.additionalProperties as Schema }, `${at}.${name}`, problems);
            } else if (schema.additionalProperties !== true) {
                const close = [...properties.keys()].find((candidate) => candidate.toLowerCase() === name.toLowerCase());
                problems.push(`${at}.${name}: not a property in the spec${close === undefined ? "" : ` (did you mean ${close}?)`}`);
            }
        }
        return;
    }
    if (type === "array") {
        if (!Array.isArray(value)) {
            problems.push(`${at}: expected an array, got ${JSON.stringify(value)}`);
            return;
        }
        value.forEach((item, index) => check(item, { file, schema: schema.items as Schema }, `${at}[${index}]`, problems));
        return;
    }
    checkScalar(value, schema, at, problems);
}

function checkScalar(value: unknown, schema: Schema, at: string, problems: string[]): void {
    const type = schema.type as string | undefined;
    const expected = type === "integer" ? "number" : type;
    if (expected !== undefined && typeof value !== expected) {
        problems.push(`${at}: expected ${type}, got ${JSON.stringify(value)}`);
        return;
    }
    if (type === "integer" && !Number.isInteger(value)) {
        problems.push(`${at}: expected an integer, got ${String(value)}`);
    }
    const allowed = schema.enum as unknown[] | undefined;
    if (allowed !== undefined && !allowed.includes(value)) {
        problems.push(`${at}: ${JSON.stringify(value)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
    }
    if (typeof value === "string") {
        if (typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(value)) {
            problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
        }
        if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
            problems.push(`${at}: ${JSON.stringify(value)} is longer than ${schema.maxLength}`);
        }
        if (typeof schema.minLength === "number" && value.length < schema.minLength) {
            problems.push(`${at}: ${JSON.stringify(value)} is shorter than ${schema.minLength}`);
        }
    }
    if (typeof value === "number") {
        if (typeof schema.minimum === "number" && value < schema.minimum) {
            problems.push(`${at}: ${value} is below ${schema.minimum}`);
        }
        if (typeof schema.maximum === "number" && value > schema.maximum) {
            problems.push(`${at}: ${value} is above ${schema.maximum}`);
        }
    }
}

/** Where a resource type's PUT is specified, and which of its SDK inputs are URL path parameters. */
export interface ArmOperation {
    /** Spec file under SPECS_ROOT. */
    readonly file: string;
    /** The request body's definition. */
    readonly definition: string;
    /** SDK input name -> the spec parameter (`#/parameters/...` in `file`, or a relative ref) that checks it. */
    readonly pathParameters: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the ARM body azure-native sends from the SDK inputs: path parameters leave the body,
 * the definition's own writable top-level properties (location, tags, sku, identity, ...) stay at the top,
 * and every other input goes under `properties` (the specs' `x-ms-client-flatten`).
 */
export function armRequestProblems(operation: ArmOperation, inputs: Record<string, unknown>): string[] {
    const file = path.join(SPECS_ROOT, operation.file);
    const definition: Located = { file, schema: pointer(load(file), `/definitions/${operation.definition}`) };
    const topLevel = propertiesOf(definition);
    const body: Record<string, unknown> = {};
    const properties: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [name, value] of Object.entries(inputs)) {
        if (name in operation.pathParameters) {
            const ref = operation.pathParameters[name];
            if (ref !== undefined && value !== undefined) {
                checkScalar(value, resolve(file, ref).schema, `path ${name}`, problems);
            }
        } else if (name !== "properties" && topLevel.has(name) && deref(topLevel.get(name) as Located).schema.readOnly !== true && topLevel.get(name)?.schema.readOnly !== true) {
            // A read-only top-level name (an AgentPool's resource `type`) is not an input: azure-native's
            // input of that name is the flattened property (the pool's `type`, VirtualMachineScaleSets).
            body[name] = value;
        } else {
            properties[name] = value;
        }
    }
    if (Object.keys(properties).length > 0) {
        body.properties = properties;
    }
    check(body, definition, "body", problems);
    return problems;
}
