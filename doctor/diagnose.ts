import { ENTRA_TOKEN_EXCHANGE_AUDIENCE } from "../components/constants";
import { closestMatch } from "../components/suggest";
import type { TrustEntry } from "../plan/model";

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

/** Compares what a token presents with the declared credentials. */
export function diagnose(presented: Presented, declared: readonly Declared[], now: Date): Diagnosis {
    const expired =
        presented.expiresAt !== undefined && presented.expiresAt.getTime() <= now.getTime()
            ? [`the token expired at ${presented.expiresAt.toISOString()}; projected tokens are refreshed by the kubelet, so read the file again instead of caching it.`]
            : [];
    const audienceOk = (credential: Declared): boolean => credential.audiences.some((audience) => presented.audiences.includes(audience));
    const exact = declared.find((d) => d.issuer === presented.issuer && d.subject === presented.subject && audienceOk(d));
    if (exact !== undefined) {
        const ok = expired.length === 0;
        return { ok, verdict: ok ? "match" : "no match", match: exact, findings: [...expired, `matches ${describe(exact)}.`] };
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
