import type {
    EnforcementLevel,
    Policies,
    PolicyPackConfig,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { isSecretValue } from "../offline/graph";
import type { RecordedResource } from "../offline/mock-runner";
import { policies as packPolicies } from "./policies";
import { stackOfUrn } from "./resources";
import { UnknownValueError, unknownCheckingProxy } from "./sdk";

/**
 * Runs the pack over a resource graph the mock runner recorded, the way CrossGuard runs it during
 * `pulumi preview`: every resource policy on every resource's inputs, then every stack policy on
 * all resources' outputs with their parents, dependencies and property dependencies linked.
 * Offline tools (the plan, the tests) call `evaluatePolicies`; no Pulumi CLI is involved.
 */

/** A violation as CrossGuard reports it. */
export interface PolicyViolation {
    readonly policy: string;
    /** `mandatory` fails the preview; `advisory` is a warning. */
    readonly enforcementLevel: "advisory" | "mandatory";
    readonly message: string;
    /** The resource the violation is about; absent for a violation of the stack as a whole. */
    readonly urn?: string;
}

export interface EvaluateOptions {
    /** The stack the resources were recorded for; every URN must belong to it. */
    readonly stack: string;
    /**
     * What `--policy-pack-config` would pass: per policy an enforcement level, or
     * `{ enforcementLevel?, ...config }`; `all` sets the level of every policy without its own.
     */
    readonly config?: PolicyPackConfig;
    /** The policies to run. Default: the whole pack. */
    readonly policies?: Policies;
}

/** The engine's marker for a value unknown during preview (a string's, which is how most of them look). */
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * A recorded value as a policy sees it: secrets unwrapped, the SDK's unknowns turned into the
 * engine's marker (which the policy proxies throw on), internal `__` keys dropped.
 */
export function policyValue(value: unknown): unknown {
    if (isSecretValue(value)) {
        return policyValue((value as { value: unknown }).value);
    }
    if (Array.isArray(value)) {
        return value.map(policyValue);
    }
    if (value !== null && typeof value === "object") {
        if ((value as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) {
            return UNKNOWN_VALUE;
        }
        return Object.fromEntries(
            Object.entries(value)
                .filter(([key]) => !key.startsWith("__"))
                .map(([key, item]) => [key, policyValue(item)]),
        );
    }
    return value;
}

function props(value: Record<string, unknown>): Record<string, unknown> {
    return unknownCheckingProxy(policyValue(value) as Record<string, unknown>);
}

function typeChecks(type: string, value: Record<string, unknown>): Pick<PolicyResource, "isType" | "asType"> {
    const matches = (resourceClass: unknown): boolean => (resourceClass as { __pulumiType?: unknown }).__pulumiType === type;
    return {
        isType: (resourceClass) => matches(resourceClass),
        asType: ((resourceClass: unknown) => (matches(resourceClass) ? value : undefined)) as PolicyResource["asType"],
    };
}

function options(resource: RecordedResource): PolicyResourceOptions {
    return {
        protect: resource.protect,
        ignoreChanges: [...resource.ignoreChanges],
        deleteBeforeReplace: resource.deleteBeforeReplace,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(resource.parent === undefined ? {} : { parent: resource.parent }),
    };
}

/** The provider of a recorded resource (recorded as `<urn>::<id>`), with its inputs. */
function providerOf(resource: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): PolicyProviderResource | undefined {
    if (resource.provider === undefined) {
        return undefined;
    }
    const urn = resource.provider.split("::").slice(0, -1).join("::");
    const provider = byUrn.get(urn);
    const [, , qualifiedType = "", name = ""] = urn.split("::");
    return {
        type: provider?.type ?? (qualifiedType.split("$").pop() as string),
        name: provider?.name ?? name,
        urn,
        props: props(provider?.inputs ?? {}),
    };
}

class NotApplicable extends Error {}

const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/** What a resource policy receives for one recorded resource: its inputs, as `Analyze` gets them. */
export function toResourceValidationArgs(
    resource: RecordedResource,
    resources: readonly RecordedResource[],
    getConfig: () => object = () => ({}),
): ResourceValidationArgs {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const inputs = props(resource.inputs);
    const provider = providerOf(resource, byUrn);
    return {
        type: resource.type,
        props: inputs,
        urn: resource.urn,
        name: resource.name,
        opts: options(resource),
        ...(provider === undefined ? {} : { provider }),
        stackTags: NO_TAGS,
        ...typeChecks(resource.type, inputs),
        getConfig: <T extends object>() => getConfig() as T,
        notApplicable: throwNotApplicable,
    } as ResourceValidationArgs;
}

/** The resources a stack policy receives: outputs, with parent, dependencies and property dependencies linked. */
export function toPolicyResources(resources: readonly RecordedResource[]): PolicyResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const converted = new Map<string, PolicyResource>();
    for (const resource of resources) {
        const outputs = props(resource.state);
        const provider = providerOf(resource, byUrn);
        converted.set(resource.urn, {
            type: resource.type,
            props: outputs,
            urn: resource.urn,
            name: resource.name,
            opts: options(resource),
            ...(provider === undefined ? {} : { provider }),
            dependencies: [],
            propertyDependencies: {},
            ...typeChecks(resource.type, outputs),
        });
    }
    const link = (urns: readonly string[]): PolicyResource[] =>
        urns.map((urn) => converted.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    for (const resource of resources) {
        const target = converted.get(resource.urn) as PolicyResource;
        const parent = resource.parent === undefined ? undefined : converted.get(resource.parent);
        if (parent !== undefined) {
            target.parent = parent;
        }
        target.dependencies = link(resource.dependencies);
        for (const [property, urns] of Object.entries(resource.propertyDependencies)) {
            // The engine leaves out properties that depend on nothing.
            if (urns.length > 0) {
                target.propertyDependencies[property] = link(urns);
            }
        }
    }
    return [...converted.values()];
}

/**
 * A policy's enforcement level under the config, as the engine and the CrossGuard server decide
 * it: the policy's own entry, else the `all` entry, else the level the policy declares.
 */
export function enforcementLevelOf(policy: { readonly name: string; readonly enforcementLevel?: EnforcementLevel }, config: PolicyPackConfig = {}): EnforcementLevel {
    const levelOf = (key: string): EnforcementLevel | undefined => {
        const entry = config[key] as EnforcementLevel | { enforcementLevel?: EnforcementLevel } | undefined;
        return typeof entry === "string" ? entry : entry?.enforcementLevel;
    };
    return levelOf(policy.name) ?? levelOf("all") ?? policy.enforcementLevel ?? "advisory";
}

/** A policy's config without its enforcement level, as `args.getConfig()` returns it. */
function configOf(name: string, config: PolicyPackConfig = {}): object {
    const entry = config[name] as EnforcementLevel | Record<string, unknown> | undefined;
    if (entry === undefined || typeof entry === "string") {
        return {};
    }
    return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== "enforcementLevel"));
}

function settle(policy: string, outcome: unknown): void {
    if (outcome !== null && typeof outcome === "object" && typeof (outcome as { then?: unknown }).then === "function") {
        throw new Error(`Policy ${policy} returned a promise; evaluatePolicies runs synchronous policies only.`);
    }
}

/**
 * Every violation the pack reports for a recorded stack, in policy order and then resource
 * order. A policy that reads a value unknown during preview yields the advisory CrossGuard
 * would print instead of its verdict.
 */
export function evaluatePolicies(resources: readonly RecordedResource[], options: EvaluateOptions): PolicyViolation[] {
    for (const resource of resources) {
        const stack = stackOfUrn(resource.urn);
        if (stack !== options.stack) {
            throw new Error(`Resource ${resource.urn} belongs to stack "${stack ?? "?"}", not to stack "${options.stack}".`);
        }
    }
    const violations: PolicyViolation[] = [];
    let stackResources: PolicyResource[] | undefined;
    for (const policy of options.policies ?? packPolicies) {
        const level = enforcementLevelOf(policy, options.config);
        if (level === "disabled") {
            continue;
        }
        const enforcementLevel = level === "remediate" ? "mandatory" : level;
        const getConfig = () => configOf(policy.name, options.config);
        const cannotRun = (error: Error, urn?: string): PolicyViolation => ({
            policy: policy.name,
            enforcementLevel: "advisory",
            message: `can't run policy '${policy.name}' during preview: ${error.message}`,
            ...(urn === undefined ? {} : { urn }),
        });
        const run = (fn: () => unknown, urn?: string): void => {
            try {
                settle(policy.name, fn());
            } catch (error) {
                if (error instanceof UnknownValueError) {
                    violations.push(cannotRun(error, urn));
                } else if (!(error instanceof NotApplicable)) {
                    throw error;
                }
            }
        };
        if ("validateStack" in policy) {
            stackResources ??= toPolicyResources(resources);
            const args: StackValidationArgs = {
                resources: stackResources,
                stackTags: NO_TAGS,
                getConfig: <T extends object>() => getConfig() as T,
                notApplicable: throwNotApplicable,
            };
            run(() =>
                policy.validateStack(args, (message, urn) => {
                    violations.push({ policy: policy.name, enforcementLevel, message, ...(urn === undefined ? {} : { urn }) });
                }),
            );
            continue;
        }
        const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const resource of resources) {
            for (const validate of validations) {
                run(
                    () =>
                        validate(toResourceValidationArgs(resource, resources, getConfig), (message) => {
                            violations.push({ policy: policy.name, enforcementLevel, message, urn: resource.urn });
                        }),
                    resource.urn,
                );
            }
        }
    }
    return violations;
}
