import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The component package's schema as Pulumi's own analyzer derives it from these sources
 * (`ComponentProvider.getSchema()` of `@pulumi/pulumi/provider/experimental`, the code path
 * `pulumi package add` runs through `PulumiPlugin.yaml`). `schema.json` beside this file is
 * the committed copy: `npm run schema` rewrites it, and a test fails when it is stale.
 */

/** The package folder: where `package.json`, `PulumiPlugin.yaml` and `schema.json` are. */
export const PACKAGE_DIR = __dirname;
export const COMMITTED_SCHEMA = path.join(PACKAGE_DIR, "schema.json");
/** The component classes other languages get, by the names their type tokens use. */
export const PACKAGE_COMPONENTS = ["WorkloadIdentityCluster", "WorkloadIdentity", "AdoptedCluster"] as const;

/**
 * The package's ComponentProvider, built as the plugin host builds it (cmd/run-plugin): the
 * components `getPulumiComponents` finds in the package's entry, named after `package.json`.
 */
export function componentProvider(): import("@pulumi/pulumi/provider/experimental").ComponentProvider {
    // Loaded here, not at the top: the stack program imports this folder and must not pay for
    // the TypeScript compiler the analyzer brings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ComponentProvider, getPulumiComponents } = require("@pulumi/pulumi/provider/experimental") as typeof import("@pulumi/pulumi/provider/experimental");
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")) as { name: string };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const components = getPulumiComponents(require(PACKAGE_DIR));
    return new ComponentProvider({ name: manifest.name, dirname: PACKAGE_DIR, components });
}

/** The schema, as the analyzer derives it now (takes seconds: it type-checks the package). */
export async function deriveSchema(provider = componentProvider()): Promise<string> {
    return formatSchema(await provider.getSchema());
}

/** The committed form: two-space JSON with a final newline, so that diffs stay readable. */
export function formatSchema(schema: string): string {
    return `${JSON.stringify(JSON.parse(schema), null, 2)}\n`;
}

/** The committed schema, parsed. */
export function committedSchema(): PackageSchema {
    return JSON.parse(fs.readFileSync(COMMITTED_SCHEMA, "utf8")) as PackageSchema;
}

let cached: PackageSchema | undefined;
/** The committed schema, read once per process (the components check their arguments against it). */
export function committedSchemaOnce(): PackageSchema {
    cached ??= committedSchema();
    return cached;
}

/** The parts of a Pulumi package schema this project reads. */
export interface PackageSchema {
    name: string;
    version?: string;
    resources: Record<string, ResourceSchema>;
    types: Record<string, TypeSchema>;
}
export interface ResourceSchema {
    isComponent?: boolean;
    description?: string;
    inputProperties?: Record<string, PropertySchema>;
    requiredInputs?: string[];
    properties?: Record<string, PropertySchema>;
    required?: string[];
}
export interface TypeSchema {
    type: string;
    description?: string;
    properties?: Record<string, PropertySchema>;
    required?: string[];
    enum?: { name?: string; value: string | number | boolean }[];
}
export interface PropertySchema {
    type?: string;
    $ref?: string;
    items?: PropertySchema;
    additionalProperties?: PropertySchema;
    plain?: boolean;
    optional?: boolean;
    secret?: boolean;
    description?: string;
}
