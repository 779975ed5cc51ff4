import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { committedSchema, type PackageSchema, type PropertySchema } from "../components/package-schema";
import { closestMatch } from "../components/suggest";

/**
 * examples/yaml and examples/python against the committed schema (components/schema.json), the
 * contract their generated SDKs are made from: every argument they pass names an input of the
 * component or of a type the input refers to (maps and lists followed), with the schema's type,
 * enum value and plainness; every output they read (`${cluster.kubeconfig}`, `api.client_id`)
 * is one the component has. No Pulumi CLI is needed: the YAML program is read with the yaml
 * package, the Python program with the small parser below, which reads the subset the example
 * uses and refuses anything else by line.
 */

const ROOT = path.resolve(__dirname, "..");
const YAML_EXAMPLE = path.join(ROOT, "examples", "yaml", "Pulumi.yaml");
const PYTHON_EXAMPLE = path.join(ROOT, "examples", "python", "__main__.py");
const SCHEMA = committedSchema();
const PACKAGE = SCHEMA.name;
const TYPE_PREFIX = `${PACKAGE}:index:`;
const ANY = "pulumi.json#/Any";

// ---------------------------------------------------------------------------------------------
// What the checker sees of a program, whatever its language.

/** A value in an example program, as far as the check needs to know it. */
type Value =
    | { kind: "literal"; value: string | number | boolean | null }
    | { kind: "object"; entries: [string, Value][] }
    | { kind: "list"; items: Value[] }
    /** A resource itself (`property` undefined), or one of its outputs: known only at deploy time. */
    | { kind: "output"; text: string; resource: string; property: string | undefined }
    /** A value the program knows when it runs: a config value. */
    | { kind: "known"; text: string; type: string }
    /** Anything else computed from outputs: an interpolation, a call. */
    | { kind: "computed"; text: string };

interface ProgramResource {
    /** The name other values use for it: the YAML resource key, the Python variable. */
    name: string;
    /** The type token (`aks-workload-identity:index:WorkloadIdentity`, `pulumi:providers:kubernetes`), or the Python constructor. */
    type: string;
    /** Where it is declared, the prefix of every problem with it. */
    where: string;
    properties: [string, Value][];
}

interface ProgramReference {
    where: string;
    text: string;
    resource: string;
    property: string | undefined;
}

interface Program {
    /** How the language spells a schema name: YAML as is, Python in snake_case. */
    spell: (schemaName: string) => string;
    resources: ProgramResource[];
    /** Every use of another resource or of its outputs, anywhere in the program. */
    references: ProgramReference[];
}

// ---------------------------------------------------------------------------------------------
// The checker.

interface CheckResult {
    problems: string[];
    /** The schema inputs and outputs the program uses, by schema name (`WorkloadIdentity.clusters.*.oidcIssuerUrl`). */
    used: string[];
}

/** The component a type token names in this package (`index` may be left out, as Pulumi YAML allows), or undefined for another package. */
function componentOf(type: string): string | undefined {
    if (type.startsWith(TYPE_PREFIX)) {
        return type.slice(TYPE_PREFIX.length);
    }
    const short = `${PACKAGE}:`;
    return type.startsWith(short) && !type.slice(short.length).includes(":") ? type.slice(short.length) : undefined;
}

const SCALARS = new Set(["string", "number", "integer", "boolean"]);

function describeValue(value: Value): string {
    switch (value.kind) {
        case "literal":
            return value.value === null ? "null" : `the ${typeof value.value} ${JSON.stringify(value.value)}`;
        case "object":
            return "an object";
        case "list":
            return "a list";
        case "known":
            return `${value.text} (a ${value.type})`;
        default:
            return value.text;
    }
}

function didYouMean(given: string, candidates: readonly string[], what: string): string {
    const hint = closestMatch(given, candidates);
    return hint !== undefined ? `; did you mean ${JSON.stringify(hint)}?` : `. Its ${what}: ${[...candidates].sort().join(", ")}.`;
}

function checkProgram(program: Program, schema: PackageSchema): CheckResult {
    const problems: string[] = [];
    const used = new Set<string>();
    const resources = new Map(program.resources.map((resource) => [resource.name, resource]));
    const componentNames = Object.keys(schema.resources).map((token) => token.slice(TYPE_PREFIX.length));

    /** The schema definition of a program resource that is one of this package's components. */
    const definitionOf = (resource: ProgramResource | undefined) => {
        const component = resource === undefined ? undefined : componentOf(resource.type);
        const definition = component === undefined ? undefined : schema.resources[`${TYPE_PREFIX}${component}`];
        return component === undefined || definition === undefined ? undefined : { component, definition };
    };

    const checkObject = (entries: [string, Value][], properties: Record<string, PropertySchema>, required: readonly string[], typeName: string, where: string, at: string[], usedKey: string): void => {
        const spelled = new Map(Object.entries(properties).map(([name, property]) => [program.spell(name), { name, property }]));
        for (const [key, value] of entries) {
            const found = spelled.get(key);
            if (found === undefined) {
                problems.push(`${where}: ${[...at, key].join(".")}: ${typeName} has no input ${JSON.stringify(key)}${didYouMean(key, [...spelled.keys()], "inputs")}`);
                continue;
            }
            used.add(`${usedKey}.${found.name}`);
            checkValue(value, found.property, where, [...at, key], `${usedKey}.${found.name}`);
        }
        for (const name of required) {
            if (!entries.some(([key]) => key === program.spell(name))) {
                problems.push(`${where}: ${at.length === 0 ? "" : `${at.join(".")}: `}${typeName} requires ${JSON.stringify(program.spell(name))}, which is missing.`);
            }
        }
    };

    const checkValue = (value: Value, property: PropertySchema, where: string, at: string[], usedKey: string): void => {
        const prefix = `${where}: ${at.join(".")}`;
        if (value.kind === "output" || value.kind === "computed") {
            if (property.plain === true) {
                problems.push(`${prefix}: must be a plain value, known when the program runs (the schema marks it plain), but ${value.text} is known only at deploy time.`);
                return;
            }
            if (value.kind === "output" && property.$ref !== ANY) {
                // An output of one of this package's components has a schema type: it must fit.
                const target = definitionOf(resources.get(value.resource));
                if (target !== undefined && value.property === undefined) {
                    problems.push(`${prefix}: expected ${property.type ?? property.$ref ?? "a value"}, got the component ${value.text} itself.`);
                }
                const output = target === undefined || value.property === undefined ? undefined : Object.entries(target.definition.properties ?? {}).find(([name]) => program.spell(name) === value.property)?.[1];
                if (output?.type !== undefined && property.type !== undefined && SCALARS.has(output.type) && SCALARS.has(property.type) && output.type !== property.type) {
                    problems.push(`${prefix}: expected a ${property.type}, got ${value.text}, a ${output.type} output.`);
                }
            }
            return;
        }
        if (property.$ref === ANY) {
            return;
        }
        if (property.$ref !== undefined) {
            const token = property.$ref.replace(/^#\/types\//, "");
            const type = schema.types[token];
            if (type === undefined) {
                problems.push(`${prefix}: the schema refers to ${property.$ref}, which it does not define.`);
                return;
            }
            const typeName = token.slice(TYPE_PREFIX.length);
            if (type.enum !== undefined) {
                const allowed = type.enum.map((member) => member.value);
                const fits = (value.kind === "literal" && allowed.includes(value.value as string | number | boolean)) || (value.kind === "known" && value.type === type.type);
                if (!fits) {
                    problems.push(`${prefix}: expected one of ${allowed.map((member) => JSON.stringify(member)).join(", ")} (${typeName}), got ${describeValue(value)}.`);
                }
                return;
            }
            if (value.kind !== "object") {
                problems.push(`${prefix}: expected an object (${typeName}), got ${describeValue(value)}.`);
                return;
            }
            checkObject(value.entries, type.properties ?? {}, type.required ?? [], typeName, where, at, usedKey);
            return;
        }
        const type = property.type ?? "";
        if (SCALARS.has(type)) {
            const fits =
                value.kind === "literal"
                    ? typeof value.value === (type === "integer" ? "number" : type) && (type !== "integer" || Number.isInteger(value.value))
                    : value.kind === "known" && (value.type === type || (value.type === "integer" && type === "number"));
            if (!fits) {
                problems.push(`${prefix}: expected a ${type}, got ${describeValue(value)}.`);
            }
            return;
        }
        if (type === "array" && property.items !== undefined) {
            if (value.kind !== "list") {
                problems.push(`${prefix}: expected a list, got ${describeValue(value)}.`);
                return;
            }
            const items = property.items;
            value.items.forEach((item, index) => checkValue(item, items, where, [...at.slice(0, -1), `${at[at.length - 1]}[${index}]`], `${usedKey}[]`));
            return;
        }
        if (type === "object" && property.additionalProperties !== undefined) {
            if (value.kind !== "object") {
                problems.push(`${prefix}: expected a map, got ${describeValue(value)}.`);
                return;
            }
            const values = property.additionalProperties;
            // The keys of a map are the caller's (cluster keys, assignment keys, tag names): no spelling applies.
            for (const [key, entry] of value.entries) {
                checkValue(entry, values, where, [...at, key], `${usedKey}.*`);
            }
            return;
        }
        problems.push(`${prefix}: the schema gives it a shape this check does not know (${JSON.stringify(property)}).`);
    };

    for (const resource of program.resources) {
        const component = componentOf(resource.type);
        if (component === undefined) {
            continue;
        }
        const definition = schema.resources[`${TYPE_PREFIX}${component}`];
        if (definition === undefined) {
            problems.push(`${resource.where}: ${PACKAGE} has no component ${JSON.stringify(component)}${didYouMean(component, componentNames, "components")}`);
            continue;
        }
        used.add(component);
        checkObject(resource.properties, definition.inputProperties ?? {}, definition.requiredInputs ?? [], component, resource.where, [], component);
    }

    for (const reference of program.references) {
        const target = resources.get(reference.resource);
        if (target === undefined) {
            problems.push(`${reference.where}: ${reference.text} names no resource of the program${didYouMean(reference.resource, [...resources.keys()], "resources")}`);
            continue;
        }
        const found = definitionOf(target);
        if (found === undefined || reference.property === undefined) {
            continue;
        }
        const outputs = Object.keys(found.definition.properties ?? {});
        const output = outputs.find((name) => program.spell(name) === reference.property);
        if (output === undefined) {
            problems.push(`${reference.where}: ${reference.text}: ${found.component} has no output ${JSON.stringify(reference.property)}${didYouMean(reference.property, outputs.map(program.spell), "outputs")}`);
            continue;
        }
        used.add(`${found.component} output ${output}`);
    }
    return { problems, used: [...used].sort() };
}

// ---------------------------------------------------------------------------------------------
// Pulumi YAML.

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A program in Pulumi YAML (Pulumi docs: "Pulumi YAML reference"): `config`, `resources`, `variables`, `outputs`. */
function yamlProgram(text: string): Program {
    const document: unknown = parseYaml(text);
    assert.ok(isRecord(document), "the YAML program is a mapping");
    const config = new Map<string, string>();
    for (const [key, declaration] of Object.entries(isRecord(document.config) ? document.config : {})) {
        config.set(key, isRecord(declaration) && typeof declaration.type === "string" ? declaration.type : typeof declaration);
    }
    const references: ProgramReference[] = [];
    const interpolation = /\$\{([^}]*)\}/g;
    const reference = /^([A-Za-z_][\w-]*)(?:\.([A-Za-z_]\w*))?/;

    /** A YAML value as the checker sees it; records every `${...}` that names a resource. */
    const toValue = (raw: unknown, where: string): Value => {
        if (typeof raw === "string") {
            const expressions = [...raw.matchAll(interpolation)];
            let allConfig = true;
            for (const [text, expression] of expressions) {
                const match = reference.exec(expression.trim());
                if (match !== null && config.has(match[1])) {
                    continue;
                }
                allConfig = false;
                references.push({ where, text, resource: match?.[1] ?? expression, property: match?.[2] });
            }
            if (expressions.length === 0) {
                return { kind: "literal", value: raw };
            }
            if (expressions.length === 1 && expressions[0][0] === raw) {
                const match = reference.exec(expressions[0][1].trim());
                if (match !== null && match[0] === expressions[0][1].trim()) {
                    const configType = config.get(match[1]);
                    return configType !== undefined && match[2] === undefined ? { kind: "known", text: raw, type: configType } : { kind: "output", text: raw, resource: match[1], property: match[2] };
                }
            }
            return allConfig ? { kind: "known", text: raw, type: "string" } : { kind: "computed", text: raw };
        }
        if (typeof raw === "number" || typeof raw === "boolean" || raw === null) {
            return { kind: "literal", value: raw };
        }
        if (Array.isArray(raw)) {
            return { kind: "list", items: raw.map((item, index) => toValue(item, `${where}[${index}]`)) };
        }
        assert.ok(isRecord(raw), `${where}: a YAML value the check does not know`);
        const entries = Object.entries(raw).map(([key, item]): [string, Value] => [key, toValue(item, `${where}.${key}`)]);
        // `fn::` keys are expressions (Pulumi YAML reference, "Built-in functions").
        return Object.keys(raw).some((key) => key.toLowerCase().startsWith("fn::")) ? { kind: "computed", text: `{${Object.keys(raw).join(", ")}}` } : { kind: "object", entries };
    };

    const resources: ProgramResource[] = [];
    for (const [name, declaration] of Object.entries(isRecord(document.resources) ? document.resources : {})) {
        assert.ok(isRecord(declaration) && typeof declaration.type === "string", `resources.${name} has a type`);
        const properties = isRecord(declaration.properties) ? declaration.properties : {};
        resources.push({
            name,
            type: declaration.type,
            where: `resources.${name}`,
            properties: Object.entries(properties).map(([key, raw]): [string, Value] => [key, toValue(raw, `resources.${name}.properties.${key}`)]),
        });
        if (declaration.options !== undefined) {
            toValue(declaration.options, `resources.${name}.options`);
        }
    }
    for (const section of ["variables", "outputs"] as const) {
        for (const [key, raw] of Object.entries(isRecord(document[section]) ? document[section] : {})) {
            toValue(raw, `${section}.${key}`);
        }
    }
    return { spell: (name) => name, resources, references };
}

// ---------------------------------------------------------------------------------------------
// Python: a tokenizer and parser for the subset a Pulumi program of declarations uses (imports,
// assignments, calls with keyword arguments, dicts, lists, literals, attribute access). What it
// does not read (operators, blocks, comprehensions, lambdas...) it refuses, naming the line.

interface Token {
    kind: "name" | "number" | "string" | "fstring" | "op" | "newline" | "end";
    text: string;
    line: number;
}

function tokenize(source: string): Token[] {
    const tokens: Token[] = [];
    let line = 1;
    let depth = 0;
    let index = 0;
    let lineStart = true;
    const push = (kind: Token["kind"], text: string): void => void tokens.push({ kind, text, line });
    while (index < source.length) {
        const char = source[index];
        if (lineStart && depth === 0 && (char === " " || char === "\t")) {
            const rest = /^[ \t]*(.?)/.exec(source.slice(index));
            if (rest !== null && rest[1] !== "" && rest[1] !== "\n" && rest[1] !== "#" && rest[1] !== "\r") {
                throw new Error(`line ${line}: an indented block, which this parser does not read`);
            }
        }
        lineStart = false;
        if (char === "\n") {
            if (depth === 0 && tokens.length > 0 && tokens[tokens.length - 1].kind !== "newline") {
                push("newline", "\n");
            }
            line += 1;
            index += 1;
            lineStart = true;
            continue;
        }
        if (char === " " || char === "\t" || char === "\r") {
            index += 1;
            continue;
        }
        if (char === "\\" && source[index + 1] === "\n") {
            index += 2;
            line += 1;
            continue;
        }
        if (char === "#") {
            while (index < source.length && source[index] !== "\n") {
                index += 1;
            }
            continue;
        }
        const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(index));
        const prefix = word !== null && /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/.test(word[0]) && (source[index + word[0].length] === '"' || source[index + word[0].length] === "'") ? word[0] : "";
        if (word !== null && prefix === "") {
            push("name", word[0]);
            index += word[0].length;
            continue;
        }
        if (char === '"' || char === "'" || prefix !== "") {
            const start = index + prefix.length;
            const quote = source.startsWith(source[start].repeat(3), start) ? source[start].repeat(3) : source[start];
            let end = start + quote.length;
            let value = "";
            while (!source.startsWith(quote, end)) {
                if (end >= source.length || (quote.length === 1 && source[end] === "\n")) {
                    throw new Error(`line ${line}: a string that does not end`);
                }
                if (source[end] === "\\" && !/[rR]/.test(prefix)) {
                    const escaped = source[end + 1];
                    value += ({ n: "\n", t: "\t", "\\": "\\", "'": "'", '"': '"' } as Record<string, string>)[escaped] ?? `\\${escaped}`;
                    end += 2;
                    continue;
                }
                if (source[end] === "\n") {
                    line += 1;
                }
                value += source[end];
                end += 1;
            }
            push(/[fF]/.test(prefix) ? "fstring" : "string", value);
            index = end + quote.length;
            continue;
        }
        const number = /^\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?/.exec(source.slice(index));
        if (number !== null) {
            push("number", number[0]);
            index += number[0].length;
            continue;
        }
        if ("([{".includes(char)) {
            depth += 1;
        } else if (")]}".includes(char)) {
            depth -= 1;
        }
        push("op", char);
        index += 1;
    }
    push("end", "");
    return tokens;
}

type PyExpr =
    | { t: "str"; value: string; line: number }
    | { t: "fstr"; value: string; line: number }
    | { t: "num"; value: number; line: number }
    | { t: "const"; value: boolean | null; line: number }
    | { t: "name"; id: string; line: number }
    | { t: "attr"; object: PyExpr; name: string; line: number }
    | { t: "call"; callee: PyExpr; args: PyExpr[]; keywords: [string, PyExpr][]; line: number }
    | { t: "index"; object: PyExpr; index: PyExpr; line: number }
    | { t: "dict"; entries: [PyExpr, PyExpr][]; line: number }
    | { t: "list"; items: PyExpr[]; line: number };

type PyStatement =
    | { s: "import"; module: string; alias: string; line: number }
    | { s: "assign"; target: string; value: PyExpr; line: number }
    | { s: "expr"; value: PyExpr; line: number };

const PY_STATEMENT_KEYWORDS = new Set(["def", "class", "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "return", "lambda", "async", "await", "del", "global", "nonlocal", "raise", "yield", "assert", "pass", "break", "continue"]);

function parsePython(source: string): PyStatement[] {
    const tokens = tokenize(source);
    let position = 0;
    const peek = (): Token => tokens[position];
    const next = (): Token => tokens[position++];
    const refuse = (token: Token, what: string): never => {
        throw new Error(`line ${token.line}: ${what}, which this parser does not read`);
    };
    const expect = (text: string): Token => {
        const token = next();
        if (token.text !== text || (token.kind !== "op" && token.kind !== "name")) {
            refuse(token, `${JSON.stringify(token.text)} where ${JSON.stringify(text)} belongs`);
        }
        return token;
    };
    const isOp = (text: string): boolean => peek().kind === "op" && peek().text === text;

    /** Items up to a closing bracket, separated by commas (a trailing comma allowed). */
    const until = (close: string, item: () => void): void => {
        while (!isOp(close)) {
            item();
            if (!isOp(close)) {
                expect(",");
            }
        }
        expect(close);
    };

    const atom = (): PyExpr => {
        const token = next();
        switch (token.kind) {
            case "string": {
                let value = token.text;
                while (peek().kind === "string") {
                    value += next().text; // implicit concatenation
                }
                return { t: "str", value, line: token.line };
            }
            case "fstring":
                return { t: "fstr", value: token.text, line: token.line };
            case "number":
                return { t: "num", value: Number(token.text.replace(/_/g, "")), line: token.line };
            case "name":
                if (token.text === "True" || token.text === "False" || token.text === "None") {
                    return { t: "const", value: token.text === "None" ? null : token.text === "True", line: token.line };
                }
                if (PY_STATEMENT_KEYWORDS.has(token.text) || ["not", "and", "or", "in", "is", "import", "from", "as"].includes(token.text)) {
                    return refuse(token, `the keyword ${token.text}`);
                }
                return { t: "name", id: token.text, line: token.line };
            case "op":
                if (token.text === "-" && peek().kind === "number") {
                    return { t: "num", value: -Number(next().text.replace(/_/g, "")), line: token.line };
                }
                if (token.text === "{") {
                    const entries: [PyExpr, PyExpr][] = [];
                    until("}", () => {
                        const key = expression();
                        expect(":");
                        entries.push([key, expression()]);
                    });
                    return { t: "dict", entries, line: token.line };
                }
                if (token.text === "[") {
                    const items: PyExpr[] = [];
                    until("]", () => void items.push(expression()));
                    return { t: "list", items, line: token.line };
                }
                if (token.text === "(") {
                    const inner = expression();
                    if (isOp(",")) {
                        refuse(peek(), "a tuple");
                    }
                    expect(")");
                    return inner;
                }
                return refuse(token, `the operator ${JSON.stringify(token.text)}`);
            default:
                return refuse(token, token.kind === "end" ? "the end of the file" : "the end of a line");
        }
    };

    const expression = (): PyExpr => {
        let expr = atom();
        for (;;) {
            if (isOp(".")) {
                next();
                const name = next();
                if (name.kind !== "name") {
                    refuse(name, "an attribute that is not a name");
                }
                expr = { t: "attr", object: expr, name: name.text, line: name.line };
            } else if (isOp("(")) {
                const open = next();
                const args: PyExpr[] = [];
                const keywords: [string, PyExpr][] = [];
                until(")", () => {
                    if (peek().kind === "name" && tokens[position + 1].kind === "op" && tokens[position + 1].text === "=") {
                        const keyword = next().text;
                        next();
                        keywords.push([keyword, expression()]);
                    } else if (isOp("*")) {
                        refuse(peek(), "an unpacked argument");
                    } else {
                        if (keywords.length > 0) {
                            refuse(peek(), "a positional argument after a keyword argument");
                        }
                        args.push(expression());
                    }
                });
                expr = { t: "call", callee: expr, args, keywords, line: open.line };
            } else if (isOp("[")) {
                const open = next();
                const index = expression();
                expect("]");
                expr = { t: "index", object: expr, index, line: open.line };
            } else {
                break;
            }
        }
        if (peek().kind === "name" && ["for", "if", "and", "or", "in", "is", "not"].includes(peek().text)) {
            refuse(peek(), `the keyword ${peek().text}`);
        }
        if (peek().kind === "op" && !",:)]}=".includes(peek().text)) {
            refuse(peek(), `the operator ${JSON.stringify(peek().text)}`);
        }
        return expr;
    };

    const dotted = (): string => {
        const parts = [next().text];
        while (isOp(".")) {
            next();
            parts.push(next().text);
        }
        return parts.join(".");
    };

    const statements: PyStatement[] = [];
    while (peek().kind !== "end") {
        const first = peek();
        if (first.kind === "name" && first.text === "import") {
            next();
            for (;;) {
                const module = dotted();
                let alias = module.split(".")[0];
                if (peek().text === "as") {
                    next();
                    alias = next().text;
                } else if (module.includes(".")) {
                    refuse(first, "an import of a submodule without `as`");
                }
                statements.push({ s: "import", module, alias, line: first.line });
                if (!isOp(",")) {
                    break;
                }
                next();
            }
        } else if (first.kind === "name" && first.text === "from") {
            next();
            const module = dotted();
            expect("import");
            for (;;) {
                const name = next().text;
                let alias = name;
                if (peek().text === "as") {
                    next();
                    alias = next().text;
                }
                statements.push({ s: "import", module: `${module}.${name}`, alias, line: first.line });
                if (!isOp(",")) {
                    break;
                }
                next();
            }
        } else if (first.kind === "name" && PY_STATEMENT_KEYWORDS.has(first.text)) {
            refuse(first, `a ${first.text} statement`);
        } else {
            const value = expression();
            if (isOp("=")) {
                next();
                if (value.t !== "name") {
                    refuse(first, "an assignment to something other than a name");
                }
                statements.push({ s: "assign", target: (value as { id: string }).id, value: expression(), line: first.line });
            } else {
                statements.push({ s: "expr", value, line: first.line });
            }
        }
        const end = next();
        if (end.kind !== "newline" && end.kind !== "end") {
            refuse(end, `${JSON.stringify(end.text)} after a complete statement`);
        }
        if (end.kind === "end") {
            break;
        }
    }
    return statements;
}

function renderPython(expr: PyExpr): string {
    switch (expr.t) {
        case "str":
            return JSON.stringify(expr.value);
        case "fstr":
            return `f${JSON.stringify(expr.value)}`;
        case "num":
            return String(expr.value);
        case "const":
            return expr.value === null ? "None" : expr.value ? "True" : "False";
        case "name":
            return expr.id;
        case "attr":
            return `${renderPython(expr.object)}.${expr.name}`;
        case "call":
            return `${renderPython(expr.callee)}(...)`;
        case "index":
            return `${renderPython(expr.object)}[${renderPython(expr.index)}]`;
        case "dict":
            return "{...}";
        case "list":
            return "[...]";
    }
}

const PYTHON_KEYWORDS = new Set(["False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except", "exec", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "print", "raise", "return", "try", "while", "with", "yield"]);

/**
 * A schema name as Pulumi's Python SDK generator spells it: pulumi/pulumi pkg/codegen/python
 * `PyName` (the current algorithm, not the legacy one; ASCII names): camelCase to snake_case,
 * an acronym kept as one word (`osDiskSizeGB` -> `os_disk_size_gb`), digits and a plural `s`
 * after an acronym folded into it, and a trailing `_` on a Python keyword.
 */
function pyName(name: string): string {
    const words: string[] = [];
    let current = "";
    let state: "first" | "upper" | "acronym" | "lowerOrNumber" = "first";
    const isUpper = (char: string): boolean => char >= "A" && char <= "Z";
    for (const raw of name) {
        const char = /[A-Za-z0-9_]/.test(raw) ? raw : "_";
        switch (state) {
            case "first":
                if (/[0-9]/.test(char)) {
                    current += "_";
                }
                state = isUpper(char) ? "upper" : "lowerOrNumber";
                current += char.toLowerCase();
                break;
            case "upper":
                state = isUpper(char) ? "acronym" : "lowerOrNumber";
                current += char.toLowerCase();
                break;
            case "acronym":
                if (isUpper(char)) {
                    current += char.toLowerCase();
                } else if (/[0-9]/.test(char) || char === "s") {
                    state = "lowerOrNumber";
                    current += char;
                } else {
                    words.push(current.slice(0, -1));
                    current = current.slice(-1) + char;
                    state = "lowerOrNumber";
                }
                break;
            case "lowerOrNumber":
                if (isUpper(char)) {
                    words.push(current);
                    current = char.toLowerCase();
                    state = "upper";
                } else {
                    current += char;
                }
                break;
        }
    }
    if (current !== "") {
        words.push(current);
    }
    const result = words.join("_");
    return PYTHON_KEYWORDS.has(result) ? `${result}_` : result;
}

/** The Python module the package's SDK is generated as (pulumi/pulumi pkg/codegen/python `PyPack`). */
const PYTHON_MODULE = `pulumi_${PACKAGE.replace(/-/g, "_")}`;

/** Constructors of other packages whose type token the check needs (the kubernetes provider). */
const PYTHON_TYPE_TOKENS: Record<string, string> = { "pulumi_kubernetes.Provider": "pulumi:providers:kubernetes" };

function pythonProgram(source: string): Program {
    const statements = parsePython(source);
    const modules = new Map<string, string>();
    const values = new Map<string, Value>();
    const configs = new Set<string>();
    const resources: ProgramResource[] = [];
    const references: ProgramReference[] = [];

    /** `pulumi_kubernetes.Provider` for `kubernetes.Provider`, when the root is an imported module. */
    const qualified = (expr: PyExpr): string | undefined => {
        if (expr.t === "name") {
            return modules.get(expr.id);
        }
        if (expr.t === "attr") {
            const object = qualified(expr.object);
            return object === undefined ? undefined : `${object}.${expr.name}`;
        }
        return undefined;
    };

    const toValue = (expr: PyExpr, target?: string): Value => {
        const where = `line ${expr.line}`;
        switch (expr.t) {
            case "str":
            case "num":
            case "const":
                return { kind: "literal", value: expr.value };
            case "fstr":
                return { kind: "computed", text: renderPython(expr) };
            case "list":
                return { kind: "list", items: expr.items.map((item) => toValue(item)) };
            case "dict":
                return {
                    kind: "object",
                    entries: expr.entries.map(([key, item]): [string, Value] => {
                        if (key.t !== "str") {
                            throw new Error(`line ${key.line}: a dict key that is not a string literal, which this parser does not read`);
                        }
                        return [key.value, toValue(item)];
                    }),
                };
            case "name": {
                const known = values.get(expr.id);
                if (known !== undefined) {
                    return known;
                }
                references.push({ where, text: expr.id, resource: expr.id, property: undefined });
                return { kind: "output", text: expr.id, resource: expr.id, property: undefined };
            }
            case "attr": {
                let root: PyExpr = expr;
                let property: string | undefined;
                while (root.t === "attr") {
                    property = root.name;
                    root = root.object;
                }
                if (root.t === "name" && !modules.has(root.id) && !values.has(root.id)) {
                    const text = renderPython(expr);
                    references.push({ where, text: `${root.id}.${property}`, resource: root.id, property });
                    return { kind: "output", text, resource: root.id, property };
                }
                return { kind: "computed", text: renderPython(expr) };
            }
            case "index":
                toValue(expr.object);
                toValue(expr.index);
                return { kind: "computed", text: renderPython(expr) };
            case "call": {
                const constructor = qualified(expr.callee);
                if (constructor === "pulumi.Config") {
                    if (target !== undefined) {
                        configs.add(target);
                    }
                    return { kind: "computed", text: renderPython(expr) };
                }
                if (expr.callee.t === "attr" && expr.callee.object.t === "name" && configs.has(expr.callee.object.id) && /^(require|get)(_secret)?$/.test(expr.callee.name)) {
                    return { kind: "known", text: renderPython(expr), type: "string" };
                }
                const className = constructor?.split(".").pop() ?? "";
                if (constructor !== undefined && /^[A-Z]/.test(className)) {
                    // A resource: `Class("name", keyword=value, ..., opts=...)`.
                    const [first, ...others] = expr.args;
                    if (first?.t !== "str" || others.length > 0) {
                        throw new Error(`line ${expr.line}: ${renderPython(expr.callee)} takes its resource name and keyword arguments only here (no args object), which is what this parser reads`);
                    }
                    const inPackage = constructor === `${PYTHON_MODULE}.${className}`;
                    const properties: [string, Value][] = [];
                    for (const [keyword, argument] of expr.keywords) {
                        const value = toValue(argument);
                        if (keyword !== "opts") {
                            properties.push([keyword, value]);
                        }
                    }
                    resources.push({
                        name: target ?? first.value,
                        type: inPackage ? `${TYPE_PREFIX}${className}` : (PYTHON_TYPE_TOKENS[constructor] ?? constructor),
                        where: `line ${expr.line} ${className}(${JSON.stringify(first.value)})`,
                        properties,
                    });
                    const name = target ?? first.value;
                    return { kind: "output", text: name, resource: name, property: undefined };
                }
                for (const argument of [...expr.args, ...expr.keywords.map(([, value]) => value)]) {
                    toValue(argument);
                }
                return { kind: "computed", text: renderPython(expr) };
            }
        }
    };

    for (const statement of statements) {
        if (statement.s === "import") {
            modules.set(statement.alias, statement.module);
        } else if (statement.s === "assign") {
            const value = toValue(statement.value, statement.target);
            if (value.kind !== "output" || value.resource !== statement.target) {
                values.set(statement.target, value);
            }
        } else {
            toValue(statement.value);
        }
    }
    return { spell: pyName, resources, references };
}

// ---------------------------------------------------------------------------------------------

const yamlText = fs.readFileSync(YAML_EXAMPLE, "utf8");
const pythonText = fs.readFileSync(PYTHON_EXAMPLE, "utf8");

/** The example text with one deliberate change, which must be there exactly once. */
function mutate(text: string, from: string, to: string): string {
    assert.equal(text.split(from).length - 1, 1, `the example contains ${JSON.stringify(from)} exactly once`);
    return text.replace(from, to);
}

const checkYaml = (text: string): CheckResult => checkProgram(yamlProgram(text), SCHEMA);
const checkPython = (text: string): CheckResult => checkProgram(pythonProgram(text), SCHEMA);

describe("the examples against the committed schema", () => {
    it("examples/yaml uses only inputs and outputs the schema has, with their types", () => {
        assert.deepEqual(checkYaml(yamlText).problems, []);
    });

    it("examples/python uses only inputs and outputs the schema has, with their types", () => {
        assert.deepEqual(checkPython(pythonText).problems, []);
    });

    it("both build the same components from the same inputs and read the same outputs", () => {
        const used = checkYaml(yamlText).used;
        assert.deepEqual(checkPython(pythonText).used, used);
        // Pinned, so that an example that stops using something (or parses to nothing) fails here.
        assert.deepEqual(used, [
            "WorkloadIdentity",
            "WorkloadIdentity output clientId",
            "WorkloadIdentity output podLabels",
            "WorkloadIdentity output principalId",
            "WorkloadIdentity output serviceAccount",
            "WorkloadIdentity output tenantId",
            "WorkloadIdentity.clusters",
            "WorkloadIdentity.clusters.*.kubernetesProvider",
            "WorkloadIdentity.clusters.*.oidcIssuerUrl",
            "WorkloadIdentity.location",
            "WorkloadIdentity.namespace",
            "WorkloadIdentity.resourceGroupName",
            "WorkloadIdentity.roleAssignments",
            "WorkloadIdentity.roleAssignments.*.role",
            "WorkloadIdentity.roleAssignments.*.scope",
            "WorkloadIdentity.serviceAccount",
            "WorkloadIdentity.tags",
            "WorkloadIdentityCluster",
            "WorkloadIdentityCluster output kubeconfig",
            "WorkloadIdentityCluster output name",
            "WorkloadIdentityCluster output oidcIssuerUrl",
            "WorkloadIdentityCluster.adminGroupObjectIds",
            "WorkloadIdentityCluster.authorizedIpRanges",
            "WorkloadIdentityCluster.clusterName",
            "WorkloadIdentityCluster.location",
            "WorkloadIdentityCluster.namespaces",
            "WorkloadIdentityCluster.resourceGroupName",
            "WorkloadIdentityCluster.sku",
            "WorkloadIdentityCluster.systemPool",
            "WorkloadIdentityCluster.systemPool.maxCount",
            "WorkloadIdentityCluster.systemPool.minCount",
            "WorkloadIdentityCluster.systemPool.vmSize",
            "WorkloadIdentityCluster.systemPool.zones",
            "WorkloadIdentityCluster.tags",
        ]);
    });

    it("pass the workload one kubernetes Provider per cluster, built from that cluster's kubeconfig", () => {
        for (const [language, program] of [
            ["yaml", yamlProgram(yamlText)],
            ["python", pythonProgram(pythonText)],
        ] as const) {
            const providers = program.resources.filter((resource) => resource.type === "pulumi:providers:kubernetes");
            assert.equal(providers.length, 1, `${language}: one kubernetes provider`);
            const [provider] = providers;
            const kubeconfig = provider.properties.find(([key]) => key === "kubeconfig")?.[1];
            assert.deepEqual(kubeconfig && kubeconfig.kind === "output" ? [kubeconfig.resource, kubeconfig.property] : kubeconfig, ["cluster", "kubeconfig"], `${language}: the provider's kubeconfig is the cluster's output`);
            const api = program.resources.find((resource) => resource.type === `${TYPE_PREFIX}WorkloadIdentity`);
            const clusters = api?.properties.find(([key]) => key === "clusters")?.[1];
            assert.ok(clusters?.kind === "object", `${language}: the workload names its clusters`);
            assert.deepEqual(
                clusters.entries.map(([key, binding]) => [key, binding.kind === "object" ? binding.entries.map(([field, value]) => [field, value.kind === "output" ? `${value.resource}.${value.property ?? ""}` : value.kind]) : binding.kind]),
                [["main", [[program.spell("oidcIssuerUrl"), `cluster.${program.spell("oidcIssuerUrl")}`], [program.spell("kubernetesProvider"), `${provider.name}.`]]]],
                `${language}: the binding is the cluster's issuer and the provider resource itself`,
            );
        }
    });

    it("add the package by the tag of the release the CHANGELOG and components/package.json name", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "components", "package.json"), "utf8")) as { name: string; version: string };
        assert.equal(SCHEMA.version, manifest.version);
        const expected = `github.com/<owner>/aks-workload-identity/components@v${manifest.version}`;
        for (const file of ["examples/yaml/Pulumi.yaml", "examples/python/Pulumi.yaml"]) {
            const project = parseYaml(fs.readFileSync(path.join(ROOT, file), "utf8")) as { packages?: Record<string, unknown> };
            assert.deepEqual(project.packages, { [manifest.name]: expected }, `${file} adds the package at v${manifest.version}`);
        }
        const changelog = fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8");
        const released = /^## \[(\d+\.\d+\.\d+)\]/m.exec(changelog)?.[1];
        assert.equal(released, manifest.version, "the CHANGELOG's latest release is the package's version");
        assert.match(pythonText, new RegExp(`^import ${PYTHON_MODULE} as aks_workload_identity$`, "m"));
    });
});

describe("the example checker", () => {
    it("spells schema names as Pulumi's Python generator does", () => {
        const cases: [string, string][] = [
            ["resourceGroupName", "resource_group_name"],
            ["osDiskSizeGB", "os_disk_size_gb"],
            ["oidcIssuerUrl", "oidc_issuer_url"],
            ["adminGroupObjectIds", "admin_group_object_ids"],
            ["authorizedIpRanges", "authorized_ip_ranges"],
            ["defenderLogAnalyticsWorkspaceResourceId", "defender_log_analytics_workspace_resource_id"],
            ["vnetSubnetId", "vnet_subnet_id"],
            ["dnsServiceIp", "dns_service_ip"],
            // From PyName's own comments and tests: acronyms, digits and a plural `s` after one.
            ["SHA256Hash", "sha256_hash"],
            ["Sha256Hash", "sha256_hash"],
            ["publicIPs", "public_ips"],
            ["IPAddress", "ip_address"],
            ["name", "name"],
            ["from", "from_"],
        ];
        for (const [schemaName, python] of cases) {
            assert.equal(pyName(schemaName), python, schemaName);
        }
    });

    it("finds a misspelled input, nested or not, in either language", () => {
        assert.deepEqual(checkYaml(mutate(yamlText, "vmSize: Standard_D4ds_v5", "vmSise: Standard_D4ds_v5")).problems, [
            'resources.cluster: systemPool.vmSise: NodePoolArgs has no input "vmSise"; did you mean "vmSize"?',
            'resources.cluster: systemPool: NodePoolArgs requires "vmSize", which is missing.',
        ]);
        assert.deepEqual(checkYaml(mutate(yamlText, "      roleAssignments:", "      roleAssignment:")).problems, [
            'resources.api: roleAssignment: WorkloadIdentity has no input "roleAssignment"; did you mean "roleAssignments"?',
        ]);
        assert.deepEqual(checkPython(mutate(pythonText, '"vm_size": "Standard_D4ds_v5"', '"vm_sise": "Standard_D4ds_v5"')).problems, [
            'line 34 WorkloadIdentityCluster("cluster"): system_pool.vm_sise: NodePoolArgs has no input "vm_sise"; did you mean "vm_size"?',
            'line 34 WorkloadIdentityCluster("cluster"): system_pool: NodePoolArgs requires "vm_size", which is missing.',
        ]);
        // The schema's own spelling is wrong in Python: dict keys are snake_case there too.
        assert.deepEqual(checkPython(mutate(pythonText, '"oidc_issuer_url": cluster', '"oidcIssuerUrl": cluster')).problems, [
            'line 58 WorkloadIdentity("api"): clusters.main.oidcIssuerUrl: WorkloadClusterBinding has no input "oidcIssuerUrl"; did you mean "oidc_issuer_url"?',
            'line 58 WorkloadIdentity("api"): clusters.main: WorkloadClusterBinding requires "oidc_issuer_url", which is missing.',
        ]);
        assert.deepEqual(checkPython(mutate(pythonText, "    resource_group_name=group.name,\n    location=group.location,\n    cluster_name", "    resource_grup_name=group.name,\n    location=group.location,\n    cluster_name")).problems, [
            'line 34 WorkloadIdentityCluster("cluster"): resource_grup_name: WorkloadIdentityCluster has no input "resource_grup_name"; did you mean "resource_group_name"?',
            'line 34 WorkloadIdentityCluster("cluster"): WorkloadIdentityCluster requires "resource_group_name", which is missing.',
        ]);
    });

    it("finds an output that the component does not have", () => {
        assert.deepEqual(checkYaml(mutate(yamlText, "${cluster.kubeconfig}", "${cluster.kubeConfig}")).problems, [
            'resources.k8s-main.properties.kubeconfig: ${cluster.kubeConfig}: WorkloadIdentityCluster has no output "kubeConfig"; did you mean "kubeconfig"?',
        ]);
        assert.deepEqual(checkPython(mutate(pythonText, "api.client_id", "api.clientId")).problems, [
            'line 81: api.clientId: WorkloadIdentity has no output "clientId"; did you mean "client_id"?',
        ]);
        assert.deepEqual(checkYaml(mutate(yamlText, "${k8s-main}", "${k8s}")).problems, [
            'resources.api.properties.clusters.main.kubernetesProvider: ${k8s} names no resource of the program. Its resources: api, cluster, k8s-main, rg.',
        ]);
    });

    it("finds a wrong type, a value outside an enum and an output where the schema wants a plain value", () => {
        assert.deepEqual(checkYaml(mutate(yamlText, "minCount: 1", 'minCount: "1"')).problems, ['resources.cluster: systemPool.minCount: expected a number, got the string "1".']);
        assert.deepEqual(checkYaml(mutate(yamlText, "sku: Free", "sku: Gold")).problems, ['resources.cluster: sku: expected one of "Free", "Standard", "Premium" (ClusterSkuTier), got the string "Gold".']);
        assert.deepEqual(checkYaml(mutate(yamlText, "role: Storage Blob Data Reader", "role: ${rg.name}")).problems, [
            "resources.api: roleAssignments.blobs.role: must be a plain value, known when the program runs (the schema marks it plain), but ${rg.name} is known only at deploy time.",
        ]);
        assert.deepEqual(checkPython(mutate(pythonText, 'namespaces=["api"]', "namespaces=group.name")).problems, [
            'line 34 WorkloadIdentityCluster("cluster"): namespaces: must be a plain value, known when the program runs (the schema marks it plain), but group.name is known only at deploy time.',
        ]);
        assert.deepEqual(checkPython(mutate(pythonText, 'authorized_ip_ranges=[authorized_ip_range]', "authorized_ip_ranges=authorized_ip_range")).problems, [
            'line 34 WorkloadIdentityCluster("cluster"): authorized_ip_ranges: expected a list, got config.require(...) (a string).',
        ]);
        assert.deepEqual(checkYaml(mutate(yamlText, "          oidcIssuerUrl: ${cluster.oidcIssuerUrl}", "          oidcIssuerUrl: ${cluster}")).problems, [
            "resources.api: clusters.main.oidcIssuerUrl: expected string, got the component ${cluster} itself.",
        ]);
    });

    it("finds a component the package does not have", () => {
        assert.deepEqual(checkYaml(mutate(yamlText, "type: aks-workload-identity:index:WorkloadIdentity\n", "type: aks-workload-identity:WorkloadIdentities\n")).problems, [
            'resources.api: aks-workload-identity has no component "WorkloadIdentities"; did you mean "WorkloadIdentity"?',
        ]);
    });

    it("refuses Python it does not read, naming the line", () => {
        assert.throws(() => pythonProgram('x = "a" + "b"\n'), { message: 'line 1: the operator "+", which this parser does not read' });
        assert.throws(() => pythonProgram("if x:\n    y = 1\n"), { message: "line 2: an indented block, which this parser does not read" });
        assert.throws(() => pythonProgram("del x\n"), { message: "line 1: a del statement, which this parser does not read" });
        assert.throws(() => pythonProgram("x = [i for i in y]\n"), { message: "line 1: the keyword for, which this parser does not read" });
        assert.throws(() => pythonProgram('import pulumi_aks_workload_identity as w\nc = w.WorkloadIdentity("a", w.WorkloadIdentityArgs())\n'), {
            message: "line 2: w.WorkloadIdentity takes its resource name and keyword arguments only here (no args object), which is what this parser reads",
        });
    });
});
