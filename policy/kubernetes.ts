import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, USE_LABEL } from "../components/constants";
import { resourcePolicy, stackPolicy, type StackProblem } from "./define";
import { TYPES } from "./resource-types";
import {
    FEDERATED_CREDENTIAL_TYPES,
    SERVICE_ACCOUNT_TYPES,
    UNKNOWN,
    at,
    clusterOfCredential,
    keysAt,
    knownClientIds,
    kubernetesPlacement,
    label,
    objectName,
    parseServiceAccountSubject,
    principalOfCredential,
    propertySources,
    sameCluster,
    shortType,
    stringAt,
    type FederatedPrincipal,
} from "./resources";

/**
 * The Kubernetes side: the webhook reads the client ID and tenant ID only from the ServiceAccount
 * and `azure.workload.identity/use` only as a pod label; anything else is silently ignored. The
 * pod annotations the webhook does read (token expiration, skip-containers, inject-proxy-sidecar,
 * proxy-sidecar-port) are left alone.
 */

/** Where a resource keeps its pods: the pod template of a workload, or a Pod itself. */
export interface PodTemplate {
    /** The template's path in the resource, `""` for a Pod. */
    readonly path: string;
    readonly metadata: unknown;
    readonly spec: unknown;
}

const TEMPLATE_WORKLOAD = /^kubernetes:(apps\/v1:(Deployment|StatefulSet|DaemonSet|ReplicaSet)|batch\/v1:Job)(Patch)?$/;
const CRON_JOB = /^kubernetes:batch\/v1:CronJob(Patch)?$/;
const POD = /^kubernetes:core\/v1:Pod(Patch)?$/;

/** The pod templates of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob, or the Pod itself. */
export function podTemplatesOf(type: string, props: unknown): PodTemplate[] {
    const template = (...path: string[]): PodTemplate[] => [
        { path: path.join("."), metadata: at(props, ...path, "metadata"), spec: at(props, ...path, "spec") },
    ];
    if (TEMPLATE_WORKLOAD.test(type)) {
        return template("spec", "template");
    }
    if (CRON_JOB.test(type)) {
        return template("spec", "jobTemplate", "spec", "template");
    }
    if (POD.test(type)) {
        return [{ path: "", metadata: at(props, "metadata"), spec: at(props, "spec") }];
    }
    return [];
}

const isKubernetes = (type: string): boolean => type.startsWith("kubernetes:");
const isServiceAccount = (type: string): boolean => SERVICE_ACCOUNT_TYPES.includes(type);

function path(base: string, leaf: string): string {
    return base === "" ? leaf : `${base}.${leaf}`;
}

/** The annotation maps of an object: its own, and those of its pod templates. */
function annotationPlaces(args: ResourceValidationArgs): { where: string; annotations: unknown }[] {
    const places = [{ where: "metadata.annotations", annotations: at(args.props, "metadata", "annotations") }];
    for (const template of podTemplatesOf(args.type, args.props)) {
        if (template.path !== "") {
            places.push({ where: path(template.path, "metadata.annotations"), annotations: at(template.metadata, "annotations") });
        }
    }
    return places;
}

function podLabelsPath(type: string, props: unknown): string {
    const [template] = podTemplatesOf(type, props);
    return template === undefined ? "the pod template's metadata.labels" : path(template.path, "metadata.labels");
}

export const workloadIdentityAnnotationPlacement = resourcePolicy({
    name: "workload-identity-annotation-placement",
    description: `${CLIENT_ID_ANNOTATION} and ${TENANT_ID_ANNOTATION} are annotations of ServiceAccounts only; on any other object (a pod, a Deployment, its pod template) the webhook ignores them.`,
    enforcementLevel: "mandatory",
    remediationSteps: "Move the annotation to the ServiceAccount the pods run as.",
    appliesTo: (type) => isKubernetes(type) && !isServiceAccount(type),
    check: (args) => {
        const problems: string[] = [];
        for (const { where, annotations } of annotationPlaces(args)) {
            const keys = keysAt(annotations);
            if (keys === UNKNOWN) {
                continue;
            }
            for (const key of [CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION].filter((k) => keys.includes(k))) {
                problems.push(
                    `${label(args)}: annotation ${key} in ${where} does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount's metadata.annotations.`,
                );
            }
        }
        return problems;
    },
});

export const workloadIdentityUseLabelPlacement = resourcePolicy({
    name: "workload-identity-use-label-placement",
    description: `${USE_LABEL} is a pod label; written as an annotation, as a ServiceAccount label or only on a workload object (not its pod template), the webhook ignores it.`,
    enforcementLevel: "mandatory",
    remediationSteps: `Label the pods: spec.template.metadata.labels: { "${USE_LABEL}": "true" } (metadata.labels of a Pod).`,
    appliesTo: isKubernetes,
    check: (args) => {
        const problems: string[] = [];
        const podLabels = podLabelsPath(args.type, args.props);
        for (const { where, annotations } of annotationPlaces(args)) {
            const keys = keysAt(annotations);
            if (keys !== UNKNOWN && keys.includes(USE_LABEL)) {
                problems.push(
                    isServiceAccount(args.type)
                        ? `${label(args)}: ${USE_LABEL} is an annotation of the ServiceAccount, where the webhook ignores it. Remove it and label the pods that run as this ServiceAccount: spec.template.metadata.labels: { "${USE_LABEL}": "true" }.`
                        : `${label(args)}: ${USE_LABEL} is written as an annotation (${where}), which the webhook ignores. Make it a pod label: ${podLabels}: { "${USE_LABEL}": "true" }.`,
                );
            }
        }
        const ownLabels = keysAt(args.props, "metadata", "labels");
        if (ownLabels === UNKNOWN || !ownLabels.includes(USE_LABEL)) {
            return problems;
        }
        if (isServiceAccount(args.type)) {
            problems.push(
                `${label(args)}: ${USE_LABEL} is a label of the ServiceAccount, where it does nothing (since workload identity v1.0 the webhook reads it from pods). Remove it here and label the pods that run as this ServiceAccount: spec.template.metadata.labels: { "${USE_LABEL}": "true" }.`,
            );
            return problems;
        }
        const templates = podTemplatesOf(args.type, args.props).filter((template) => template.path !== "");
        for (const template of templates) {
            const templateLabels = keysAt(template.metadata, "labels");
            if (templateLabels !== UNKNOWN && !templateLabels.includes(USE_LABEL)) {
                problems.push(
                    `${label(args)}: ${USE_LABEL} is a label of the ${shortType(args.type)} itself, not of its pods, so the webhook never sees it. Move it to ${path(template.path, "metadata.labels")}.`,
                );
            }
        }
        return problems;
    },
});

/** Whether a ServiceAccount carries a client-id annotation: true, false, or undefined when preview cannot tell. */
function hasClientId(account: PolicyResource): boolean | undefined {
    const annotations = at(account.props, "metadata", "annotations");
    if (annotations === UNKNOWN) {
        const sources = propertySources(account, "metadata");
        return sources.some((source) => source.type === TYPES.userAssignedIdentity || source.type === TYPES.application || source.type === TYPES.servicePrincipal)
            ? true
            : undefined;
    }
    const value = at(annotations, CLIENT_ID_ANNOTATION);
    return value === UNKNOWN || (typeof value === "string" && value !== "");
}

export const podServiceAccountClientId = stackPolicy({
    name: "pod-service-account-client-id",
    description: `Pods labelled ${USE_LABEL}: "true" run as a ServiceAccount that carries the ${CLIENT_ID_ANNOTATION} annotation.`,
    enforcementLevel: "mandatory",
    remediationSteps: "Run the pods as the workload's annotated ServiceAccount (serviceAccountName), or annotate the ServiceAccount they run as.",
    check: (args) => {
        const accounts = args.resources
            .filter((r) => isServiceAccount(r.type))
            .map((account) => ({ account, id: objectName(account.props), placement: kubernetesPlacement(account, args.resources) }));
        const problems: StackProblem[] = [];
        for (const resource of args.resources) {
            for (const template of podTemplatesOf(resource.type, resource.props)) {
                if (stringAt(template.metadata, "labels", USE_LABEL) !== "true") {
                    continue;
                }
                const named = stringAt(template.spec, "serviceAccountName") ?? stringAt(template.spec, "serviceAccount");
                const namespace = stringAt(resource.props, "metadata", "namespace");
                if (named === UNKNOWN || namespace === UNKNOWN) {
                    continue;
                }
                const serviceAccount = named === undefined || named === "" ? "default" : named;
                const ns = namespace === undefined || namespace === "" ? "default" : namespace;
                const placement = kubernetesPlacement(resource, args.resources);
                const matching = accounts.filter(
                    (a) => a.id !== undefined && a.id.namespace === ns && a.id.name === serviceAccount && sameCluster(a.placement, placement),
                );
                const specPath = path(template.path, "spec.serviceAccountName");
                if (matching.length === 0) {
                    if (serviceAccount === "default") {
                        problems.push({
                            urn: resource.urn,
                            message: `${label(resource)}: its pods are labelled ${USE_LABEL}: "true" but run as the default ServiceAccount of namespace "${ns}", which carries no ${CLIENT_ID_ANNOTATION} annotation in this stack, so they get a token but no AZURE_CLIENT_ID. Set ${specPath} to the workload's annotated ServiceAccount.`,
                        });
                    }
                    continue;
                }
                if (matching.some((a) => hasClientId(a.account) !== false)) {
                    continue;
                }
                problems.push({
                    urn: resource.urn,
                    message: `${label(resource)}: its pods are labelled ${USE_LABEL}: "true" but run as ServiceAccount ${ns}/${serviceAccount} (${label(matching[0].account)}), which has no ${CLIENT_ID_ANNOTATION} annotation, so they get a token but no AZURE_CLIENT_ID. Annotate that ServiceAccount with the client ID of the identity the pods use, or set ${specPath} to the workload's annotated ServiceAccount.`,
                });
            }
        }
        return problems;
    },
});

interface Trust {
    readonly credential: PolicyResource;
    readonly principal: FederatedPrincipal | undefined;
    readonly cluster: PolicyResource | undefined;
}

type Verdict = "match" | "mismatch" | "unverifiable";

/** Whether a ServiceAccount's client-id annotation is the client ID of the principal that trusts it. */
function verdict(account: PolicyResource, value: unknown, principal: FederatedPrincipal | undefined): Verdict {
    if (principal === undefined) {
        return "unverifiable";
    }
    const ids = knownClientIds(principal);
    if (typeof value === "string" && ids.length > 0) {
        return ids.some((id) => id.toLowerCase() === value.toLowerCase()) ? "match" : "mismatch";
    }
    if (principal.clientIdSources.length === 0) {
        return "unverifiable";
    }
    // Values unknown at preview: the annotation must come from the principal's outputs.
    const sources = propertySources(account, "metadata");
    return sources.some((source) => principal.clientIdSources.some((s) => s.urn === source.urn)) ? "match" : "mismatch";
}

export const serviceAccountClientId = stackPolicy({
    name: "service-account-client-id",
    description: `Every ServiceAccount that a federated credential's subject names carries the ${CLIENT_ID_ANNOTATION} annotation of that credential's identity.`,
    enforcementLevel: "mandatory",
    remediationSteps: `Set the ServiceAccount's ${CLIENT_ID_ANNOTATION} annotation from the identity's clientId output.`,
    check: (args) => {
        const trusts = new Map<string, Trust[]>();
        for (const credential of args.resources.filter((r) => FEDERATED_CREDENTIAL_TYPES.includes(r.type))) {
            const subject = stringAt(credential.props, "subject");
            const named = typeof subject === "string" ? parseServiceAccountSubject(subject) : undefined;
            if (named === undefined) {
                continue;
            }
            const key = `${named.namespace}/${named.name}`;
            const trust = { credential, principal: principalOfCredential(credential, args.resources), cluster: clusterOfCredential(credential, args.resources) };
            trusts.set(key, [...(trusts.get(key) ?? []), trust]);
        }
        const problems: StackProblem[] = [];
        for (const account of args.resources.filter((r) => isServiceAccount(r.type))) {
            const id = objectName(account.props);
            if (id === undefined) {
                continue;
            }
            const placement = kubernetesPlacement(account, args.resources);
            const trusting = (trusts.get(`${id.namespace}/${id.name}`) ?? []).filter(
                (t) => t.cluster === undefined || placement.cluster === undefined || t.cluster.urn === placement.cluster.urn,
            );
            if (trusting.length === 0) {
                continue;
            }
            const name = `${label(account)} (${id.namespace}/${id.name})`;
            const annotations = at(account.props, "metadata", "annotations");
            const value = annotations === UNKNOWN ? UNKNOWN : at(annotations, CLIENT_ID_ANNOTATION);
            const [first] = trusting;
            const firstPrincipal = first.principal?.label ?? "its identity";
            if (value === undefined || value === null || value === "") {
                problems.push({
                    urn: account.urn,
                    message: `${name} has no ${CLIENT_ID_ANNOTATION} annotation, but ${label(first.credential)} of ${firstPrincipal} trusts it, so its pods get a token but no AZURE_CLIENT_ID. Annotate it with the client ID of ${firstPrincipal} (its clientId output).`,
                });
                continue;
            }
            const verdicts = trusting.map((t) => ({ trust: t, verdict: verdict(account, value, t.principal) }));
            if (verdicts.some((v) => v.verdict === "match") || verdicts.every((v) => v.verdict === "unverifiable")) {
                continue;
            }
            const { trust } = verdicts.find((v) => v.verdict === "mismatch") as { trust: Trust };
            const principal = (trust.principal as FederatedPrincipal).label;
            const ids = knownClientIds(trust.principal as FederatedPrincipal);
            const sources = propertySources(account, "metadata").map(label);
            problems.push({
                urn: account.urn,
                message:
                    typeof value === "string" && ids.length > 0
                        ? `${name} is annotated with client ID "${value}", which is not the client ID of ${principal}, whose ${label(trust.credential)} trusts it; the token exchange would ask for another identity and fail with AADSTS70021. Set ${CLIENT_ID_ANNOTATION} from ${principal}'s clientId output.`
                        : `${name}: its ${CLIENT_ID_ANNOTATION} annotation does not come from ${principal}, whose ${label(trust.credential)} trusts it (the ServiceAccount's metadata comes from ${sources.length === 0 ? "no resource" : sources.join(", ")}). Set the annotation from ${principal}'s clientId output, so the two cannot drift apart.`,
            });
        }
        return problems;
    },
});

export const kubernetesResourcePolicies: readonly ResourceValidationPolicy[] = [workloadIdentityAnnotationPlacement, workloadIdentityUseLabelPlacement];
export const kubernetesStackPolicies: readonly StackValidationPolicy[] = [serviceAccountClientId, podServiceAccountClientId];
