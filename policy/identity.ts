import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { AKS_IDENTITY_BINDING_CREDENTIAL, ENTRA_TOKEN_EXCHANGE_AUDIENCE, MAX_FEDERATED_CREDENTIALS } from "../components/constants";
import { serviceAccountSubject } from "../components/names";
import { namespaceProblem, serviceAccountNameProblem } from "../components/kubernetes-names";
import { ofTypes, resourcePolicy, stackPolicy, type StackProblem } from "./define";
import { TYPES } from "./resource-types";
import {
    FEDERATED_CREDENTIAL_TYPES,
    UNKNOWN,
    arrayAt,
    at,
    dependsOn,
    isIdentityBinding,
    label,
    parseServiceAccountSubject,
    principalKeyOfBinding,
    principalOfCredential,
    show,
    stringAt,
    type FederatedPrincipal,
} from "./resources";

/**
 * The identity side of the trust chain: what a federated credential (FIC) may trust, how many
 * one principal may have and how they are written, and that no principal carries a secret.
 */

const credential = (type: string): boolean => FEDERATED_CREDENTIAL_TYPES.includes(type);

/** A list from policy config, which the CLI checks against the schema but a hand-made config may not honour. */
function configList(value: unknown): readonly unknown[] {
    return Array.isArray(value) ? (value as unknown[]) : [];
}

/** Config of `fic-audience`. */
export interface AudienceConfig {
    /** Audiences accepted besides Entra ID's `api://AzureADTokenExchange` (a sovereign cloud's). Default: []. */
    readonly allowedAudiences?: readonly string[];
}

export const ficAudience = resourcePolicy({
    name: "fic-audience",
    description: `Federated credentials have exactly one audience, "${ENTRA_TOKEN_EXCHANGE_AUDIENCE}", unless the policy config declares another one.`,
    enforcementLevel: "mandatory",
    remediationSteps: `Set audiences: ["${ENTRA_TOKEN_EXCHANGE_AUDIENCE}"]; for a cloud with another token exchange audience, list it in this policy's allowedAudiences config.`,
    configSchema: {
        properties: {
            allowedAudiences: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: `Audiences accepted besides "${ENTRA_TOKEN_EXCHANGE_AUDIENCE}" (for example a sovereign cloud's).`,
            },
        },
    },
    appliesTo: credential,
    check: (args) => {
        const audiences = arrayAt(args.props, "audiences");
        if (audiences === UNKNOWN || (audiences !== undefined && audiences.includes(UNKNOWN))) {
            return [];
        }
        const configured = args.getConfig<AudienceConfig>().allowedAudiences;
        const allowed = [ENTRA_TOKEN_EXCHANGE_AUDIENCE, ...configList(configured).filter((a): a is string => typeof a === "string")];
        if (audiences === undefined || audiences.length !== 1) {
            return [
                `${label(args)}: audiences is ${show(audiences)}; a federated credential takes exactly one audience. Set audiences: ["${ENTRA_TOKEN_EXCHANGE_AUDIENCE}"].`,
            ];
        }
        const [audience] = audiences;
        if (typeof audience === "string" && allowed.includes(audience)) {
            return [];
        }
        return [
            `${label(args)}: audience ${show(audience)} is not Entra ID's token exchange audience "${ENTRA_TOKEN_EXCHANGE_AUDIENCE}", so the token exchange fails. Set audiences: ["${ENTRA_TOKEN_EXCHANGE_AUDIENCE}"], or, for a non-Entra audience, list it in this policy's allowedAudiences config.`,
        ];
    },
});

/** An issuer outside the stack's clusters that federated credentials may trust, with the subjects it may present. */
export interface ExternalIssuer {
    /** The issuer exactly as in its tokens' `iss` claim, e.g. `https://token.actions.githubusercontent.com`. */
    readonly issuer: string;
    /** A JavaScript regular expression the whole subject must match, e.g. `repo:my-org/my-repo:environment:(dev|prod)`. */
    readonly subjectPattern: string;
}

/** Config of `fic-subject`. */
export interface SubjectConfig {
    /** Default: [] (only ServiceAccount subjects). */
    readonly allowedExternalIssuers?: readonly ExternalIssuer[];
}

const SUBJECT_FORM = serviceAccountSubject("<namespace>", "<serviceAccount>");

function subjectProblems(name: string, issuer: unknown, subject: string, config: SubjectConfig): string[] {
    const serviceAccount = parseServiceAccountSubject(subject);
    if (serviceAccount !== undefined) {
        const problem = namespaceProblem(serviceAccount.namespace) ?? serviceAccountNameProblem(serviceAccount.name);
        return problem === undefined
            ? []
            : [`${name}: subject "${subject}" names no ServiceAccount the webhook serves: ${problem} Set subject to ${SUBJECT_FORM} exactly as the ServiceAccount is named.`];
    }
    if (issuer === UNKNOWN) {
        return [];
    }
    const declared = configList(config.allowedExternalIssuers).filter(
        (entry): entry is ExternalIssuer =>
            typeof entry === "object" && entry !== null && (entry as ExternalIssuer).issuer === issuer && typeof (entry as ExternalIssuer).subjectPattern === "string",
    );
    if (declared.length === 0) {
        return [
            `${name}: subject "${subject}" is not a ServiceAccount subject (${SUBJECT_FORM}) and issuer ${show(issuer)} is not a declared external issuer. For a workload, set subject to ${SUBJECT_FORM}; to trust another issuer (a GitHub Actions workflow, say), declare the issuer and a subject pattern in this policy's allowedExternalIssuers config.`,
        ];
    }
    const problems: string[] = [];
    let matched = false;
    for (const entry of declared) {
        let pattern: RegExp;
        try {
            pattern = new RegExp(`^(?:${entry.subjectPattern})$`);
        } catch (error) {
            problems.push(
                `${name}: the subjectPattern ${show(entry.subjectPattern)} declared for issuer "${entry.issuer}" in this policy's allowedExternalIssuers config is not a valid regular expression (${(error as Error).message}). Fix the pattern.`,
            );
            continue;
        }
        matched = matched || pattern.test(subject);
    }
    if (matched) {
        return [];
    }
    const patterns = declared.map((entry) => show(entry.subjectPattern)).join(", ");
    return [
        ...problems,
        `${name}: subject "${subject}" does not match the subject pattern ${patterns} declared for issuer "${String(issuer)}". Use a subject of the declared form (GitHub Actions: repo:<owner>/<repo>:environment:<environment>), or widen subjectPattern in this policy's allowedExternalIssuers config.`,
    ];
}

export const ficSubject = resourcePolicy({
    name: "fic-subject",
    description: `Federated credentials trust a Kubernetes ServiceAccount subject (${SUBJECT_FORM}), or a subject of an external issuer the policy config declares.`,
    enforcementLevel: "mandatory",
    remediationSteps: `Set subject to ${SUBJECT_FORM}; for an external issuer, declare { issuer, subjectPattern } in this policy's allowedExternalIssuers config.`,
    configSchema: {
        properties: {
            allowedExternalIssuers: {
                type: "array",
                default: [],
                description: "Issuers besides the clusters' that federated credentials may trust, each with a regular expression the whole subject must match.",
                items: {
                    type: "object",
                    properties: {
                        issuer: { type: "string", description: "The issuer exactly as in its tokens' iss claim." },
                        subjectPattern: { type: "string", description: "A regular expression the whole subject must match." },
                    },
                    required: ["issuer", "subjectPattern"],
                    additionalProperties: false,
                },
            },
        },
    },
    appliesTo: credential,
    check: (args) => {
        const subject = stringAt(args.props, "subject");
        if (subject === UNKNOWN) {
            return [];
        }
        if (subject === undefined || subject === "") {
            return [`${label(args)}: no subject. Set subject to ${SUBJECT_FORM}.`];
        }
        return subjectProblems(label(args), at(args.props, "issuer"), subject, args.getConfig<SubjectConfig>());
    },
});

export const ficIssuerHttps = resourcePolicy({
    name: "fic-issuer-https",
    description: "Federated credentials trust an https issuer URL.",
    enforcementLevel: "mandatory",
    remediationSteps: "Take the issuer from the cluster's oidcIssuerProfile.issuerURL output, or use the external issuer's https URL exactly as in its tokens' iss claim.",
    appliesTo: credential,
    check: (args) => {
        const issuer = stringAt(args.props, "issuer");
        if (issuer === UNKNOWN) {
            return [];
        }
        let url: URL | undefined;
        try {
            url = issuer === undefined ? undefined : new URL(issuer);
        } catch {
            url = undefined;
        }
        if (url !== undefined && url.protocol === "https:" && url.hostname !== "") {
            return [];
        }
        return [
            `${label(args)}: issuer ${show(issuer)} is not an https URL; Entra ID only fetches signing keys over https. Take the issuer from the cluster's oidcIssuerProfile.issuerURL output, or write the external issuer's https URL exactly as in its tokens' iss claim.`,
        ];
    },
});

const SECRET_CREDENTIALS: Readonly<Record<string, string>> = {
    [TYPES.applicationPassword]: "a client secret of an app registration",
    [TYPES.applicationCertificate]: "a certificate credential of an app registration",
    [TYPES.servicePrincipalPassword]: "a client secret of a service principal",
    [TYPES.servicePrincipalCertificate]: "a certificate credential of a service principal",
};

export const noSecretCredentials = resourcePolicy({
    name: "no-secret-credentials",
    description: "No principal has a secret or certificate credential: no ApplicationPassword, ApplicationCertificate, ServicePrincipalPassword, ServicePrincipalCertificate, nor an inline password on an Application.",
    enforcementLevel: "mandatory",
    remediationSteps: "Delete the credential; the workload authenticates through a federated credential on its ServiceAccount.",
    appliesTo: ofTypes(TYPES.application, ...Object.keys(SECRET_CREDENTIALS)),
    check: (args) => {
        const kind = SECRET_CREDENTIALS[args.type];
        if (kind !== undefined) {
            return [
                `${label(args)}: ${kind}, a secret to store, leak and rotate; workload identity needs none. Delete this resource; the workload authenticates through a federated credential whose subject is its ServiceAccount (${SUBJECT_FORM}).`,
            ];
        }
        const password = at(args.props, "password");
        if (password === undefined || password === null) {
            return [];
        }
        return [
            `${label(args)}: the inline password block makes Entra ID generate a client secret for the application. Remove password; the workload authenticates through the application's federated credentials.`,
        ];
    },
});

/** The federated credentials of the stack grouped by principal, in registration order. */
export function credentialsByPrincipal(resources: readonly PolicyResource[]): { principal: FederatedPrincipal; credentials: PolicyResource[] }[] {
    const groups = new Map<string, { principal: FederatedPrincipal; credentials: PolicyResource[] }>();
    for (const resource of resources) {
        if (!credential(resource.type)) {
            continue;
        }
        const principal = principalOfCredential(resource, resources);
        if (principal === undefined) {
            continue;
        }
        const group = groups.get(principal.key) ?? { principal, credentials: [] };
        group.credentials.push(resource);
        groups.set(principal.key, group);
    }
    return [...groups.values()];
}

/** The keys of the managed identities that AKS identity bindings of the stack map (each has AKS's own FIC). */
export function boundPrincipalKeys(resources: readonly PolicyResource[]): Set<string> {
    return new Set(
        resources
            .filter((r) => isIdentityBinding(r.type, r.props))
            .map((binding) => principalKeyOfBinding(binding))
            .filter((key): key is string => key !== undefined),
    );
}

export const ficCountPerIdentity = stackPolicy({
    name: "fic-count-per-identity",
    description: `No identity or app registration has more than ${MAX_FEDERATED_CREDENTIALS} federated credentials (the Entra ID limit), counting the ${AKS_IDENTITY_BINDING_CREDENTIAL} credential AKS creates on an identity with identity bindings.`,
    enforcementLevel: "mandatory",
    remediationSteps: "Give further clusters or issuers an identity of their own, move the workload to AKS identity bindings (identityBinding: true), or remove credentials no longer used.",
    check: (args) => {
        const problems: StackProblem[] = [];
        const bound = boundPrincipalKeys(args.resources);
        for (const { principal, credentials } of credentialsByPrincipal(args.resources)) {
            // A binding-mode identity has no per-cluster FIC on purpose; AKS's one FIC counts.
            const aks = bound.has(principal.key) ? 1 : 0;
            const count = credentials.length + aks;
            if (count > MAX_FEDERATED_CREDENTIALS) {
                const counted = aks === 0 ? "" : ` (${credentials.length} declared + ${AKS_IDENTITY_BINDING_CREDENTIAL}, which AKS creates for its identity bindings)`;
                problems.push({
                    urn: principal.resource?.urn ?? credentials[credentials.length - 1].urn,
                    message: `${principal.label} has ${count} federated credentials${counted}; Entra ID allows at most ${MAX_FEDERATED_CREDENTIALS} per identity. Give further clusters or issuers an identity of their own, or remove credentials no longer used.`,
                });
            }
        }
        return problems;
    },
});

export const ficWritesSerialized = stackPolicy({
    name: "fic-writes-serialized",
    description: "The federated credentials of one identity form a dependency chain, so no two are written at the same time.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give each federated credential of an identity dependsOn the one before it.",
    check: (args) => {
        const problems: StackProblem[] = [];
        for (const { principal, credentials } of credentialsByPrincipal(args.resources)) {
            for (let later = 1; later < credentials.length; later++) {
                for (let earlier = 0; earlier < later; earlier++) {
                    const [a, b] = [credentials[earlier], credentials[later]];
                    if (!dependsOn(b, a) && !dependsOn(a, b)) {
                        problems.push({
                            urn: b.urn,
                            message: `${label(a)} and ${label(b)} of ${principal.label} can be written at the same time: neither depends on the other. Azure rejects concurrent federated credential writes under one identity (409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity). Chain them: give each credential dependsOn the one before it.`,
                        });
                    }
                }
            }
        }
        return problems;
    },
});

export const identityResourcePolicies: readonly ResourceValidationPolicy[] = [ficAudience, ficSubject, ficIssuerHttps, noSecretCredentials];
export const identityStackPolicies: readonly StackValidationPolicy[] = [ficCountPerIdentity, ficWritesSerialized];
