import { unwrapSecret } from "../offline/graph";
import { PLACEHOLDER_SUBSCRIPTION_ID, PLACEHOLDER_TENANT_ID, type RecordedResource } from "../offline/mock-runner";

/**
 * Values the mocks invent (issuer URLs, client, principal, object and tenant IDs, resource IDs)
 * exist only after a deployment. The plan must not print them as if they were real: every view
 * shows them as unknown, as `pulumi preview` does.
 */

/** A value only known after deployment. In JSON it is `{ "unknown": true }`. */
export interface Unknown {
    readonly unknown: true;
}

export const UNKNOWN: Unknown = Object.freeze({ unknown: true });

/** How the text and Markdown views show an unknown value. */
export const KNOWN_AFTER_DEPLOY = "(known after deploy)";

export function isUnknown(value: unknown): value is Unknown {
    return typeof value === "object" && value !== null && (value as { unknown?: unknown }).unknown === true && Object.keys(value).length === 1;
}

/** A string, or the text that stands for an unknown one. */
export function show(value: string | Unknown): string {
    return isUnknown(value) ? KNOWN_AFTER_DEPLOY : value;
}

function leaves(value: unknown, out: string[] = []): string[] {
    const plain = unwrapSecret(value);
    if (typeof plain === "string") {
        out.push(plain);
    } else if (Array.isArray(plain)) {
        plain.forEach((item) => leaves(item, out));
    } else if (plain !== null && typeof plain === "object") {
        Object.values(plain).forEach((item) => leaves(item, out));
    }
    return out;
}

/** Shorter strings (`true`, `Linux`, a pool name) are never taken for invented values. */
const MIN_INVENTED_LENGTH = 8;

/**
 * The strings the mocks invented for one resource: leaves of its mocked state that are none of its
 * inputs (an identity's client ID, a cluster's issuer URL), as opposed to outputs that only echo an
 * input (`name` from `resourceName`).
 */
export function inventedBy(resource: RecordedResource): string[] {
    const inputs = new Set(leaves(resource.inputs));
    return [...new Set(leaves(resource.state))].filter((value) => value.length >= MIN_INVENTED_LENGTH && !inputs.has(value));
}

/** Everything the mocks invented in a run, to recognise it wherever it flows. */
export interface Invented {
    /** Invented strings, longest first (so the longest match is replaced first). */
    readonly values: readonly string[];
}

export function inventedValues(resources: readonly RecordedResource[]): Invented {
    const values = new Set<string>([PLACEHOLDER_TENANT_ID]);
    for (const resource of resources.filter((r) => r.custom)) {
        inventedBy(resource).forEach((value) => values.add(value));
    }
    return { values: [...values].sort((a, b) => b.length - a.length) };
}

const MOCK_RESOURCE_ID = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/`;

/**
 * Whether a string holds an invented value: it contains one (an issuer URL, a client ID, the mock
 * tenant ID, which the mocked lookups of existing clusters use too), or it is a resource ID in the
 * mock subscription that came from another resource (`fromResource`: the input property has
 * property dependencies). A resource ID written in the config is real, whatever its subscription.
 */
export function isInvented(value: string, invented: Invented, fromResource = false): boolean {
    return invented.values.some((v) => value.includes(v)) || (fromResource && value.includes(MOCK_RESOURCE_ID));
}

/** `value`, or UNKNOWN when the mocks invented it. */
export function known(value: string, invented: Invented, fromResource = false): string | Unknown {
    return isInvented(value, invented, fromResource) ? UNKNOWN : value;
}

/** A message with every invented value in it replaced by "(known after deploy)". */
export function redact(text: string, invented: Invented): string {
    return invented.values.reduce((result, value) => result.split(value).join(KNOWN_AFTER_DEPLOY), text);
}
