import type {
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { unknownCheckingProxy } from "./sdk";

/**
 * Builders of the arguments CrossGuard passes to policies, for unit tests of single rules (the
 * way pulumi-policy's own tests build them): properties wrapped in the same proxy that throws on
 * values unknown at preview, URNs of the usual shape, links between resources by name.
 */

/** The engine's marker of a string (and most other values) unknown during preview. */
export const UNKNOWN_AT_PREVIEW = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const TEST_PROJECT = "aks-workload-identity";

export function testUrn(stack: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::${TEST_PROJECT}::${type}::${name}`;
}

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function typeChecks(type: string, props: Record<string, unknown>): Pick<ResourceValidationArgs, "isType" | "asType"> {
    const matches = (resourceClass: unknown): boolean => (resourceClass as { __pulumiType?: unknown }).__pulumiType === type;
    return {
        isType: (resourceClass) => matches(resourceClass),
        asType: ((resourceClass: unknown) => (matches(resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    };
}

const notApplicable = (reason?: string): never => {
    throw new Error(`notApplicable: ${reason ?? ""}`);
};

export interface ResourceArgsSpec {
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    /** Default: "dev". */
    readonly stack?: string;
    /** The policy's config, as `args.getConfig()` returns it. Default: {}. */
    readonly config?: object;
}

/** What a resource policy receives for one resource. */
export function resourceArgs(spec: ResourceArgsSpec): ResourceValidationArgs {
    const props = unknownCheckingProxy(spec.props);
    return {
        type: spec.type,
        props,
        urn: testUrn(spec.stack ?? "dev", spec.type, spec.name),
        name: spec.name,
        opts: OPTIONS,
        stackTags: new Map(),
        ...typeChecks(spec.type, props),
        getConfig: <T extends object>() => (spec.config ?? {}) as T,
        notApplicable,
    };
}

/** A resource of a stack; every reference to another resource is by that resource's name. */
export interface StackResourceSpec {
    readonly type: string;
    readonly name: string;
    /** Outputs (what stack policies see). Default: {}. */
    readonly props?: Record<string, unknown>;
    /** Names of the resources it depends on (`dependsOn` and the sources of its inputs). */
    readonly dependsOn?: readonly string[];
    /** Per property, names of the resources its value comes from; they are dependencies as well. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** Name of its explicit provider resource. */
    readonly provider?: string;
}

/** What a stack policy receives for these resources (names must be unique). */
export function stackArgs(specs: readonly StackResourceSpec[], options: { stack?: string; config?: object } = {}): StackValidationArgs {
    const stack = options.stack ?? "dev";
    const byName = new Map<string, PolicyResource>();
    for (const spec of specs) {
        if (byName.has(spec.name)) {
            throw new Error(`Two test resources are named ${spec.name}.`);
        }
        const props = unknownCheckingProxy(spec.props ?? {});
        byName.set(spec.name, {
            type: spec.type,
            props,
            urn: testUrn(stack, spec.type, spec.name),
            name: spec.name,
            opts: OPTIONS,
            dependencies: [],
            propertyDependencies: {},
            ...typeChecks(spec.type, props),
        });
    }
    const find = (name: string): PolicyResource => {
        const found = byName.get(name);
        if (found === undefined) {
            throw new Error(`No test resource is named ${name}.`);
        }
        return found;
    };
    for (const spec of specs) {
        const resource = find(spec.name);
        const sources = Object.values(spec.propertyDependencies ?? {}).flat();
        resource.dependencies = [...new Set([...(spec.dependsOn ?? []), ...sources])].map(find);
        for (const [property, names] of Object.entries(spec.propertyDependencies ?? {})) {
            resource.propertyDependencies[property] = names.map(find);
        }
        if (spec.provider !== undefined) {
            const provider = find(spec.provider);
            resource.provider = { type: provider.type, name: provider.name, urn: provider.urn, props: provider.props };
        }
    }
    return {
        resources: [...byName.values()],
        stackTags: new Map(),
        getConfig: <T extends object>() => (options.config ?? {}) as T,
        notApplicable,
    };
}

/** The messages a resource policy reports for these args. */
export function violationsOf(policy: ResourceValidationPolicy, args: ResourceValidationArgs): string[] {
    const messages: string[] = [];
    const report: ReportViolation = (message) => {
        messages.push(message);
    };
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) {
        const outcome = validate(args, report);
        if (outcome instanceof Promise) {
            throw new Error(`${policy.name} validated asynchronously; these helpers expect synchronous rules.`);
        }
    }
    return messages;
}

/** The violations (message and the name of the resource it names) a stack policy reports. */
export function stackViolationsOf(policy: StackValidationPolicy, args: StackValidationArgs): { message: string; resource?: string }[] {
    const found: { message: string; resource?: string }[] = [];
    const outcome = policy.validateStack(args, (message, urn) => {
        const resource = urn === undefined ? undefined : args.resources.find((r) => r.urn === urn)?.name;
        found.push(urn === undefined ? { message } : { message, resource: resource ?? urn });
    });
    if (outcome instanceof Promise) {
        throw new Error(`${policy.name} validated asynchronously; these helpers expect synchronous rules.`);
    }
    return found;
}
