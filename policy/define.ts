import type {
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** A violation a stack rule found: the message, and the resource it is about when there is one. */
export interface StackProblem {
    readonly message: string;
    readonly urn?: string;
}

interface RuleMetadata {
    /** The policy name: what `--policy-pack-config` keys the enforcement level by. */
    readonly name: string;
    readonly description: string;
    readonly enforcementLevel: EnforcementLevel;
    /** How to fix a violation, in general; each message says it for its resource. */
    readonly remediationSteps: string;
    readonly configSchema?: PolicyConfigSchema;
}

export interface ResourceRule extends RuleMetadata {
    /** Whether the rule looks at resources of this type at all. */
    readonly appliesTo: (type: string) => boolean;
    /** Every problem of one resource, each a whole message naming the resource. */
    readonly check: (args: ResourceValidationArgs) => readonly string[];
}

export interface StackRule extends RuleMetadata {
    readonly check: (args: StackValidationArgs) => readonly StackProblem[];
}

/** A CrossGuard resource policy from a rule: one violation per problem. */
export function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        remediationSteps: rule.remediationSteps,
        ...(rule.configSchema === undefined ? {} : { configSchema: rule.configSchema }),
        validateResource: (args, reportViolation) => {
            if (!rule.appliesTo(args.type)) {
                return;
            }
            for (const message of rule.check(args)) {
                reportViolation(message);
            }
        },
    };
}

/** A CrossGuard stack policy from a rule: one violation per problem, on the resource it names. */
export function stackPolicy(rule: StackRule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        remediationSteps: rule.remediationSteps,
        ...(rule.configSchema === undefined ? {} : { configSchema: rule.configSchema }),
        validateStack: (args, reportViolation) => {
            for (const problem of rule.check(args)) {
                reportViolation(problem.message, problem.urn);
            }
        },
    };
}

/** A rule for exactly these types. */
export function ofTypes(...types: readonly string[]): (type: string) => boolean {
    return (type) => types.includes(type);
}
