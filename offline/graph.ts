import type { RecordedResource } from "./mock-runner";

/**
 * Queries over a recorded resource graph, shared by the tools (plan, doctor, bench, the offline
 * policy run) and the tests.
 */

/** The secret signature Pulumi wraps secret values in on the wire. */
export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input value was sent as a secret. */
export function isSecretValue(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** The plain value of a recorded input, secret or not. */
export function unwrapSecret(value: unknown): unknown {
    return isSecretValue(value) ? (value as { value: unknown }).value : value;
}

export function ofType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
    return resources.filter((r) => r.type === type);
}

/** The one resource of `type` named `name`; throws when there is none or more than one. */
export function named(resources: readonly RecordedResource[], type: string, name: string): RecordedResource {
    const found = resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(`Expected one ${type} named ${name}, found ${found.length}.`);
    }
    return found[0];
}

/** The resource whose URN is `urn`. */
export function byUrn(resources: readonly RecordedResource[], urn: string): RecordedResource {
    const found = resources.find((r) => r.urn === urn);
    if (found === undefined) {
        throw new Error(`No recorded resource has URN ${urn}.`);
    }
    return found;
}

/** The children of a resource, in registration order. */
export function childrenOf(resources: readonly RecordedResource[], parent: RecordedResource): RecordedResource[] {
    return resources.filter((r) => r.parent === parent.urn);
}

/** Whether `from` depends on `to`, directly or through other resources' dependencies. */
export function dependsTransitively(resources: readonly RecordedResource[], from: RecordedResource, to: RecordedResource): boolean {
    const seen = new Set<string>();
    const pending = [...from.dependencies];
    while (pending.length > 0) {
        const urn = pending.pop() as string;
        if (urn === to.urn) {
            return true;
        }
        if (!seen.has(urn)) {
            seen.add(urn);
            const next = resources.find((r) => r.urn === urn);
            pending.push(...(next?.dependencies ?? []));
        }
    }
    return false;
}
