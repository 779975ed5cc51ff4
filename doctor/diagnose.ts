import { AKS_IDENTITY_BINDING_CREDENTIAL, ENTRA_TOKEN_EXCHANGE_AUDIENCE, IDENTITY_BINDING_AUDIENCE, USE_IDENTITY_BINDING_ANNOTATION } from "../components/constants";
import { parseIdentityBindingIssuer } from "../components/identity-binding-rules";
import { closestMatch } from "../components/suggest";
import type { TrustEntry } from "../plan/model";
import type { DeclaredBinding } from "./bindings";

/**
 * The doctor: why Entra ID would refuse a token exchange (AADSTS70021 and friends), worked out
 * offline by comparing what a token presents with the federated credentials the stack declares.
 * Pure: no network, no clock of its own (the caller passes `now`).
 */

/** What the token (or the AADSTS message) presents. */
export interface Presented {
    readonly issuer: string;
    readonly subject: string;
    readonly audiences: readonly string[];
    /** Expiry (`exp`), when a token was given. */
    readonly expiresAt?: Date;
}

/** One federated credential the stack declares, with its issuer when it is known. */
export interface Declared {
    readonly workload: string;
    readonly credential: string;
    /** The stack's cluster this credential trusts, when it is a cluster's. */
    readonly cluster: string | undefined;
    /** The issuer URL; undefined for a cluster whose URL was not given (known after deployment). */
    readonly issuer: string | undefined;
    /** The cluster's Azure region, when known, to say which clusters could have issued a token. */
    readonly region: string | undefined;
    readonly subject: string;
    readonly audiences: readonly string[];
}

/**
 * - `match`: a declared credential accepts the token and it has not expired;
 * - `no match`: Entra ID would refuse it, whatever the clusters' issuer URLs are;
 * - `cannot tell`: only the credential of a cluster whose issuer URL was not given could accept
 *   it (the URL exists only after deployment), so the answer needs that URL.
 */
export type Verdict = "match" | "no match" | "cannot tell";

export interface Diagnosis {
    /** True when one credential accepts the token and the token is still valid. */
    readonly ok: boolean;
    readonly verdict: Verdict;
    readonly match: Declared | undefined;
    /** What is wrong, most specific first; or what matched. */
    readonly findings: readonly string[];
    /**
     * The verdict line when the usual one does not fit: a token of identity binding mode is
     * accepted by the AKS proxy and its RBAC, not by a federated credential of the stack.
     */
    readonly headline?: string;
}

/** AKS issuers: https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/ */
const AKS_ISSUER = /^https:\/\/([a-z0-9]+)\.oic\.prod-aks\.azure\.com\/[0-9a-f-]{36}\/[0-9a-z-]+\/$/;
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * The credentials of a trust map, with cluster issuers from `clusterIssuers` (the deployed
 * stack's outputs or `--cluster-issuer`); a cluster without one keeps an unknown issuer.
 */
export function declaredCredentials(trust: readonly TrustEntry[], clusterIssuers: Readonly<Record<string, string>>): Declared[] {
    return trust.flatMap((entry) =>
        entry.federations.map((federation): Declared => {
            const region = federation.cluster === undefined ? undefined : AKS_ISSUER.exec(federation.issuer)?.[1];
            return {
                workload: entry.workload,
                credential: federation.name,
                cluster: federation.cluster,
                issuer: federation.cluster === undefined ? federation.issuer : clusterIssuers[federation.cluster],
                region,
                subject: federation.subject,
                audiences: federation.audiences,
            };
        }),
    );
}

function withoutSlash(url: string): string {
    return url.replace(/\/+$/, "");
}

function describe(credential: Declared): string {
    return `workload ${credential.workload}, credential ${credential.credential}${credential.cluster === undefined ? "" : ` (cluster ${credential.cluster})`}`;
}

function subjectDifference(presented: string, declared: string): string {
    const a = SERVICE_ACCOUNT_SUBJECT.exec(presented);
    const b = SERVICE_ACCOUNT_SUBJECT.exec(declared);
    if (a === null || b === null) {
        return `the subject differs: the token says "${presented}", the credential trusts "${declared}"`;
    }
    const parts: string[] = [];
    if (a[1] !== b[1]) {
        parts.push(`namespace "${a[1]}" instead of "${b[1]}"`);
    }
    if (a[2] !== b[2]) {
        parts.push(`ServiceAccount "${a[2]}" instead of "${b[2]}"`);
    }
    return `the pod runs with ${parts.join(" and ")}: the credential trusts "${declared}"`;
}

/**
 * Checks what can be checked of an issuer without knowing the clusters' URLs; `undecided` when a
 * cluster whose URL was not given could still accept the token.
 */
function issuerFormFindings(presented: Presented, declared: readonly Declared[], audienceOk: (d: Declared) => boolean): { findings: string[]; undecided: boolean } {
    const { issuer, subject } = presented;
    if (!issuer.startsWith("https://")) {
        return { findings: [`the issuer "${issuer}" is not an https URL; Entra ID only trusts https issuers.`], undecided: false };
    }
    const aks = AKS_ISSUER.exec(issuer.endsWith("/") ? issuer : `${issuer}/`);
    if (aks === null) {
        return {
            findings: [`the issuer "${issuer}" does not have the form of an AKS issuer (https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/) nor of any issuer the stack declares.`],
            undecided: false,
        };
    }
    const findings: string[] = [];
    // AKS issuer URLs end with "/" (oidcIssuerProfile.issuerURL), so one without it never matches.
    const slashMissing = !issuer.endsWith("/");
    if (slashMissing) {
        findings.push(`the issuer "${issuer}" lacks the trailing "/" that AKS issuers end with; copy it exactly from the cluster (pulumi stack output clusters).`);
    }
    if (!declared.some((d) => d.cluster !== undefined && d.issuer === undefined)) {
        const known = [...new Set(declared.filter((d) => d.cluster !== undefined).map((d) => `${d.cluster as string} ${d.issuer as string}`))];
        findings.push(`no credential trusts this issuer; the stack's clusters issue tokens as: ${known.join(", ") || "none"}. The token comes from another cluster.`);
        return { findings, undecided: false };
    }
    const candidates = declared.filter((d) => d.cluster !== undefined && d.issuer === undefined && d.subject === subject && (d.region === undefined || d.region === aks[1]));
    if (candidates.length === 0) {
        findings.push(`no cluster in region ${aks[1]} is federated for subject "${subject}".`);
        return { findings, undecided: false };
    }
    const accepting = candidates.filter(audienceOk);
    if (accepting.length === 0) {
        findings.push(...candidates.map((credential) => audienceFinding(presented, credential)));
        return { findings, undecided: false };
    }
    const clusters = [...new Set(accepting.map((d) => d.cluster as string))];
    findings.push(
        `the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters in ${aks[1]} federated for this subject: ${clusters.join(", ")}.`,
    );
    return { findings, undecided: !slashMissing };
}

function audienceFinding(presented: Presented, credential: Declared): string {
    return (
        `the audience is wrong: the token is for ${JSON.stringify(presented.audiences)}, ${describe(credential)} expects ${JSON.stringify(credential.audiences)}` +
        (credential.audiences.includes(ENTRA_TOKEN_EXCHANGE_AUDIENCE) ? " (the webhook's projected token carries it; a token requested by hand may not)." : ".")
    );
}

function serviceAccountOf(subject: string): { namespace: string; name: string } | undefined {
    const match = SERVICE_ACCOUNT_SUBJECT.exec(subject);
    return match === null ? undefined : { namespace: match[1], name: match[2] };
}

function allows(binding: DeclaredBinding, account: { namespace: string; name: string } | undefined): boolean {
    return account !== undefined && binding.serviceAccounts.some((a) => a.namespace === account.namespace && a.name === account.name);
}

/** `workload W allows a/b, c/d on clusters x, y`, per workload. */
function bindingSummary(bindings: readonly DeclaredBinding[]): string {
    const workloads = [...new Set(bindings.map((b) => b.workload))];
    return workloads
        .map((workload) => {
            const own = bindings.filter((b) => b.workload === workload);
            const accounts = [...new Set(own.flatMap((b) => b.serviceAccounts.map((a) => `${a.namespace}/${a.name}`)))];
            return `workload ${workload} allows ${accounts.join(", ") || "no ServiceAccount"} on clusters ${own.map((b) => b.cluster).join(", ")}`;
        })
        .join("; ");
}

const BINDING_MATCH_HEADLINE =
    "OK: the AKS identity binding proxy accepts this token (the cluster has a binding for the identity, and RBAC lets the ServiceAccount use it).";
const BINDING_ISSUER_HEADLINE = `CANNOT TELL offline: the federated credential that accepts this token is AKS's own (${AKS_IDENTITY_BINDING_CREDENTIAL}), not the stack's; check it as below.`;

/**
 * A token for `api://AKSIdentityBinding`: what the webhook projects for a pod in identity binding
 * mode (AKS docs "Use identity bindings and direct federation in the same workload"). Its issuer is
 * the cluster's, but it never reaches Entra ID: the cluster's identity binding proxy checks the
 * RBAC (verb use-managed-identity on the identity's client ID) and exchanges it.
 */
function diagnoseBindingToken(presented: Presented, bindings: readonly DeclaredBinding[], expired: readonly string[]): Diagnosis {
    const refused = (findings: string[]): Diagnosis => ({ ok: false, verdict: "no match", match: undefined, findings: [...expired, ...findings] });
    if (bindings.length === 0) {
        return refused([
            `the token's audience is ${IDENTITY_BINDING_AUDIENCE}: the webhook projects it for pods annotated ${USE_IDENTITY_BINDING_ANNOTATION}: "true", for the AKS identity binding proxy, but no workload of this stack uses identity bindings, so no proxy has a binding to exchange it with. Remove the annotation from the pod, or set identityBinding: true on the workload.`,
        ]);
    }
    const account = serviceAccountOf(presented.subject);
    const allowing = bindings.filter((b) => allows(b, account));
    if (account === undefined) {
        return refused([`the subject "${presented.subject}" is not a ServiceAccount's (system:serviceaccount:<namespace>:<name>); identity bindings serve ServiceAccount tokens only.`]);
    }
    if (allowing.length === 0) {
        return refused([
            `no identity binding of this stack lets ServiceAccount ${account.namespace}/${account.name} use its identity (the subjects of its ClusterRoleBinding): ${bindingSummary(bindings)}. Add { namespace: "${account.namespace}", name: "${account.name}" } to the workload's serviceAccounts, or run the pod as one of those.`,
        ]);
    }
    const matching = allowing.filter((b) => b.issuer === presented.issuer);
    if (matching.length > 0) {
        const [binding] = matching;
        const ok = expired.length === 0;
        return {
            ok,
            verdict: ok ? "match" : "no match",
            match: undefined,
            headline: ok ? BINDING_MATCH_HEADLINE : undefined,
            findings: [
                ...expired,
                `the identity binding proxy of cluster ${binding.cluster} exchanges it for the identity of workload ${binding.workload} (binding ${binding.name}; RBAC lets ${account.namespace}/${account.name} use it). Entra ID sees the binding's own issuer and AKS's credential ${AKS_IDENTITY_BINDING_CREDENTIAL}, not this token; the application must send it through the proxy (token proxy enabled on WorkloadIdentityCredential).`,
            ],
        };
    }
    const unknown = allowing.filter((b) => b.issuer === undefined);
    if (unknown.length > 0) {
        return {
            ok: false,
            verdict: expired.length === 0 ? "cannot tell" : "no match",
            match: undefined,
            findings: [
                ...expired,
                `the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters whose identity bindings let ${account.namespace}/${account.name} use an identity: ${[...new Set(unknown.map((b) => b.cluster))].join(", ")}.`,
            ],
        };
    }
    const known = [...new Set(allowing.map((b) => `${b.cluster} ${b.issuer as string}`))];
    return refused([
        `the token comes from a cluster where no identity binding of this stack lets ${account.namespace}/${account.name} use an identity; the bindings that allow it are on: ${known.join(", ")}. Add the token's cluster to the workload's clusters.`,
    ]);
}

/**
 * A token whose issuer is an identity binding issuer (`https://ib.oic.prod-aks.azure.com/<tenant>/<client ID>`):
 * one the AKS proxy presented to Entra ID, as an AADSTS message quotes it. The credential that
 * accepts it is AKS's own, which the stack never declares.
 */
function diagnoseBindingIssuer(
    presented: Presented,
    issuer: { tenantId: string; clientId: string },
    bindings: readonly DeclaredBinding[],
    expired: readonly string[],
): Diagnosis {
    const what = `the issuer "${presented.issuer}" is the one AKS keeps for the identity bindings of managed identity ${issuer.clientId} (tenant ${issuer.tenantId}): the AKS proxy presents such tokens to Entra ID, which accepts them through the federated credential ${AKS_IDENTITY_BINDING_CREDENTIAL} that AKS created on the identity. The stack does not declare that credential (AKS owns it), so it cannot be checked offline.`;
    if (bindings.length === 0) {
        return { ok: false, verdict: "no match", match: undefined, findings: [...expired, what, "No workload of this stack uses identity bindings (identityBinding: true)."] };
    }
    return {
        ok: false,
        verdict: expired.length === 0 ? "cannot tell" : "no match",
        match: undefined,
        headline: expired.length === 0 ? BINDING_ISSUER_HEADLINE : undefined,
        findings: [
            ...expired,
            what,
            `Check that it exists and names this issuer: az identity federated-credential show --name ${AKS_IDENTITY_BINDING_CREDENTIAL} --identity-name <identity> --resource-group <group>; and that the cluster has the binding: az aks identity-binding list --cluster-name <cluster> --resource-group <group>. Identity bindings of this stack: ${bindingSummary(bindings)}.`,
        ],
    };
}

/**
 * Compares what a token presents with the declared credentials and, for identity binding mode,
 * the declared bindings.
 */
export function diagnose(presented: Presented, declared: readonly Declared[], now: Date, bindings: readonly DeclaredBinding[] = []): Diagnosis {
    const expired =
        presented.expiresAt !== undefined && presented.expiresAt.getTime() <= now.getTime()
            ? [`the token expired at ${presented.expiresAt.toISOString()}; projected tokens are refreshed by the kubelet, so read the file again instead of caching it.`]
            : [];
    if (presented.audiences.includes(IDENTITY_BINDING_AUDIENCE)) {
        return diagnoseBindingToken(presented, bindings, expired);
    }
    const bindingIssuer = parseIdentityBindingIssuer(presented.issuer);
    if (bindingIssuer !== undefined) {
        return diagnoseBindingIssuer(presented, bindingIssuer, bindings, expired);
    }
    const audienceOk = (credential: Declared): boolean => credential.audiences.some((audience) => presented.audiences.includes(audience));
    const exact = declared.find((d) => d.issuer === presented.issuer && d.subject === presented.subject && audienceOk(d));
    if (exact !== undefined) {
        const ok = expired.length === 0;
        return { ok, verdict: ok ? "match" : "no match", match: exact, findings: [...expired, `matches ${describe(exact)}.`] };
    }

    // A workload in identity binding mode has no FIC for its clusters' issuers (unless
    // keepClassicCredentials keeps them): a token for Entra ID bypasses the proxy, and is refused
    // whatever the clusters' URLs are.
    const account = serviceAccountOf(presented.subject);
    const bound = bindings.filter((b) => allows(b, account) && !declared.some((d) => d.workload === b.workload && d.cluster !== undefined && d.subject === presented.subject));
    if (bound.length > 0) {
        const findings = [...new Set(bound.map((b) => b.workload))].map((workload) => {
            const clusters = bound.filter((b) => b.workload === workload).map((b) => b.cluster);
            return `workload ${workload} uses identity bindings on clusters ${clusters.join(", ")}, without a federated credential for those clusters' issuers, so Entra ID refuses this token for ${JSON.stringify(presented.audiences)}: its pods must carry the annotation ${USE_IDENTITY_BINDING_ANNOTATION}: "true" (the webhook then projects a token for ${IDENTITY_BINDING_AUDIENCE} and the proxy variables) and the application must enable the token proxy on WorkloadIdentityCredential.`;
        });
        return { ok: false, verdict: "no match", match: undefined, findings: [...expired, ...findings] };
    }

    const findings: string[] = [];
    let undecided = false;
    const sameIssuer = declared.filter((d) => d.issuer === presented.issuer);
    const slashOnly = declared.filter((d) => d.issuer !== undefined && d.issuer !== presented.issuer && withoutSlash(d.issuer) === withoutSlash(presented.issuer));
    for (const issuer of new Set(slashOnly.map((d) => d.issuer as string))) {
        findings.push(`the issuer differs only by a trailing slash: the token says "${presented.issuer}", the credentials trust "${issuer}".`);
    }
    // The credentials of the issuer that signed the token, trailing slash aside.
    const candidates = sameIssuer.length > 0 ? sameIssuer : slashOnly;
    if (candidates.length === 0) {
        const form = issuerFormFindings(presented, declared, audienceOk);
        findings.push(...form.findings);
        undecided = form.undecided;
    } else {
        const subjectMatches = candidates.filter((d) => d.subject === presented.subject);
        for (const credential of subjectMatches.filter((d) => !audienceOk(d))) {
            findings.push(audienceFinding(presented, credential));
        }
        if (subjectMatches.length === 0) {
            const closest = closestMatch(presented.subject, candidates.map((d) => d.subject)) ?? candidates[0].subject;
            const credential = candidates.find((d) => d.subject === closest) as Declared;
            findings.push(`${subjectDifference(presented.subject, closest)} (${describe(credential)}).`);
            const issuerCluster = candidates.find((d) => d.cluster !== undefined)?.cluster;
            const owners = declared.filter((d) => d.subject === presented.subject);
            for (const workload of new Set(owners.map((d) => d.workload))) {
                const federatedWith = owners.filter((d) => d.workload === workload && d.cluster !== undefined).map((d) => d.cluster as string);
                if (issuerCluster !== undefined) {
                    findings.push(
                        `cluster ${issuerCluster} is not federated for workload ${workload}, whose ServiceAccount this is; it is federated with: ${federatedWith.join(", ") || "no cluster"}. Add ${issuerCluster} to its clusters.`,
                    );
                }
            }
        }
    }
    if (findings.length === 0) {
        findings.push("no declared federated credential has this issuer, subject and audience.");
    }
    // An expired token is refused whichever credential would have matched.
    const verdict: Verdict = undecided && expired.length === 0 ? "cannot tell" : "no match";
    return { ok: false, verdict, match: undefined, findings: [...expired, ...findings] };
}
