/**
 * The AKS support window of each Kubernetes minor version, as AKS publishes it in "Supported
 * Kubernetes versions in Azure Kubernetes Service (AKS)", section "AKS Kubernetes release calendar"
 * (https://learn.microsoft.com/azure/aks/supported-kubernetes-versions; its source is
 * MicrosoftDocs/azure-aks-docs articles/aks/supported-kubernetes-versions.md, ms.date 08/05/2026,
 * read at commit fb060abe of 2026-08-21). The calendar gives months; "unless an explicit date is
 * provided, the End of Life (EOL) date is the last day of the specified month", and GA is taken as
 * the first day of its month. GA announcements were cross-checked in Azure/AKS CHANGELOG.md (as of
 * 2026-08-07). Checked on 2026-12-01; a minor version AKS adds later is added here.
 *
 * What could not be verified on that day: 1.37's GA ("Oct 2026" in the calendar; the newest AKS
 * changelog read stops at 2026-07-17, before its preview) and every end-of-life date from 1.34 on,
 * which are the calendar's plan as of August 2026 (AKS has moved such dates before: the changelog of
 * 2026-03-05 gives 1.32 "April 30, 2026", the calendar "Mar 2026"). Long-term support (Premium tier,
 * `supportPlan: AKSLongTermSupport`) extends a version by a year, but this project does not configure
 * it, so only the standard window counts.
 */

/** When the table below was last compared with its sources. */
export const AKS_VERSIONS_CHECKED = "2026-12-01";

/** Where the dates come from. */
export const AKS_VERSIONS_SOURCE =
    'AKS Kubernetes release calendar, "Supported Kubernetes versions in AKS" (learn.microsoft.com/azure/aks/supported-kubernetes-versions)';

/** A warning starts this many days before a version leaves support. */
export const KUBERNETES_VERSION_WARNING_DAYS = 60;

export interface AksKubernetesVersion {
    /** `major.minor`. */
    readonly minor: string;
    /** First day AKS creates clusters on it without a preview flag (`YYYY-MM-DD`). */
    readonly ga: string;
    /** Last day of standard support (`YYYY-MM-DD`); AKS creates no cluster on it afterwards. */
    readonly endOfLife: string;
    /** What the sources say, and what they do not. */
    readonly note: string;
}

/** Oldest first. */
export const AKS_KUBERNETES_VERSIONS: readonly AksKubernetesVersion[] = [
    {
        minor: "1.32",
        ga: "2025-04-01",
        endOfLife: "2026-03-31",
        note: "Calendar: GA Apr 2025, EOL Mar 2026. Changelog 2025-04-06: rollout delayed to end of April; changelog 2026-03-05: end of standard support April 30, 2026.",
    },
    {
        minor: "1.33",
        ga: "2025-06-01",
        endOfLife: "2026-07-31",
        note: "Calendar: GA Jun 2025, EOL Jul 2026. Changelog 2025-06-17: GA before the end of June 2025.",
    },
    {
        minor: "1.34",
        ga: "2025-11-01",
        endOfLife: "2026-11-30",
        note: "Calendar: GA Nov 2025, EOL Nov 2026. Changelog 2026-01-04 announces GA.",
    },
    {
        minor: "1.35",
        ga: "2026-03-01",
        endOfLife: "2027-03-31",
        note: "Calendar: GA Mar 2026, EOL Mar 2027. Changelog 2026-03-05 announces GA.",
    },
    {
        minor: "1.36",
        ga: "2026-06-01",
        endOfLife: "2027-06-30",
        note: "Calendar: GA Jun 2026, EOL Jun 2027. Changelog 2026-06-19 announces GA (and LTS).",
    },
    {
        minor: "1.37",
        ga: "2026-10-01",
        endOfLife: "2027-10-31",
        note: "Calendar: GA Oct 2026, EOL Oct 2027. Not verified: no AKS changelog read covers its GA.",
    },
];

const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

/** `1.36` of `1.36` or `1.36.2`; undefined when the text is not a version. */
export function kubernetesMinor(version: string): string | undefined {
    const match = VERSION.exec(version);
    return match === null ? undefined : `${Number(match[1])}.${Number(match[2])}`;
}

/** The UTC calendar day of `date`, as `YYYY-MM-DD`. */
export function isoDay(date: Date): string {
    return date.toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
    return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The minor versions AKS supports on `today` (GA reached, end of life not passed), oldest first. */
export function supportedKubernetesVersions(today: Date): AksKubernetesVersion[] {
    const day = isoDay(today);
    return AKS_KUBERNETES_VERSIONS.filter((version) => version.ga <= day && day <= version.endOfLife);
}

function supportedList(today: Date): string {
    const supported = supportedKubernetesVersions(today);
    return supported.length === 0
        ? `none in this program's table (checked ${AKS_VERSIONS_CHECKED}): update components/kubernetes-versions.ts`
        : supported.map((version) => `${version.minor} (until ${version.endOfLife})`).join(", ");
}

function compareMinor(a: string, b: string): number {
    const [aMajor, aMinor] = a.split(".").map(Number);
    const [bMajor, bMinor] = b.split(".").map(Number);
    return aMajor - bMajor || aMinor - bMinor;
}

export interface KubernetesVersionCheck {
    readonly severity: "error" | "warning";
    readonly message: string;
}

/**
 * Whether AKS creates a cluster on `version` (`major.minor` or `major.minor.patch`) on `today`: an
 * error when its minor version is out of AKS support, not yet GA or unknown; a warning within
 * KUBERNETES_VERSION_WARNING_DAYS of its end of support. Pure: the caller passes the date.
 */
export function kubernetesVersionProblem(version: string, today: Date): KubernetesVersionCheck | undefined {
    const minor = kubernetesMinor(version);
    if (minor === undefined) {
        return undefined;
    }
    const day = isoDay(today);
    const allowed = `Allowed values are the minor versions AKS supports: ${supportedList(today)}.`;
    const entry = AKS_KUBERNETES_VERSIONS.find((candidate) => candidate.minor === minor);
    if (entry === undefined) {
        const oldest = AKS_KUBERNETES_VERSIONS[0];
        if (compareMinor(minor, oldest.minor) < 0) {
            return {
                severity: "error",
                message: `Kubernetes version "${version}" is out of AKS support (older than ${oldest.minor}, which left it on ${oldest.endOfLife}): AKS creates no cluster on it. ${allowed}`,
            };
        }
        return {
            severity: "error",
            message: `Kubernetes version "${version}" is not in the AKS release calendar this program knows (checked ${AKS_VERSIONS_CHECKED}), so AKS may not offer it yet. ${allowed}`,
        };
    }
    if (day < entry.ga) {
        return {
            severity: "error",
            message: `Kubernetes version "${version}" is not generally available in AKS before ${entry.ga.slice(0, 7)} (AKS release calendar). ${allowed}`,
        };
    }
    if (day > entry.endOfLife) {
        return {
            severity: "error",
            message: `Kubernetes version "${version}" is out of AKS support since ${entry.endOfLife} (AKS release calendar): AKS creates no cluster on it. ${allowed}`,
        };
    }
    const left = daysBetween(day, entry.endOfLife);
    if (left <= KUBERNETES_VERSION_WARNING_DAYS) {
        const next = supportedKubernetesVersions(today).find((candidate) => compareMinor(candidate.minor, minor) > 0);
        const plan = next === undefined ? "Plan the upgrade to the next minor version when AKS ships it." : `Plan the upgrade to ${next.minor}.`;
        return {
            severity: "warning",
            message: `Kubernetes version "${version}" leaves AKS support on ${entry.endOfLife}, in ${left} day${left === 1 ? "" : "s"}; after that AKS creates no cluster on it and running clusters are out of support. ${plan}`,
        };
    }
    return undefined;
}

/**
 * The upgrade channels that move the Kubernetes minor version themselves (AKS docs "Automatically
 * upgrade an AKS cluster"): under them the configured version is only the one a new cluster
 * starts on, and the components ignore it afterwards (`ignoreChanges`).
 */
export const VERSION_MOVING_CHANNELS: readonly string[] = ["rapid", "stable"];

/**
 * The refusal of a version AKS does not create (an error of `kubernetesVersionProblem`), saying
 * under a channel that moves the version that changing it does not touch a running cluster: the
 * way out when a pinned version leaves support after the cluster was created. Undefined when
 * AKS creates the version. `channel` defaults to the components' `stable`.
 */
export function kubernetesVersionRefusal(version: string, today: Date, channel: string = "stable"): string | undefined {
    const support = kubernetesVersionProblem(version, today);
    if (support?.severity !== "error") {
        return undefined;
    }
    return VERSION_MOVING_CHANNELS.includes(channel)
        ? `${support.message} Under upgradeChannel ${channel} it is only the version a new cluster starts on, and it is ignored afterwards: changing it does not touch a running cluster.`
        : support.message;
}

