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

/** The schema that decides a value: without optional, default, nullable and preprocessing wrappers. */
export function unwrapSchema(schema: z.core.$ZodType): z.core.$ZodType {
    let current = schema;
    for (;;) {
        if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
            current = current.unwrap();
        } else if (current instanceof z.ZodPipe) {
            current = current.out;
        } else {
            return current;
        }
    }
}

/** The schema at `segments` below `root` (object fields, record values, array elements). */
function schemaAt(root: z.core.$ZodType, segments: readonly PropertyKey[]): z.core.$ZodType | undefined {
    let schema: z.core.$ZodType | undefined = root;
    for (const segment of segments) {
        schema = unwrapSchema(schema);
        if (schema instanceof z.ZodObject) {
            schema = (schema.shape as Record<string, z.core.$ZodType | undefined>)[String(segment)];
        } else if (schema instanceof z.ZodRecord) {
            schema = schema.valueType;
        } else if (schema instanceof z.ZodArray) {
            schema = schema.element;
        } else {
            return undefined;
        }
        if (schema === undefined) {
            return undefined;
        }
    }
    return unwrapSchema(schema);
}

function objectKeys(schema: z.core.$ZodType | undefined): string[] {
    return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** The keys the schema allows at `segments`, to suggest one for an unknown key. */
function allowedKeys(root: z.core.$ZodType, segments: readonly PropertyKey[]): string[] {
    return objectKeys(schemaAt(root, segments));
}

/**
 * Where `key` is allowed one level below `segments`: `[field, key]` for an object field, `[field,
 * "<key>", key]` for the entries of a map. Lets a key written one level too high say where it goes.
 */
function oneLevelDown(root: z.core.$ZodType, segments: readonly PropertyKey[], key: string): string[][] {
    const found: string[][] = [];
    for (const field of allowedKeys(root, segments)) {
        const child = schemaAt(root, [...segments, field]);
        if (objectKeys(child).includes(key)) {
            found.push([field, key]);
        } else if (child instanceof z.ZodRecord && objectKeys(unwrapSchema(child.valueType)).includes(key)) {
            found.push([field, "<key>", key]);
        }
    }
    return found;
}

export function describeValue(value: unknown): string {
    return value === undefined ? "nothing" : JSON.stringify(value);
}

/** A message that names the refused value: zod's own messages (and some rules) do not. */
export function withValue(message: string, input: unknown): string {
    const scalar = typeof input === "string" || typeof input === "number" || typeof input === "boolean";
    return !scalar || message.toLowerCase().includes(String(input).toLowerCase()) ? message : `${message.replace(/\.$/, "")} (got ${describeValue(input)}).`;
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
                const below = oneLevelDown(root, issue.path, unknownKey).map((segments) => configPath([...at, ...segments]));
                const suggestion = closestMatch(unknownKey, allowed);
                const hint =
                    below.length > 0
                        ? ` It belongs one level down: ${below.join(" or ")}.`
                        : suggestion
                          ? ` Did you mean "${suggestion}"?`
                          : "";
                return { path: configPath([...at, unknownKey]), message: `unknown key "${unknownKey}".${hint} Allowed keys are: ${allowed.join(", ")}.` };
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
            return [{ path: configPath(at), message: issue.issues.map((inner) => withValue(inner.message, issue.input)).join(" ") }];
        case "invalid_union":
            return [{ path: configPath(at), message: `invalid value ${describeValue(issue.input)}.` }];
        case "custom":
        case "invalid_format":
            return [{ path: configPath(at), message: withValue(issue.message, issue.input) }];
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
    allowedNamespaces?: readonly string[],
): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (fullKey.startsWith(`${namespace}:`)) {
            const configKey = fullKey.slice(namespace.length + 1);
            raw[configKey] = stringKeys.has(configKey) ? value : decode(value);
        } else if (allowedNamespaces !== undefined && !allowedNamespaces.includes(namespaceOf(fullKey))) {
            // Kept under its full key (`:<key>` without a namespace) so that foreignKeyProblems reports it.
            raw[fullKey.includes(":") ? fullKey : `:${fullKey}`] = decode(value);
        }
    }
    for (const [field, fullKey] of Object.entries(providerKeys)) {
        if (all[fullKey] !== undefined) {
            raw[field] = all[fullKey];
        }
    }
    return raw;
}

function namespaceOf(fullKey: string): string {
    const colon = fullKey.indexOf(":");
    return colon < 0 ? "" : fullKey.slice(0, colon);
}

/**
 * Splits the keys rawConfig kept from namespaces the program does not know (`<namespace>:<key>`,
 * or `:<key>` for a key with no namespace) off `raw`, with a problem for each that says which key
 * was probably meant: the same key under `namespace`, or a provider key.
 */
export function foreignKeyProblems(
    raw: Readonly<Record<string, unknown>>,
    namespace: string,
    allowedNamespaces: readonly string[],
    knownKeys: readonly string[],
    providerKeys: Readonly<Record<string, string>>,
): { raw: Record<string, unknown>; problems: ConfigProblem[] } {
    const rest: Record<string, unknown> = {};
    const problems: ConfigProblem[] = [];
    const providers = allowedNamespaces.filter((allowed) => allowed !== namespace);
    const allowedText = `This program reads ${namespace}:<key> and ${Object.values(providerKeys).join(", ")}; the providers' namespaces ${providers.join(", ")} are allowed too.`;
    for (const [key, value] of Object.entries(raw)) {
        if (!key.includes(":")) {
            rest[key] = value;
            continue;
        }
        const foreign = namespaceOf(key);
        const name = key.slice(foreign.length + 1);
        const closeNamespace = foreign === "" ? undefined : closestMatch(foreign, allowedNamespaces);
        const providerKey = Object.entries(providerKeys).find(([field, fullKey]) => field === name || fullKey === `${closeNamespace ?? ""}:${name}`)?.[1];
        const suggestion =
            providerKey ??
            (closeNamespace !== undefined && closeNamespace !== namespace
                ? `${closeNamespace}:${name}`
                : closeNamespace === namespace || knownKeys.includes(name) || closestMatch(name, knownKeys) !== undefined
                  ? `${namespace}:${knownKeys.includes(name) ? name : (closestMatch(name, knownKeys) ?? name)}`
                  : undefined);
        const hint = suggestion === undefined ? "" : ` Did you mean "${suggestion}"?`;
        problems.push({
            path: foreign === "" ? name : key,
            message: `${foreign === "" ? `key "${name}" has no namespace.` : `unknown namespace "${foreign}".`}${hint} ${allowedText}`,
        });
    }
    return { raw: rest, problems };
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
export const configKey = z.string().superRefine(
    rule((value: string) =>
        /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(value)
            ? undefined
            : `invalid key "${value}". Allowed keys are 1 to 63 letters, digits, '-' and '_', starting with a letter or digit.`,
    ),
);
