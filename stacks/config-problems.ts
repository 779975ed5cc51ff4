import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { z } from "zod";
import { closestMatch } from "../components/suggest";

/**
 * What every config reader of this repository shares (the main stack's and the bootstrap's): the
 * problem type, its one-message form, the error that carries it, the translation of zod issues
 * into lines that name the config path, the bad value and what is allowed, and reading a stack file.
 */

/** One problem: the config path (as written in the stack file) and the message. */
export interface ConfigProblem {
    readonly path: string;
    readonly message: string;
}

export function formatConfigProblems(problems: readonly ConfigProblem[], subject = "stack config"): string {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    return `Invalid ${subject} (${count}); nothing was created:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`;
}

/** Raised for an invalid config; the Pulumi host prints a RunError without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(
        public readonly problems: readonly ConfigProblem[],
        subject: string,
    ) {
        super(formatConfigProblems(problems, subject));
        this.name = "ConfigError";
    }
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
    let current = schema;
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
        current = current.unwrap();
    }
    return current;
}

/** The keys the schema allows at `segments`, to suggest one for an unknown key. */
function allowedKeys(root: z.core.$ZodType, segments: readonly PropertyKey[]): string[] {
    let schema: z.core.$ZodType | undefined = root;
    for (const segment of segments) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) {
            schema = (schema.shape as Record<string, z.core.$ZodType | undefined>)[String(segment)];
        } else if (schema instanceof z.ZodRecord) {
            schema = schema.valueType;
        } else if (schema instanceof z.ZodArray) {
            schema = schema.element;
        } else {
            return [];
        }
        if (schema === undefined) {
            return [];
        }
    }
    schema = unwrap(schema);
    return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function describeValue(value: unknown): string {
    return value === undefined ? "nothing" : JSON.stringify(value);
}

/**
 * The problems of one zod issue of `root`. `configPath` writes a path as the stack file spells it;
 * `prefix` is where `root` sits in the whole config.
 */
export function issueProblems(
    root: z.core.$ZodType,
    issue: z.core.$ZodIssue,
    configPath: (segments: readonly PropertyKey[]) => string,
    prefix: readonly PropertyKey[] = [],
): ConfigProblem[] {
    const at = [...prefix, ...issue.path];
    switch (issue.code) {
        case "unrecognized_keys": {
            const allowed = allowedKeys(root, issue.path);
            return issue.keys.map((unknownKey) => {
                const suggestion = closestMatch(unknownKey, allowed);
                const hint = suggestion ? ` Did you mean "${suggestion}"?` : "";
                return { path: configPath([...at, unknownKey]), message: `unknown key.${hint} Allowed keys are: ${allowed.join(", ")}.` };
            });
        }
        case "invalid_value":
            return [{ path: configPath(at), message: `invalid value ${describeValue(issue.input)}. Allowed values are: ${issue.values.map(String).join(", ")}.` }];
        case "invalid_type":
            return [
                {
                    path: configPath(at),
                    message: issue.input === undefined ? `required ${issue.expected} is missing.` : `expected ${issue.expected}, got ${describeValue(issue.input)}.`,
                },
            ];
        case "invalid_key":
            return [{ path: configPath(at), message: issue.issues.map((inner) => inner.message).join(" ") }];
        case "invalid_union":
            return [{ path: configPath(at), message: `invalid value ${describeValue(issue.input)}.` }];
        case "custom":
        case "invalid_format":
            return [{ path: configPath(at), message: issue.message }];
        default:
            return [{ path: configPath(at), message: `${issue.message} (got ${describeValue(issue.input)}).` }];
    }
}

/** Objects, arrays, numbers and booleans become JSON text, strings stay as they are: as the Pulumi CLI hands config to a program. */
export function flattenConfig(config: Readonly<Record<string, unknown>>): Record<string, string> {
    const flat: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(config)) {
        flat[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return flat;
}

/** The `config:` of a Pulumi stack file, flattened, and its `secretsprovider:`. */
export function readStackFile(file: string): { config: Record<string, string>; secretsProvider: string | undefined } {
    const document = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown>; secretsprovider?: unknown } | null;
    return {
        config: flattenConfig(document?.config ?? {}),
        secretsProvider: typeof document?.secretsprovider === "string" ? document.secretsprovider : undefined,
    };
}

/** A config value as Pulumi stores it: objects, arrays, numbers and booleans as JSON text. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value) as unknown;
    } catch {
        return value;
    }
}

/**
 * One project's keys from the whole config map (`<namespace>:<key>` -> value), decoded (but for
 * `stringKeys`, which stay text), plus the provider keys it reads (`field` -> full key). Every key
 * of the namespace is passed on, so a misspelt key is reported rather than ignored.
 */
export function rawConfig(
    all: Readonly<Record<string, string>>,
    namespace: string,
    stringKeys: ReadonlySet<string>,
    providerKeys: Readonly<Record<string, string>>,
): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (fullKey.startsWith(`${namespace}:`)) {
            const configKey = fullKey.slice(namespace.length + 1);
            raw[configKey] = stringKeys.has(configKey) ? value : decode(value);
        }
    }
    for (const [field, fullKey] of Object.entries(providerKeys)) {
        if (all[fullKey] !== undefined) {
            raw[field] = all[fullKey];
        }
    }
    return raw;
}

/** A zod refinement from one of the pure rules: a custom issue when the rule returns a message. */
export function rule<T>(check: (value: T) => string | undefined) {
    return (value: T, ctx: z.core.$RefinementCtx<T>): void => {
        const message = check(value);
        if (message !== undefined) {
            ctx.addIssue({ code: "custom", message, input: value });
        }
    };
}

/** A map key in config: resource names derive from it. */
export const configKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
    message: "invalid key. Allowed keys are 1 to 63 letters, digits, '-' and '_', starting with a letter or digit.",
});
