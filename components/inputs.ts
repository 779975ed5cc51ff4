import * as pulumi from "@pulumi/pulumi";
import { committedSchemaOnce, type PackageSchema, type PropertySchema } from "./package-schema";

/**
 * Arguments as the plugin host delivers them. Another language's program reaches a component
 * through the engine, and `@pulumi/pulumi/provider/server` `deserializeInputs` hands the
 * constructor what it got: nested output values as `Output`s, and a top-level property that has
 * dependencies but no output values inside (an SDK that sends none, or a secret) as one `Output`
 * of the whole value. A property the schema marks `plain` decides which resources exist or how
 * they are named, so its value must be there when the constructor runs; this says which are not,
 * before anything is created. The schema is the committed one, which a test keeps equal to what
 * the analyzer derives from the argument types.
 */
export function plainInputProblems(token: string, args: object, schema: PackageSchema = committedSchemaOnce()): string[] {
    const resource = schema.resources[token];
    if (resource === undefined) {
        throw new Error(`${token} is not in the package schema: run \`npm run schema\`.`);
    }
    const problems: string[] = [];
    walkProperties(schema, resource.inputProperties ?? {}, args as Record<string, unknown>, "", problems);
    return problems;
}

const UNKNOWN_PLAIN =
    "must be known when the program runs (it decides which resources exist, or names them), but it arrived as a value known only at deploy time (an output, or a secret). Pass it as a plain value; the values inside it may be outputs.";

function walkProperties(schema: PackageSchema, properties: Record<string, PropertySchema>, value: Record<string, unknown>, prefix: string, problems: string[]): void {
    for (const [name, property] of Object.entries(properties)) {
        walk(schema, property, value[name], `${prefix}${name}`, problems);
    }
}

function walk(schema: PackageSchema, property: PropertySchema, value: unknown, path: string, problems: string[]): void {
    if (value === undefined || value === null) {
        return;
    }
    if (pulumi.Output.isInstance(value)) {
        if (property.plain === true) {
            problems.push(`${path}: ${UNKNOWN_PLAIN}`);
        }
        return;
    }
    if (property.$ref?.startsWith("#/types/") === true) {
        const type = schema.types[property.$ref.slice("#/types/".length)];
        if (type?.properties !== undefined && typeof value === "object") {
            walkProperties(schema, type.properties, value as Record<string, unknown>, `${path}.`, problems);
        }
        return;
    }
    if (property.additionalProperties !== undefined && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
            walk(schema, property.additionalProperties, entry, `${path}.${key}`, problems);
        }
        return;
    }
    if (property.items !== undefined && Array.isArray(value)) {
        value.forEach((entry, index) => walk(schema, property.items as PropertySchema, entry, `${path}[${index}]`, problems));
    }
}

/** Throws, naming every plain argument of `component` that is not known yet (see `plainInputProblems`). */
export function requirePlainInputs(component: pulumi.ComponentResource, token: string, name: string, args: object): void {
    const problems = plainInputProblems(token, args);
    if (problems.length > 0) {
        throw new pulumi.ResourceError(formatProblems(`Invalid ${token.split(":")[2]} "${name}"`, problems), component, true);
    }
}

/** A value given directly (not an Output from another resource), so it can be checked before deployment. */
export function known<T>(value: pulumi.Input<T> | undefined): T | undefined {
    if (value === undefined || pulumi.Output.isInstance(value) || value instanceof Promise) {
        return undefined;
    }
    return value;
}

/** Plain arrays of plain values, or undefined when any part is only known at deploy time. */
export function knownArray<T>(value: pulumi.Input<pulumi.Input<T>[]> | undefined): T[] | undefined {
    const array = known(value);
    if (array === undefined) {
        return undefined;
    }
    const items = array.map((item) => known(item));
    return items.every((item) => item !== undefined) ? (items) : undefined;
}

/** Formats problems as the one message a component throws. */
export function formatProblems(subject: string, problems: readonly string[]): string {
    return `${subject}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`;
}

