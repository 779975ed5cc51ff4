import { CLIENT_ID_ANNOTATION, ENTRA_TOKEN_EXCHANGE_AUDIENCE } from "../components/constants";
import { BUILT_IN_ROLES } from "../components/roles";
import { evaluatePolicies } from "../policy/evaluate";
import { TYPES } from "../policy/resource-types";
import type { RecordedResource, RunResult } from "../offline/mock-runner";
import { CREATE_SECONDS, DEFAULT_CREATE_SECONDS } from "./durations";
import { inventedValues, known, redact, UNKNOWN, type Invented, type Unknown } from "./unknowns";

/**
 * The offline plan: pure functions over the resource graph the mock runner records. Nothing here
 * talks to Azure or the Pulumi engine.
 */

/** The identity bindings among a workload's children (a generic resource of type identityBindings). */
function bindingsOf(resources: Resources, workload: RecordedResource): RecordedResource[] {
    return childrenOf(resources, workload, [TYPES.genericResource]).filter((r) => str(r.inputs.resourceType).toLowerCase() === "identitybindings");
}

const FIC_TYPES: readonly string[] = [TYPES.federatedIdentityCredential, TYPES.applicationFederatedIdentityCredential];
const SERVICE_ACCOUNT_TYPES: readonly string[] = [TYPES.serviceAccount, TYPES.serviceAccountPatch];
const POD_TEMPLATE_TYPES: readonly string[] = [TYPES.deployment, TYPES.job];
const KUBERNETES_OBJECT_TYPES: readonly string[] = [TYPES.namespace, ...SERVICE_ACCOUNT_TYPES, TYPES.secretProviderClass, ...POD_TEMPLATE_TYPES];
/** Types in the order of the trust chain, so the summary reads from the group to the pods; any other type after them, by name. */
const SUMMARY_ORDER: readonly string[] = [
    TYPES.resourceGroup,
    TYPES.managedCluster,
    TYPES.agentPool,
    TYPES.userAssignedIdentity,
    TYPES.federatedIdentityCredential,
    TYPES.application,
    TYPES.servicePrincipal,
    TYPES.applicationFederatedIdentityCredential,
    TYPES.roleAssignment,
    TYPES.kubernetesProvider,
    TYPES.namespace,
    TYPES.serviceAccount,
    TYPES.serviceAccountPatch,
    TYPES.secretProviderClass,
    TYPES.deployment,
    TYPES.job,
    TYPES.kubernetesRbacReadiness,
    TYPES.genericResource,
    TYPES.clusterRoleBinding,
];

export interface ClusterSummary {
    readonly key: string;
    readonly name: string;
    /** The cluster's OIDC issuer URL: only AKS knows it, after the cluster is created. */
    readonly issuer: string | Unknown;
    readonly tier: string;
    readonly kubernetesVersion: string;
    readonly upgradeChannel: string;
    readonly systemPool: string;
    readonly nodePools: readonly string[];
    readonly apiServer: string;
    readonly protect: boolean;
}

export interface Federation {
    /** Azure name of the FIC. */
    readonly name: string;
    /** The issuer URL as recorded: for the stack's own clusters, the value the mocks invented. */
    readonly issuer: string;
    /** The cluster whose issuer this is, when it is one of the stack's clusters. */
    readonly cluster: string | undefined;
    readonly subject: string;
    readonly audiences: readonly string[];
    /** The ServiceAccount the subject names, in that cluster. */
    readonly serviceAccount: { readonly namespace: string; readonly name: string; readonly mode: "created" | "patched" } | undefined;
}

export interface Grant {
    readonly key: string;
    readonly role: string;
    /** The ARM ID of the scope as recorded (the mock's ID when it is a resource this stack creates). */
    readonly scope: string;
    readonly principalType: string;
}

/** An AKS identity binding: the identity mapped to one cluster, and the ServiceAccounts its RBAC allows. */
export interface IdentityBindingEntry {
    /** Azure name of the binding. */
    readonly name: string;
    /** The cluster key, when the binding's cluster is one of the stack's. */
    readonly cluster: string | undefined;
    /** The ServiceAccounts the ClusterRoleBinding lets use the identity, in that cluster. */
    readonly serviceAccounts: readonly { readonly namespace: string; readonly name: string }[];
}

export interface TrustEntry {
    readonly workload: string;
    readonly principal: { readonly kind: "managed identity" | "app registration"; readonly name: string };
    readonly federations: readonly Federation[];
    /** Identity binding mode: one binding per cluster instead of a FIC per ServiceAccount. */
    readonly bindings: readonly IdentityBindingEntry[];
    readonly grants: readonly Grant[];
}

/** A federated credential as the plan shows it: an issuer the mocks invented is unknown. */
export interface PlanFederation extends Omit<Federation, "issuer"> {
    readonly issuer: string | Unknown;
}

/** A role assignment as the plan shows it: a scope the mocks invented (a cluster's ID) is unknown. */
export interface PlanGrant extends Omit<Grant, "scope"> {
    readonly scope: string | Unknown;
}

/** A trust-map entry as the plan shows it, with every value the mocks invented marked unknown. */
export interface PlanTrustEntry extends Omit<TrustEntry, "federations" | "grants"> {
    readonly federations: readonly PlanFederation[];
    readonly grants: readonly PlanGrant[];
}

export interface PathStep {
    readonly type: string;
    readonly name: string;
    readonly startSeconds: number;
    readonly seconds: number;
}

export interface DeploymentEstimate {
    /** Longest chain through every recorded dependency. */
    readonly seconds: number;
    readonly path: readonly PathStep[];
    /** Longest chain through the dependencies the cloud forces (data flow, FIC serialisation, namespaces, RBAC). */
    readonly lowerBoundSeconds: number;
    readonly lowerBoundPath: readonly PathStep[];
}

export interface Plan {
    readonly stack: string;
    readonly summary: {
        readonly total: number;
        readonly byType: Readonly<Record<string, number>>;
        readonly clusters: readonly ClusterSummary[];
        readonly workloads: readonly string[];
    };
    readonly trust: readonly PlanTrustEntry[];
    /** Config warnings, trust-chain problems and policy findings, one line each. */
    readonly problems: readonly string[];
    /** The policy pack's findings, as `pulumi preview --policy-pack policy` reports them. */
    readonly policy: readonly PolicyFinding[];
    readonly deployment: DeploymentEstimate;
}

export interface PolicyFinding {
    readonly policy: string;
    /** `mandatory` fails `pulumi preview` and `pulumi up` (the plan exits 4); `advisory` warns. */
    readonly enforcementLevel: "advisory" | "mandatory";
    /** Logical name of the resource; absent for a finding about the stack as a whole. */
    readonly resource?: string;
    readonly message: string;
}

/** The findings that make `pulumi preview --policy-pack policy` fail. */
export function mandatoryFindings(plan: Plan): PolicyFinding[] {
    return plan.policy.filter((finding) => finding.enforcementLevel === "mandatory");
}

type Resources = readonly RecordedResource[];

function childrenOf(resources: Resources, parent: RecordedResource, types: readonly string[]): RecordedResource[] {
    return resources.filter((r) => r.parent === parent.urn && types.includes(r.type));
}

function str(value: unknown, fallback = ""): string {
    return typeof value === "string" ? value : fallback;
}

/** The URN part of a provider reference (`<urn>::<id>`). */
function providerUrn(reference: string | undefined): string | undefined {
    return reference === undefined ? undefined : reference.split("::").slice(0, -1).join("::");
}

interface ServiceAccountMetadata {
    readonly name: string;
    readonly namespace: string;
    readonly annotations: Readonly<Record<string, string>>;
}

function metadataOf(resource: RecordedResource): ServiceAccountMetadata {
    const metadata = (resource.inputs.metadata ?? {}) as Partial<ServiceAccountMetadata>;
    return { name: str(metadata.name), namespace: str(metadata.namespace), annotations: metadata.annotations ?? {} };
}

/** Cluster component URN -> its key, issuer and Kubernetes provider. */
interface ClusterNode {
    readonly key: string;
    readonly component: RecordedResource;
    readonly cluster: RecordedResource | undefined;
    readonly issuer: string;
    readonly providerUrn: string | undefined;
}

function clusterNodes(resources: Resources): ClusterNode[] {
    return resources
        .filter((r) => r.type === TYPES.workloadIdentityCluster)
        .map((component) => {
            const cluster = childrenOf(resources, component, [TYPES.managedCluster])[0];
            const provider = childrenOf(resources, component, [TYPES.kubernetesProvider])[0];
            const profile = (cluster?.state.oidcIssuerProfile ?? {}) as { issuerURL?: string };
            return { key: component.name, component, cluster, issuer: str(profile.issuerURL), providerUrn: provider?.urn };
        });
}

function roleLabel(roleDefinitionId: string): string {
    const guid = roleDefinitionId.split("/").pop()?.toLowerCase() ?? "";
    const name = (Object.keys(BUILT_IN_ROLES) as (keyof typeof BUILT_IN_ROLES)[]).find((n) => BUILT_IN_ROLES[n] === guid);
    return name ?? roleDefinitionId;
}

function summarizeCluster(resources: Resources, node: ClusterNode): ClusterSummary {
    const inputs = node.cluster?.inputs ?? {};
    const sku = (inputs.sku ?? {}) as { tier?: string };
    const upgrade = (inputs.autoUpgradeProfile ?? {}) as { upgradeChannel?: string };
    const pools = (inputs.agentPoolProfiles ?? []) as { vmSize?: string; minCount?: number; maxCount?: number; availabilityZones?: string[] }[];
    const pool = (p: { vmSize?: string; minCount?: number; maxCount?: number; availabilityZones?: string[] }): string =>
        `${p.minCount ?? "?"}-${p.maxCount ?? "?"} x ${p.vmSize ?? "?"}${p.availabilityZones ? ` in zones ${p.availabilityZones.join(",")}` : ""}`;
    const access = (inputs.apiServerAccessProfile ?? {}) as { enablePrivateCluster?: boolean; authorizedIPRanges?: string[] };
    const apiServer = access.enablePrivateCluster
        ? "private"
        : access.authorizedIPRanges && access.authorizedIPRanges.length > 0
          ? `authorized ranges ${access.authorizedIPRanges.join(", ")}`
          : "open to the internet";
    return {
        key: node.key,
        name: str(node.cluster?.state.name, node.key),
        // The mocks invent every cluster's issuer.
        issuer: UNKNOWN,
        tier: str(sku.tier, "?"),
        kubernetesVersion: str(inputs.kubernetesVersion, "AKS default"),
        upgradeChannel: str(upgrade.upgradeChannel, "?"),
        systemPool: pools[0] ? pool(pools[0]) : "none",
        nodePools: childrenOf(resources, node.component, [TYPES.agentPool]).map((p) => `${str(p.inputs.agentPoolName)}: ${pool(p.inputs as Parameters<typeof pool>[0])}`),
        apiServer,
        protect: node.cluster?.protect ?? false,
    };
}

/**
 * For each workload: principal -> FICs -> the ServiceAccount each trusts -> role assignments, with
 * the values as recorded (`planTrustMap` marks the ones the mocks invented).
 */
export function trustMap(resources: Resources): TrustEntry[] {
    const clusters = clusterNodes(resources);
    return resources
        .filter((r) => r.type === TYPES.workloadIdentity)
        .map((workload) => {
            const identity = childrenOf(resources, workload, [TYPES.userAssignedIdentity])[0];
            const application = childrenOf(resources, workload, [TYPES.application])[0];
            const accounts = childrenOf(resources, workload, SERVICE_ACCOUNT_TYPES);
            const federations = childrenOf(resources, workload, FIC_TYPES).map((fic): Federation => {
                const issuer = str(fic.inputs.issuer);
                const subject = str(fic.inputs.subject);
                const cluster = clusters.find((c) => c.issuer !== "" && c.issuer === issuer);
                const account = accounts.find((a) => {
                    const metadata = metadataOf(a);
                    return providerUrn(a.provider) === cluster?.providerUrn && `system:serviceaccount:${metadata.namespace}:${metadata.name}` === subject;
                });
                return {
                    name: str(fic.inputs.federatedIdentityCredentialResourceName, str(fic.inputs.displayName, fic.name)),
                    issuer,
                    cluster: cluster?.key,
                    subject,
                    audiences: (fic.inputs.audiences ?? []) as string[],
                    serviceAccount:
                        account === undefined
                            ? undefined
                            : {
                                  namespace: metadataOf(account).namespace,
                                  name: metadataOf(account).name,
                                  mode: account.type === TYPES.serviceAccountPatch ? "patched" : "created",
                              },
                };
            });
            const roleBindings = childrenOf(resources, workload, [TYPES.clusterRoleBinding]);
            const bindings = bindingsOf(resources, workload).map((binding): IdentityBindingEntry => {
                const clusterName = str(binding.inputs.parentResourcePath).split("/").pop() ?? "";
                const cluster = clusters.find((c) => c.cluster !== undefined && str(c.cluster.inputs.resourceName) === clusterName);
                const subjects = roleBindings
                    .filter((rb) => cluster !== undefined && providerUrn(rb.provider) === cluster.providerUrn)
                    .flatMap((rb) => (rb.inputs.subjects ?? []) as { kind?: string; namespace?: string; name?: string }[])
                    .filter((subject) => subject.kind === "ServiceAccount")
                    .map((subject) => ({ namespace: str(subject.namespace), name: str(subject.name) }));
                return { name: str(binding.inputs.resourceName, binding.name), cluster: cluster?.key, serviceAccounts: subjects };
            });
            const grants = childrenOf(resources, workload, [TYPES.roleAssignment]).map(
                (assignment): Grant => ({
                    key: assignment.name.startsWith(`${workload.name}-ra-`) ? assignment.name.slice(workload.name.length + 4) : assignment.name,
                    role: roleLabel(str(assignment.inputs.roleDefinitionId)),
                    scope: str(assignment.inputs.scope),
                    principalType: str(assignment.inputs.principalType, "(not set)"),
                }),
            );
            return {
                workload: workload.name,
                principal: identity
                    ? { kind: "managed identity" as const, name: str(identity.inputs.resourceName, identity.name) }
                    : { kind: "app registration" as const, name: str(application?.inputs.displayName, workload.name) },
                federations,
                bindings,
                grants,
            };
        });
}

/**
 * The trust map as the plan shows it: an issuer or scope the mocks invented (a cluster's issuer
 * URL, a resource ID of this stack taken from another resource) is UNKNOWN, in every format.
 */
export function planTrustMap(resources: Resources, invented: Invented = inventedValues(resources)): PlanTrustEntry[] {
    const fics = resources.filter((r) => FIC_TYPES.includes(r.type));
    const assignments = resources.filter((r) => r.type === TYPES.roleAssignment);
    const fromResource = (candidates: Resources, property: string, value: string): boolean =>
        candidates.some((r) => r.inputs[property] === value && (r.propertyDependencies[property] ?? []).length > 0);
    return trustMap(resources).map((entry) => ({
        ...entry,
        federations: entry.federations.map((f) => ({ ...f, issuer: known(f.issuer, invented, fromResource(fics, "issuer", f.issuer)) })),
        grants: entry.grants.map((g) => ({ ...g, scope: known(g.scope, invented, fromResource(assignments, "scope", g.scope)) })),
    }));
}

/**
 * What breaks the trust chain in a recorded graph: a ServiceAccount no FIC trusts or annotated with
 * another principal's client ID, a cluster FIC with no ServiceAccount, a wrong audience, FICs of one
 * identity that are not written one after another. Empty for a sound graph.
 */
export function trustChainProblems(resources: Resources): string[] {
    const problems: string[] = [];
    const clusters = clusterNodes(resources);
    for (const workload of resources.filter((r) => r.type === TYPES.workloadIdentity)) {
        const principal = childrenOf(resources, workload, [TYPES.userAssignedIdentity, TYPES.application])[0];
        const fics = childrenOf(resources, workload, FIC_TYPES);
        for (const account of childrenOf(resources, workload, SERVICE_ACCOUNT_TYPES)) {
            const metadata = metadataOf(account);
            const cluster = clusters.find((c) => c.providerUrn === providerUrn(account.provider));
            const subject = `system:serviceaccount:${metadata.namespace}:${metadata.name}`;
            const trusting = fics.filter((f) => f.inputs.issuer === cluster?.issuer && f.inputs.subject === subject);
            // In identity binding mode AKS's own aks-identity-binding credential trusts the
            // ServiceAccounts (through the binding and its RBAC): none of ours may.
            const expected = bindingsOf(resources, workload).length > 0 ? 0 : 1;
            if (trusting.length !== expected) {
                problems.push(
                    `workload ${workload.name}: ServiceAccount ${metadata.namespace}/${metadata.name} in cluster ${cluster?.key ?? "?"} is trusted by ${trusting.length} federated credentials (expected ${expected}).`,
                );
            }
            const clientId = metadata.annotations[CLIENT_ID_ANNOTATION];
            if (principal !== undefined && clientId !== principal.state.clientId) {
                problems.push(
                    `workload ${workload.name}: ServiceAccount ${metadata.namespace}/${metadata.name} in cluster ${cluster?.key ?? "?"} carries client ID ${JSON.stringify(clientId)}, not the client ID of its principal.`,
                );
            }
        }
        let previous: RecordedResource | undefined;
        for (const fic of fics) {
            const audiences = (fic.inputs.audiences ?? []) as string[];
            if (audiences.length !== 1 || audiences[0] !== ENTRA_TOKEN_EXCHANGE_AUDIENCE) {
                problems.push(`workload ${workload.name}: federated credential ${fic.name} has audiences ${JSON.stringify(audiences)}, not ["${ENTRA_TOKEN_EXCHANGE_AUDIENCE}"].`);
            }
            const cluster = clusters.find((c) => c.issuer === fic.inputs.issuer);
            const matched = childrenOf(resources, workload, SERVICE_ACCOUNT_TYPES).some((a) => {
                const metadata = metadataOf(a);
                return providerUrn(a.provider) === cluster?.providerUrn && `system:serviceaccount:${metadata.namespace}:${metadata.name}` === fic.inputs.subject;
            });
            // A workload with no ServiceAccount object at all leaves it to its chart
            // (createServiceAccount: false): the FIC trusts a ServiceAccount the stack does not manage.
            const managesServiceAccounts = childrenOf(resources, workload, SERVICE_ACCOUNT_TYPES).length > 0;
            if (cluster !== undefined && !matched && managesServiceAccounts) {
                problems.push(`workload ${workload.name}: federated credential ${fic.name} trusts ${str(fic.inputs.subject)} in cluster ${cluster.key}, where no ServiceAccount of this workload has that name.`);
            }
            const ficDependencies = fic.dependencies.filter((d) => fics.some((f) => f.urn === d));
            const expected = previous === undefined ? [] : [previous.urn];
            if (JSON.stringify(ficDependencies) !== JSON.stringify(expected)) {
                problems.push(
                    `workload ${workload.name}: federated credential ${fic.name} ${previous === undefined ? "waits for another FIC although it starts the chain" : `does not wait for ${previous.name} alone`}; Azure rejects concurrent FIC writes under one identity.`,
                );
            }
            previous = fic;
        }
    }
    return problems;
}

/** The resources a dependency URN stands for: a component stands for every custom resource under it. */
function expand(resources: Resources, urn: string): string[] {
    const target = resources.find((r) => r.urn === urn);
    if (target === undefined || target.custom) {
        return [urn];
    }
    return resources.filter((r) => r.parent === urn).flatMap((child) => expand(resources, child.urn));
}

/**
 * The dependencies the cloud forces: values that flow from one resource into another, the FIC
 * serialisation under one identity, a Kubernetes object's namespace and the RBAC grant that lets
 * the deployer write it, a pod's annotated ServiceAccount, and the provider a resource is created
 * with. Every other `dependsOn` edge
 * is one the program chose, and only lengthens the estimate.
 */
function neededDependencies(resources: Resources, resource: RecordedResource): Set<string> {
    const needed = new Set<string>(Object.values(resource.propertyDependencies).flat());
    const provider = providerUrn(resource.provider);
    if (provider !== undefined) {
        needed.add(provider);
    }
    for (const urn of resource.dependencies) {
        const target = resources.find((r) => r.urn === urn);
        if (target === undefined) {
            continue;
        }
        const sameIdentityFicChain = FIC_TYPES.includes(resource.type) && FIC_TYPES.includes(target.type) && target.parent === resource.parent;
        const namespaceOfObject = KUBERNETES_OBJECT_TYPES.includes(resource.type) && target.type === TYPES.namespace;
        const onCluster = KUBERNETES_OBJECT_TYPES.includes(resource.type) || resource.type === TYPES.kubernetesProvider;
        const adminGrant =
            (onCluster || resource.type === TYPES.kubernetesRbacReadiness) &&
            target.type === TYPES.roleAssignment &&
            resources.find((r) => r.urn === target.parent)?.type === TYPES.workloadIdentityCluster;
        // Kubernetes RBAC must work for the deployer before the first object is created.
        const rbacReady = onCluster && target.type === TYPES.kubernetesRbacReadiness;
        // A pod must not start before its ServiceAccount carries the client ID.
        const podServiceAccount = POD_TEMPLATE_TYPES.includes(resource.type) && SERVICE_ACCOUNT_TYPES.includes(target.type);
        // The quick-start Job proves the chain: it needs its identity's FIC and role assignments.
        const proofOfChain = POD_TEMPLATE_TYPES.includes(resource.type) && (FIC_TYPES.includes(target.type) || target.type === TYPES.roleAssignment) && target.parent === resource.parent;
        if (sameIdentityFicChain || namespaceOfObject || adminGrant || rbacReady || podServiceAccount || proofOfChain) {
            needed.add(urn);
        }
    }
    return needed;
}

function secondsOf(resource: RecordedResource): number {
    return resource.custom ? (CREATE_SECONDS[resource.type] ?? DEFAULT_CREATE_SECONDS) : 0;
}

/** Longest chain of create times through the given dependencies (the graph is acyclic). */
function longestPath(resources: Resources, dependenciesOf: (resource: RecordedResource) => Iterable<string>): { seconds: number; path: PathStep[] } {
    const finish = new Map<string, { end: number; via: string | undefined }>();
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const visit = (resource: RecordedResource): number => {
        const known = finish.get(resource.urn);
        if (known !== undefined) {
            return known.end;
        }
        let start = 0;
        let via: string | undefined;
        for (const dependency of dependenciesOf(resource)) {
            for (const urn of expand(resources, dependency)) {
                const target = byUrn.get(urn);
                const end = target === undefined ? undefined : visit(target);
                if (end !== undefined && (via === undefined || end > start)) {
                    start = end;
                    via = urn;
                }
            }
        }
        const end = start + secondsOf(resource);
        finish.set(resource.urn, { end, via });
        return end;
    };
    let last: RecordedResource | undefined;
    let total = 0;
    for (const resource of resources.filter((r) => r.custom)) {
        const end = visit(resource);
        if (last === undefined || end > total) {
            total = end;
            last = resource;
        }
    }
    const path: PathStep[] = [];
    for (let current = last; current !== undefined; ) {
        const seconds = secondsOf(current);
        const entry = finish.get(current.urn);
        if (seconds > 0) {
            path.unshift({ type: current.type, name: current.name, startSeconds: (entry?.end ?? 0) - seconds, seconds });
        }
        current = entry?.via === undefined ? undefined : byUrn.get(entry.via);
    }
    return { seconds: total, path };
}

/** The deployment estimate and its lower bound, from the recorded graph. */
export function deploymentEstimate(resources: Resources): DeploymentEstimate {
    const all = longestPath(resources, (r) => [...r.dependencies, ...(r.provider ? [providerUrn(r.provider) as string] : [])]);
    const bound = longestPath(resources, (r) => neededDependencies(resources, r));
    return { seconds: all.seconds, path: all.path, lowerBoundSeconds: bound.seconds, lowerBoundPath: bound.path };
}

/** The whole plan of one recorded run. */
export function buildPlan(stack: string, run: RunResult): Plan {
    const { resources } = run;
    const invented = inventedValues(resources);
    const policy = evaluatePolicies(resources, { stack }).map(
        (violation): PolicyFinding => ({
            policy: violation.policy,
            enforcementLevel: violation.enforcementLevel,
            ...(violation.urn === undefined ? {} : { resource: violation.urn.split("::").pop() ?? "" }),
            message: redact(violation.message, invented),
        }),
    );
    const order = SUMMARY_ORDER;
    const rank = (type: string): number => (order.includes(type) ? order.indexOf(type) : order.length);
    const byType: Record<string, number> = {};
    const custom = resources.filter((r) => r.custom).sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
    for (const resource of custom) {
        byType[resource.type] = (byType[resource.type] ?? 0) + 1;
    }
    return {
        stack,
        summary: {
            total: Object.values(byType).reduce((a, b) => a + b, 0),
            byType,
            clusters: clusterNodes(resources).map((node) => summarizeCluster(resources, node)),
            workloads: resources.filter((r) => r.type === TYPES.workloadIdentity).map((r) => r.name),
        },
        trust: planTrustMap(resources, invented),
        // A message may quote a value the mocks invented (another principal's client ID).
        problems: [
            ...run.logs.map((log) => `${log.severity}: ${log.message}`),
            ...trustChainProblems(resources),
            ...policy.map((finding) => `policy ${finding.policy} (${finding.enforcementLevel})${finding.resource === undefined ? "" : ` on ${finding.resource}`}: ${finding.message}`),
        ].map((problem) => redact(problem, invented)),
        policy,
        deployment: deploymentEstimate(resources),
    };
}
