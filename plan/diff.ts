import { unwrapSecret } from "../offline/graph";
import type { RecordedResource } from "../offline/mock-runner";
import { TYPES } from "../policy/resource-types";
import { deletesFirst, kubeconfigForcesReplacement, normalizePath, ruleForPath } from "./replacements";

/**
 * The offline diff: two recorded graphs (the program run under mocks with the base config and with
 * the current one), every custom resource classified by its URN as `pulumi up` would, with the
 * providers' replace-on-change rules of `plan/replacements.ts`, and what hurts flagged as hazards.
 * Pure: no Pulumi engine, no Azure.
 *
 * Values the mocks invent are functions of the resources' names, so they are equal in both runs
 * unless what they derive from changed. What a resource takes from one that is created or replaced
 * is known only after deploy: the whole input property counts as changed, as the engine assumes
 * when it works out which dependents of a replaced resource must be replaced with it (pulumi
 * `pkg/resource/deploy/step_generator.go`, calculateDependentReplacements).
 */

export type Action = "create" | "update" | "replace" | "delete";

export type HazardCode =
    | "cluster-replaced"
    | "cluster-deleted"
    | "identity-replaced"
    | "pool-deleted-first"
    | "pool-change-rejected"
    | "fic-twin"
    | "namespace-deleted-with-objects";

export interface Hazard {
    readonly code: HazardCode;
    readonly message: string;
}

export interface Change {
    readonly urn: string;
    readonly type: string;
    /** Logical (Pulumi) name. */
    readonly name: string;
    readonly action: Action;
    /** update: the changed input paths; replace: the changed paths that force it; create, delete: none. */
    readonly paths: readonly string[];
    /** replace: the other changed paths. */
    readonly otherPaths: readonly string[];
    /** Changed paths whose new value is known only after deploy (they come from a created or replaced resource). */
    readonly unknownPaths: readonly string[];
    /** replace: why, when no path of its own forces it (its provider is replaced, it moves to another provider). */
    readonly cause?: string;
    /** replace: the old one is deleted before its replacement exists. */
    readonly deleteFirst?: boolean;
    readonly hazards: readonly Hazard[];
}

export interface Diff {
    /** Every resource that changes, in the order of the current graph, deletions last. */
    readonly changes: readonly Change[];
    /** Custom resources that stay as they are. */
    readonly unchanged: number;
}

type Resources = readonly RecordedResource[];

/** The URN part of a provider reference (`<urn>::<id>`). */
function providerUrn(reference: string | undefined): string | undefined {
    return reference === undefined ? undefined : reference.split("::").slice(0, -1).join("::");
}

/** A property path segment as Pulumi writes it: `a.b`, `a[0]`, `a["x.y/z"]`. */
function join(base: string, key: string | number): string {
    if (typeof key === "number") {
        return `${base}[${key}]`;
    }
    if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) {
        return base === "" ? key : `${base}.${key}`;
    }
    return `${base}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The paths where two input values differ, as Pulumi's object diff reports them: a key on one side
 * only is one path, objects and arrays are compared member by member.
 */
export function changedPaths(before: unknown, after: unknown, base = ""): string[] {
    const a = unwrapSecret(before);
    const b = unwrapSecret(after);
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => !key.startsWith("__"));
        return keys.flatMap((key) => (key in a && key in b ? changedPaths(a[key], b[key], join(base, key)) : [join(base, key)]));
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        return Array.from({ length: Math.max(a.length, b.length) }, (_, index) =>
            index < a.length && index < b.length ? changedPaths(a[index], b[index], join(base, index)) : [join(base, index)],
        ).flat();
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [base];
}

/** Whether `ignoreChanges` (Pulumi property paths, `[*]` for any index) covers a changed path. */
function ignored(path: string, ignoreChanges: readonly string[]): boolean {
    const normalized = normalizePath(path);
    return ignoreChanges.some((ignore) => {
        const pattern = normalizePath(ignore.replace(/\[\*\]/g, "[0]"));
        return normalized === pattern || normalized.startsWith(`${pattern}.`) || normalized.startsWith(`${pattern}[`);
    });
}

/** Custom resources in an order where each comes after everything it depends on. */
function dependencyOrder(resources: Resources): RecordedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const done = new Set<string>();
    const ordered: RecordedResource[] = [];
    const visit = (resource: RecordedResource, path: Set<string>): void => {
        if (done.has(resource.urn) || path.has(resource.urn)) {
            return;
        }
        path.add(resource.urn);
        const upstream = [...resource.dependencies, ...Object.values(resource.propertyDependencies).flat(), ...(resource.provider ? [providerUrn(resource.provider) as string] : [])];
        for (const urn of upstream) {
            const next = byUrn.get(urn);
            if (next !== undefined) {
                visit(next, path);
            }
        }
        done.add(resource.urn);
        if (resource.custom) {
            ordered.push(resource);
        }
    };
    resources.forEach((resource) => visit(resource, new Set()));
    return ordered;
}

function str(value: unknown): string | undefined {
    const plain = unwrapSecret(value);
    return typeof plain === "string" ? plain : undefined;
}

function metadata(resource: RecordedResource): { name?: string; namespace?: string } {
    const value = unwrapSecret(resource.inputs.metadata);
    return isObject(value) ? { name: str(value.name), namespace: str(value.namespace) } : {};
}

/** The Azure (or Kubernetes) name of a resource, for messages. */
function azureName(resource: RecordedResource): string {
    const inputs = resource.inputs;
    const byType: Readonly<Record<string, unknown>> = {
        [TYPES.agentPool]: inputs.agentPoolName,
        [TYPES.federatedIdentityCredential]: inputs.federatedIdentityCredentialResourceName,
        [TYPES.applicationFederatedIdentityCredential]: inputs.displayName,
        [TYPES.application]: inputs.displayName,
        [TYPES.resourceGroup]: inputs.resourceGroupName,
        [TYPES.roleAssignment]: inputs.roleAssignmentName,
    };
    return str(byType[resource.type]) ?? str(inputs.resourceName) ?? metadata(resource).name ?? resource.name;
}

function shortType(type: string): string {
    return type.split(":").pop()?.split("/").pop() ?? type;
}

/** What one resource's comparison found, before hazards. */
interface Classified {
    readonly action: Action | "same";
    readonly paths: string[];
    readonly otherPaths: string[];
    readonly unknownPaths: string[];
    readonly cause?: string;
}

function classify(before: RecordedResource, after: RecordedResource, renewed: ReadonlyMap<string, Action>): Classified {
    // What this resource takes from a created or replaced resource is known only after deploy.
    const unknownProperties = Object.entries(after.propertyDependencies)
        .filter(([, urns]) => urns.some((urn) => renewed.has(urn)))
        .map(([property]) => property)
        .filter((property) => property in after.inputs);
    const known = changedPaths(before.inputs, after.inputs).filter((path) => !unknownProperties.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)));
    const changed = [...known, ...unknownProperties.map((p) => join("", p))].filter((path) => !ignored(path, after.ignoreChanges));
    const unknownPaths = changed.filter((path) => unknownProperties.map((p) => join("", p)).includes(path));
    const forces = (path: string): boolean => {
        const unknown = unknownPaths.includes(path);
        if (after.type === TYPES.kubernetesProvider && path === "kubeconfig") {
            return kubeconfigForcesReplacement(unwrapSecret(before.inputs.kubeconfig), unwrapSecret(after.inputs.kubeconfig), unknown);
        }
        return ruleForPath(after.type, path, unknown) !== undefined;
    };
    const paths = changed.filter(forces);
    const beforeProvider = providerUrn(before.provider);
    const afterProvider = providerUrn(after.provider);
    const cause =
        afterProvider !== undefined && renewed.get(afterProvider) === "replace"
            ? `its provider ${afterProvider.split("::").pop() ?? ""} is replaced`
            : beforeProvider !== afterProvider
              ? `it moves to provider ${afterProvider?.split("::").pop() ?? "(default)"}`
              : undefined;
    if (paths.length > 0 || cause !== undefined) {
        return { action: "replace", paths, otherPaths: changed.filter((path) => !paths.includes(path)), unknownPaths, ...(cause === undefined ? {} : { cause }) };
    }
    return { action: changed.length > 0 ? "update" : "same", paths: changed, otherPaths: [], unknownPaths };
}

/** The system pool is inline in the cluster: AKS refuses to change these of a pool in place. */
const POOL_FIELDS_AKS_REFUSES_TO_UPDATE = ["vmSize", "osDiskSizeGB", "availabilityZones"];

const SYSTEM_POOL_ROTATION =
    "Rotate the pool instead: add a pool under nodePools with mode: System and the new settings and deploy; cordon and drain the old pool's nodes so the system pods move; then remove or change the old pool in a later deploy.";

const POOL_ROTATION =
    "Rotate the pool instead: add a pool with a new key and the new settings and deploy; cordon and drain the old pool's nodes; then remove the old key in a later deploy.";

/** `(identity or application, issuer, subject)`: Entra refuses two FICs with the same issuer and subject on one principal. */
function ficIdentity(resource: RecordedResource): string | undefined {
    const issuer = str(resource.inputs.issuer);
    const subject = str(resource.inputs.subject);
    const principal =
        resource.type === TYPES.federatedIdentityCredential ? `${str(resource.inputs.resourceGroupName) ?? ""}/${str(resource.inputs.resourceName) ?? ""}` : resource.type === TYPES.applicationFederatedIdentityCredential ? str(resource.inputs.applicationId) : undefined;
    return principal === undefined || issuer === undefined || subject === undefined ? undefined : JSON.stringify([principal, issuer, subject]);
}

function owner(resources: Resources, resource: RecordedResource): string {
    const parent = resources.find((r) => r.urn === resource.parent);
    return parent === undefined || parent.type === TYPES.stack ? "the stack" : `${shortType(parent.type)} ${parent.name}`;
}

function hazardsOf(change: Omit<Change, "hazards">, base: Resources, current: Resources, changes: ReadonlyMap<string, Omit<Change, "hazards">>): Hazard[] {
    const after = current.find((r) => r.urn === change.urn);
    const before = base.find((r) => r.urn === change.urn) ?? (after === undefined ? undefined : base.find((r) => aliasesOf(after).includes(r.urn)));
    const resource = (after ?? before) as RecordedResource;
    const name = azureName(resource);
    const forcedBy =
        change.paths.length > 0
            ? `forced by ${change.paths.map((path) => (change.unknownPaths.includes(path) ? `${path}, taken from a resource that is replaced` : path)).join(", ")}`
            : (change.cause ?? "");
    const hazards: Hazard[] = [];
    switch (change.type) {
        case TYPES.managedCluster:
            if (change.action === "replace") {
                hazards.push({
                    code: "cluster-replaced",
                    message:
                        `AKS cluster ${name} is replaced (${forcedBy}), deleted before the new one exists: the new cluster has a new OIDC issuer URL, ` +
                        "so every federated credential that trusts the old one fails until it is rewritten, every Kubernetes object in it is recreated, and its nodes and workloads are gone meanwhile." +
                        (resource.protect ? " The cluster is protected: pulumi up refuses to replace it." : "") +
                        " Revert the change, or build a new cluster under a new key beside it, move the workloads, then remove the old key.",
                });
            }
            if (change.action === "delete") {
                hazards.push({
                    code: "cluster-deleted",
                    message: `AKS cluster ${name} is deleted, with every node and workload in it${resource.protect ? " (it is protected: pulumi up refuses until protect is lifted)" : ""}. If the cluster key was renamed, this deletes a cluster and creates another: keep the old key.`,
                });
            }
            if (change.action === "update") {
                const refused = change.paths.filter((path) => /^agentPoolProfiles\[0\]\./.test(path) && POOL_FIELDS_AKS_REFUSES_TO_UPDATE.some((field) => path === `agentPoolProfiles[0].${field}` || path.startsWith(`agentPoolProfiles[0].${field}[`)));
                if (refused.length > 0) {
                    hazards.push({
                        code: "pool-change-rejected",
                        message: `The system pool of AKS cluster ${name} changes ${refused.join(", ")}: it is inline in the cluster (agentPoolProfiles[0]) and AKS rejects changing these in place, so the cluster update fails. ${SYSTEM_POOL_ROTATION}`,
                    });
                }
            }
            break;
        case TYPES.agentPool:
            if (change.action === "replace") {
                hazards.push({
                    code: "pool-deleted-first",
                    message: `Node pool ${name} is replaced (${forcedBy}) and deleted before its replacement exists (its name is fixed): pods that only fit on it have no nodes meanwhile. ${POOL_ROTATION}`,
                });
            }
            if (change.action === "update") {
                const refused = change.paths.filter((path) => POOL_FIELDS_AKS_REFUSES_TO_UPDATE.some((field) => path === field || path.startsWith(`${field}[`)));
                if (refused.length > 0) {
                    hazards.push({ code: "pool-change-rejected", message: `Node pool ${name} changes ${refused.join(", ")}, which AKS rejects changing in place: the update fails. ${POOL_ROTATION}` });
                }
            }
            break;
        case TYPES.userAssignedIdentity:
        case TYPES.application:
        case TYPES.servicePrincipal:
            if (change.action === "replace") {
                hazards.push({
                    code: "identity-replaced",
                    message:
                        `${shortType(change.type)} ${name} is replaced (${forcedBy}): it gets a new client ID and principal ID, so every app, chart and ServiceAccount configured with the old client ID, and every role assignment to the old principal, ` +
                        "stops working until it is updated; the replacement's FICs and role assignments have to propagate again. Revert the change unless a new identity is what you want.",
                });
            }
            break;
        case TYPES.federatedIdentityCredential:
        case TYPES.applicationFederatedIdentityCredential: {
            // Pulumi creates new resources first and deletes at the end; a replacement without
            // delete-first also creates before it deletes.
            const creates = change.action === "create" || (change.action === "replace" && change.deleteFirst !== true);
            const twin = after === undefined ? undefined : ficIdentity(after);
            if (creates && twin !== undefined) {
                const olds = base.filter((r) => {
                    if (ficIdentity(r) !== twin) {
                        return false;
                    }
                    if (r.urn === change.urn) {
                        // Replaced without delete-first: the old one is still there when the new one is created.
                        return true;
                    }
                    const other = changes.get(r.urn);
                    return other?.action === "delete" || (other?.action === "replace" && other.deleteFirst !== true);
                });
                for (const old of olds) {
                    hazards.push({
                        code: "fic-twin",
                        message:
                            `Federated credential ${name} is created while ${azureName(old)} (${old.name}), with the same issuer and subject on the same identity, still exists: ` +
                            "Entra refuses a second federated credential with the same issuer and subject, so the create fails. Deploy in two steps: first remove the old credential (deploy), then add the new one (deploy).",
                    });
                }
            }
            break;
        }
        case TYPES.namespace:
            if (change.action === "delete" || change.action === "replace") {
                const namespace = before === undefined ? undefined : metadata(before).name;
                const provider = providerUrn(before?.provider);
                // Objects that are themselves deleted or replaced do not stay.
                const staying = current.filter((r) => {
                    const action = changes.get(r.urn)?.action;
                    return r.urn !== change.urn && providerUrn(r.provider) === provider && metadata(r).namespace === namespace && action !== "delete" && action !== "replace";
                });
                if (namespace !== undefined && staying.length > 0) {
                    hazards.push({
                        code: "namespace-deleted-with-objects",
                        message:
                            `Namespace ${namespace} is ${change.action === "delete" ? "deleted" : "replaced"} (provider ${provider?.split("::").pop() ?? "(default)"}) while it holds objects that stay in the stack: ` +
                            `${staying.map((r) => `${shortType(r.type)} ${metadata(r).name ?? r.name} of ${owner(current, r)}`).join(", ")}. Kubernetes deletes them with the namespace. ` +
                            "Keep the namespace declared for its cluster, or move those workloads out first.",
                    });
                }
            }
            break;
        default:
            break;
    }
    return hazards;
}

/**
 * The URNs a resource was known by before (its `aliases` option), when the recorded graph carries
 * them: the engine then treats it as the same resource, not a delete and a create.
 */
function aliasesOf(resource: RecordedResource): readonly string[] {
    const aliases = (resource as { readonly aliases?: unknown }).aliases;
    return Array.isArray(aliases) ? aliases.filter((alias): alias is string => typeof alias === "string") : [];
}

/** Compares the graph of the base config with the current one. */
export function diffGraphs(base: Resources, current: Resources): Diff {
    const baseByUrn = new Map(base.filter((r) => r.custom).map((r) => [r.urn, r]));
    const renewed = new Map<string, Action>();
    const matched = new Set<string>();
    const found: Omit<Change, "hazards">[] = [];
    let unchanged = 0;
    for (const after of dependencyOrder(current)) {
        const before = [after.urn, ...aliasesOf(after)].map((urn) => baseByUrn.get(urn)).find((r) => r !== undefined && !matched.has(r.urn));
        if (before !== undefined) {
            matched.add(before.urn);
        }
        if (before === undefined) {
            renewed.set(after.urn, "create");
            found.push({ urn: after.urn, type: after.type, name: after.name, action: "create", paths: [], otherPaths: [], unknownPaths: [] });
            continue;
        }
        const result = classify(before, after, renewed);
        if (result.action === "same") {
            unchanged += 1;
            continue;
        }
        if (result.action === "replace") {
            renewed.set(after.urn, "replace");
        }
        found.push({
            urn: after.urn,
            type: after.type,
            name: after.name,
            action: result.action,
            paths: result.paths,
            otherPaths: result.otherPaths,
            unknownPaths: result.unknownPaths,
            ...(result.cause === undefined ? {} : { cause: result.cause }),
            ...(result.action === "replace" ? { deleteFirst: deletesFirst(after.type, result.paths, after.deleteBeforeReplace) } : {}),
        });
    }
    for (const before of base.filter((r) => r.custom && !matched.has(r.urn))) {
        found.push({ urn: before.urn, type: before.type, name: before.name, action: "delete", paths: [], otherPaths: [], unknownPaths: [] });
    }
    // Keep the order of the current program's registrations (what `pulumi preview` lists), deletions last.
    const position = new Map(current.map((r, index) => [r.urn, index]));
    found.sort((a, b) => (position.get(a.urn) ?? Number.MAX_SAFE_INTEGER) - (position.get(b.urn) ?? Number.MAX_SAFE_INTEGER));
    const byUrn = new Map(found.map((change) => [change.urn, change]));
    return { changes: found.map((change) => ({ ...change, hazards: hazardsOf(change, base, current, byUrn) })), unchanged };
}

/** Every hazard of a diff. */
export function hazards(diff: Diff): Hazard[] {
    return diff.changes.flatMap((change) => change.hazards);
}

/** How many resources each action touches. */
export function actionCounts(diff: Diff): Record<Action | "unchanged", number> {
    const counts = { create: 0, update: 0, replace: 0, delete: 0, unchanged: diff.unchanged };
    for (const change of diff.changes) {
        counts[change.action] += 1;
    }
    return counts;
}

/** A diff with what the views say about it. */
export interface DiffReport {
    readonly stack: string;
    /** Where the base config comes from (`Pulumi.prod.yaml as of origin/main`, a file). */
    readonly base: string;
    /** The current config file. */
    readonly current: string;
    readonly diff: Diff;
    /** The mandatory policy findings of the current config (the plan exits 4 on them). */
    readonly policy: readonly { readonly policy: string; readonly resource?: string; readonly message: string }[];
    /** `--allow-replace`: hazards are reported, not refused. */
    readonly allowReplace: boolean;
}
