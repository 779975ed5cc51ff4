import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError, configKey as key, foreignKeyProblems, rule, issueProblems, rawConfig, withValue, type ConfigProblem } from "./config-problems";

export { formatConfigProblems, type ConfigProblem } from "./config-problems";
import {
    federatedCredentialBudgetProblem,
    identityBindingNameClashes,
    NAME_LIMITS,
    aksNodeResourceGroupName,
    apiServerAccessProblem,
    broadPrivilegedAssignment,
    parseScope,
    resolveRole,
    channelMovesKubernetesVersion,
    cidrProblem,
    closestMatch,
    clusterName,
    clusterNameProblem,
    audiencesProblem,
    dnsPrefix,
    federatedCredentialName,
    federationIssuerProblem,
    ficNameClash,
    guidProblem,
    keyVaultIdProblem,
    workspaceIdProblem,
    keyVaultObjectNameProblem,
    identityNameProblem,
    nameLimitProblem,
    quickstartName,
    resourceGroupNameProblem,
    locationProblem,
    namespaceProblem,
    reservedNamespaceProblem,
    poolCountsProblem,
    poolNameProblem,
    AdminPrincipalType,
    ClusterSkuTier,
    NetworkPolicy,
    NodeOsUpgradeChannel,
    PrincipalKind,
    UpgradeChannel,
    clusterAdminsProblem,
    annotateExistingProblem,
    duplicateGrantProblems,
    identityBindingPrincipalProblem,
    privateClusterNetworkProblem,
    quickstartSecretProblem,
    workloadNamespaceProblem,
    reservedRoleAssignmentKeyProblem,
    systemPoolNameProblem,
    roleAssignmentProblems,
    serviceAccountNameProblem,
    stackResourceGroupName,
    tokenExpirationProblem,
    workloadIdentityName,
} from "../components";
import { kubernetesVersionProblem, kubernetesVersionRefusal } from "../components/kubernetes-versions";
import {
    ipAddressProblem,
    parseCidr,
    rangeContains,
    type Ipv4Range,
    networkProblems,
    networkRangeProblem,
    privateDnsZoneProblem,
    serviceCidrProblem,
    subnetIdProblem,
} from "../components/network-rules";

export { AKS_NETWORK_DEFAULTS, AKS_RESERVED_RANGES, formatIpv4, parseCidr, parseIpv4, rangeContains, rangesOverlap, type Ipv4Range } from "../components/network-rules";

/**
 * The one config path: stack config in, one typed, validated StackConfig out. This module reads
 * config and never creates a resource, so a bad config stops the program before anything exists.
 */

export const PROJECT = "aks-workload-identity";

/** Namespaces a stack file may use besides this project's: the providers' and Pulumi's own. */
export const ALLOWED_NAMESPACES: readonly string[] = [PROJECT, "azure-native", "azuread", "kubernetes", "pulumi"];

/** Provider keys the program reads, by the field they become. */
const PROVIDER_KEYS: Readonly<Record<string, string>> = { location: "azure-native:location" };

// `pulumi config set --path` writes `3`, `true` and `1` as YAML numbers and booleans, and quoted
// values as strings: where the two spellings mean the same thing, both are accepted.
const bool = z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean());
const asNumber = (value: unknown): unknown => (typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value);
const count = z.preprocess(asNumber, z.number().int());
const zone = z.preprocess((value) => (typeof value === "number" ? String(value) : value), z.enum(["1", "2", "3"]));

const guid = z.string().superRefine(rule(guidProblem));

function environmentProblem(environment: string): string | undefined {
    return /^[a-z0-9][a-z0-9-]{0,15}$/.test(environment)
        ? undefined
        : `invalid environment "${environment}". Allowed values are 1 to 16 lower-case letters, digits and '-', starting with a letter or digit.`;
}

function vmSizeProblem(vmSize: string): string | undefined {
    return /^Standard_[A-Za-z0-9_]+$/.test(vmSize) ? undefined : `invalid VM size "${vmSize}". Allowed values are Azure VM SKU names such as Standard_D4ds_v5.`;
}

function kubernetesVersionFormatProblem(version: string): string | undefined {
    return /^\d+\.\d+(\.\d+)?$/.test(version)
        ? undefined
        : `invalid Kubernetes version "${version}". Allowed values are major.minor or major.minor.patch, such as "1.36" or "1.36.2".`;
}

/**
 * A version written unquoted is a YAML number: `1.35` arrives as 1.35 and is taken as "1.35", but
 * `1.30` arrives as 1.3, so a number with a one-digit minor is refused rather than guessed.
 */
const kubernetesVersion = z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
        if (typeof value === "string") {
            return value;
        }
        const text = String(value);
        if (/^\d+\.\d$/.test(text)) {
            ctx.addIssue({
                code: "custom",
                input: value,
                message: `the number ${text} is ambiguous: YAML reads 1.30 as 1.3. Quote the version, e.g. "${text}0".`,
            });
            return z.NEVER;
        }
        return text;
    })
    .pipe(z.string().superRefine(rule(kubernetesVersionFormatProblem)));

// --- network ---------------------------------------------------------------------------------

// --- namespaces ------------------------------------------------------------------------------

/** A namespace a cluster declares: a valid name, not one Kubernetes owns. */
function declaredNamespaceProblem(namespace: string): string | undefined {
    return reservedNamespaceProblem(namespace) ?? namespaceProblem(namespace);
}

// --- schema ----------------------------------------------------------------------------------

const poolFields = {
    vmSize: z.string().superRefine(rule(vmSizeProblem)),
    minCount: count,
    maxCount: count,
    zones: z.array(zone).optional(),
    osDiskSizeGB: z.preprocess(asNumber, z.number().int().min(30).max(2048)).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    taints: z.array(z.string()).optional(),
};

const systemPoolSchema = z.strictObject(poolFields);
const nodePoolSchema = z.strictObject({ ...poolFields, mode: z.enum(["System", "User"]).default("User") });

const networkSchema = z.strictObject({
    vnetSubnetId: z.string().superRefine(rule(subnetIdProblem)),
    podCidr: z.string().superRefine(rule(networkRangeProblem)).optional(),
    serviceCidr: z.string().superRefine(rule(serviceCidrProblem)).optional(),
    dnsServiceIp: z.string().superRefine(rule(ipAddressProblem)).optional(),
    privateDnsZone: z.string().superRefine(rule(privateDnsZoneProblem)).default("system"),
});

const clusterSchema = z.strictObject({
    name: z.string().superRefine(rule(clusterNameProblem)).optional(),
    kubernetesVersion: kubernetesVersion.optional(),
    sku: z.enum(Object.values(ClusterSkuTier)).default("Free"),
    upgradeChannel: z.enum(Object.values(UpgradeChannel)).default("stable"),
    nodeOsUpgradeChannel: z.enum(Object.values(NodeOsUpgradeChannel)).default("NodeImage"),
    existing: z
        .strictObject({
            name: z.string().superRefine(rule(clusterNameProblem)),
            resourceGroupName: z.string().superRefine(rule(resourceGroupNameProblem)),
        })
        .optional(),
    systemPool: systemPoolSchema.optional(),
    nodePools: z.record(key, nodePoolSchema).default({}),
    namespaces: z.array(z.string().superRefine(rule(declaredNamespaceProblem))).default([]),
    adminGroupObjectIds: z.array(guid).default([]),
    clusterAdmins: z
        .record(key, z.strictObject({ objectId: guid, principalType: z.enum(Object.values(AdminPrincipalType)) }))
        .default({}),
    authorizedIpRanges: z.array(z.string().superRefine(rule(cidrProblem))).optional(),
    private: bool.default(false),
    network: networkSchema.optional(),
    allowPublicApiServer: bool.default(false),
    disableLocalAccounts: bool.default(true),
    networkPolicy: z.enum(Object.values(NetworkPolicy)).default("cilium"),
    keyVaultSecretsProvider: bool.optional(),
    azurePolicy: bool.default(true),
    imageCleaner: bool.default(true),
    defender: z.strictObject({ logAnalyticsWorkspaceResourceId: z.string().superRefine(rule(workspaceIdProblem)) }).optional(),
});

/** The only keys an `existing` cluster entry takes besides `existing`: nothing else is changed on it. */
const EXISTING_CLUSTER_KEYS: ReadonlySet<string> = new Set(["existing", "clusterAdmins", "namespaces"]);

const roleAssignmentSchema = z.strictObject({
    role: z.string().min(1),
    scope: z.string().min(1),
    allowBroadScope: bool.default(false),
    description: z.string().optional(),
});

/** federationIssuerProblem, naming the refused issuer also when the rule names only the right one. */
function issuerProblem(issuer: string): string | undefined {
    const problem = federationIssuerProblem(issuer);
    return problem === undefined || problem.includes(`"${issuer}"`) ? problem : `"${issuer}": ${problem}`;
}

const federationSchema = z.strictObject({
    issuer: z.string().superRefine(rule(issuerProblem)),
    subject: z.string().min(1).max(600),
    audiences: z.array(z.string()).optional(),
    allowCustomAudience: bool.default(false),
});

const workloadSchema = z.strictObject({
    name: z.string().superRefine(rule(identityNameProblem)).optional(),
    namespace: z.string().superRefine(rule(namespaceProblem)).optional(),
    serviceAccount: z.string().superRefine(rule(serviceAccountNameProblem)).optional(),
    /** @deprecated declare the namespace in clusters.<key>.namespaces. */
    createNamespace: bool.default(false),
    createServiceAccount: bool.default(true),
    annotateExistingServiceAccount: bool.default(false),
    principal: z.enum(Object.values(PrincipalKind)).default("managedIdentity"),
    clusters: z.array(key).optional(),
    tokenExpirationSeconds: z.preprocess(asNumber, z.number().superRefine(rule(tokenExpirationProblem))).optional(),
    roleAssignments: z.record(key, roleAssignmentSchema).default({}),
    federations: z.record(key, federationSchema).default({}),
    keyVault: z
        .strictObject({
            resourceId: z.string().superRefine(rule(keyVaultIdProblem)),
            secrets: z.array(z.string().superRefine(rule(keyVaultObjectNameProblem))).default([]),
            certificates: z.array(z.string().superRefine(rule(keyVaultObjectNameProblem))).default([]),
        })
        .optional(),
    quickstart: bool.default(false),
    identityBinding: bool.default(false),
    keepClassicCredentials: bool.default(false),
    serviceAccounts: z
        .array(z.strictObject({ namespace: z.string().superRefine(rule(namespaceProblem)), name: z.string().superRefine(rule(serviceAccountNameProblem)) }))
        .optional(),
});

/** The kubelogin modes the deprecated `kubeloginMode` key still accepts (and ignores). */
export const DEPRECATED_KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn"] as const;

/** The stack config's schema; README's config reference is compared with its shapes (test/readme-config.test.ts). */
export const stackSchema = z.strictObject({
    location: z.string().superRefine(rule(locationProblem)),
    environment: z.string().superRefine(rule(environmentProblem)),
    tags: z.record(z.string(), z.string()).default({}),
    resourceGroupName: z.string().superRefine(rule(resourceGroupNameProblem)).optional(),
    applicationOwners: z.array(guid).default([]),
    /** @deprecated ignored: kubelogin reads AAD_LOGIN_METHOD at run time. */
    kubeloginMode: z.enum(DEPRECATED_KUBELOGIN_MODES).optional(),
    protect: bool.default(true),
    clusters: z.record(key, clusterSchema).refine((clusters) => Object.keys(clusters).length > 0, {
        message: "no clusters. Declare at least one cluster under aks-workload-identity:clusters.",
    }),
    workloads: z.record(key, workloadSchema).default({}),
});

type ParsedStack = z.output<typeof stackSchema>;
type ParsedCluster = z.output<typeof clusterSchema>;
export type NetworkConfig = z.output<typeof networkSchema>;
export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type ClusterConfig = Omit<ParsedCluster, "keyVaultSecretsProvider" | "namespaces"> & {
    readonly key: string;
    /** Azure name of the cluster, created or adopted. */
    readonly azureName: string;
    /** Whether the cluster has (or, adopted, must have) the Key Vault secrets provider add-on. */
    readonly keyVaultSecretsProvider: boolean;
    /**
     * The namespaces the stack creates in the cluster: `namespaces` plus the namespace of every
     * workload on it with the deprecated `createNamespace: true`; deduplicated and sorted.
     */
    readonly namespaces: readonly string[];
};
export type RoleAssignmentConfig = z.output<typeof roleAssignmentSchema>;
export type WorkloadConfig = Omit<z.output<typeof workloadSchema>, "clusters" | "serviceAccount" | "name"> & {
    readonly key: string;
    /** Azure name of the managed identity, or display name of the app registration. */
    readonly identityName: string;
    readonly serviceAccount: string;
    /** The cluster keys the workload runs on, resolved (every cluster when omitted). */
    readonly clusters: readonly string[];
};

/** The whole stack, typed and validated. */
export interface StackConfig {
    readonly project: string;
    readonly environment: string;
    readonly location: string;
    readonly tags: Readonly<Record<string, string>>;
    /** The resource group: created (`rg-<project>-<env>`) unless `existing`. */
    readonly resourceGroup: { readonly name: string; readonly existing: boolean };
    /**
     * Object IDs that own every app registration and service principal (`owners`); required as
     * soon as a workload has `principal: application`. Default: [].
     */
    readonly applicationOwners: readonly string[];
    /**
     * @deprecated Ignored (the config warns): the kubeconfig must not depend on who runs the
     * program; kubelogin reads AAD_LOGIN_METHOD at run time. Set only when the stack file still
     * gives it. Do not pass it on.
     */
    readonly kubeloginMode?: (typeof DEPRECATED_KUBELOGIN_MODES)[number];
    /** `protect` on the resource group, the clusters and their node pools. Default: true. */
    readonly protect: boolean;
    readonly clusters: Readonly<Record<string, ClusterConfig>>;
    readonly workloads: Readonly<Record<string, WorkloadConfig>>;
}

/** Raised for an invalid stack config; printed by the Pulumi host without a stack trace. */
export class StackConfigError extends ConfigError {
    constructor(problems: readonly ConfigProblem[]) {
        super(problems, "stack config");
        this.name = "StackConfigError";
    }
}

/** Config keys as written in the stack file: `aks-workload-identity:<key>` except location. */
function configPath(path: readonly PropertyKey[]): string {
    const [head, ...rest] = path.map(String);
    if (head === undefined) {
        return PROJECT;
    }
    const root = head === "location" ? "azure-native:location" : `${PROJECT}:${head}`;
    return [root, ...rest].join(".");
}

export interface ParseOptions {
    /** The day the Kubernetes version table is read for. Default: now. */
    readonly today?: Date;
}

/**
 * Parses raw stack config (values as the stack file holds them) into the StackConfig, or returns
 * every problem at once. Pure but for the date: the same input and `today` give the same answer,
 * with no Pulumi runtime.
 */
export function parseStackConfig(
    raw: Record<string, unknown>,
    stack: string,
    options: ParseOptions = {},
): { config: StackConfig; warnings: ConfigProblem[] } | { problems: ConfigProblem[] } {
    const today = options.today ?? new Date();
    const projectKeys = Object.keys(stackSchema.shape).filter((field) => field !== "location");
    const own = foreignKeyProblems(raw, PROJECT, ALLOWED_NAMESPACES, projectKeys, PROVIDER_KEYS);
    const input: Record<string, unknown> = { environment: stack, ...own.raw };
    const result = stackSchema.safeParse(input, { reportInput: true });
    // The rules across fields and entries run on what did parse, field by field, so that one run
    // reports every problem, not just the first layer of them.
    const structural = result.success ? [] : result.error.issues.flatMap((issue) => issueProblems(stackSchema, issue, configPath));
    const problems = [...own.problems, ...structural, ...semanticProblems(lenient(input, stack), today)];
    if (!result.success || problems.length > 0) {
        return { problems };
    }
    return { config: resolve(result.data), warnings: [...warnings(result.data, own.raw, today), ...placeholderWarnings(own.raw)] };
}

/** Accepted, but worth a line in every deployment's output: explicit overrides of the baseline. */
function warnings(stack: ParsedStack, given: Readonly<Record<string, unknown>>, today: Date): ConfigProblem[] {
    const found: ConfigProblem[] = [];
    const add = (path: string, message: string): void => {
        found.push({ path: `${PROJECT}:${path}`, message });
    };
    if (stack.kubeloginMode !== undefined) {
        add(
            "kubeloginMode",
            `"${stack.kubeloginMode}" is deprecated and ignored: the kubeconfig no longer depends on who runs the program. kubelogin reads the login method from AAD_LOGIN_METHOD at run time: pipelines set AAD_LOGIN_METHOD=workloadidentity, a laptop needs nothing (the Azure CLI login). Remove the key.`,
        );
    }
    if (given.protect !== undefined && !stack.protect) {
        add(
            "protect",
            "false: the resource group, the clusters and their node pools are not protected, so a config change that replaces or removes them deletes them (a replaced cluster gets a new OIDC issuer, which breaks every federated credential). Keep it for throw-away stacks.",
        );
    }
    for (const [clusterKey, cluster] of Object.entries(stack.clusters)) {
        const path = `clusters.${clusterKey}`;
        const version = cluster.kubernetesVersion;
        if (version !== undefined && cluster.existing === undefined) {
            const support = kubernetesVersionProblem(version, today);
            if (support?.severity === "warning") {
                add(`${path}.kubernetesVersion`, support.message);
            }
        }
        if (version !== undefined && /^\d+\.\d+\.\d+$/.test(version)) {
            const minor = version.split(".").slice(0, 2).join(".");
            if (cluster.upgradeChannel === "patch") {
                add(
                    `${path}.kubernetesVersion`,
                    `"${version}" pins a patch version, but upgradeChannel "patch" moves the cluster to the newest patch of ${minor}, and a later run would send "${version}" back (a downgrade AKS refuses). Give "${minor}".`,
                );
            } else if (channelMovesKubernetesVersion(cluster.upgradeChannel)) {
                add(
                    `${path}.kubernetesVersion`,
                    `"${version}" pins a patch version, but upgradeChannel "${cluster.upgradeChannel}" moves it and the program then ignores it. Give "${minor}", or set upgradeChannel: none to manage the version yourself.`,
                );
            }
        }
        if (cluster.allowPublicApiServer && cluster.authorizedIpRanges === undefined && !cluster.private) {
            add(`${path}.allowPublicApiServer`, "the API server is open to the internet. Prefer authorizedIpRanges or private: true.");
        }
        if (!cluster.disableLocalAccounts) {
            add(`${path}.disableLocalAccounts`, "local accounts are enabled: whoever holds the admin kubeconfig bypasses Entra ID and Azure RBAC.");
        }
    }
    const clusterKeys = Object.keys(stack.clusters);
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        const targets = workload.clusters ?? clusterKeys;
        if (workload.createNamespace && (workload.namespace === undefined || targets.length === 0)) {
            add(`workloads.${workloadKey}.createNamespace`, "true is deprecated, and does nothing here: the workload runs in no cluster. Remove it.");
        } else if (workload.createNamespace && workload.namespace !== undefined) {
            add(
                `workloads.${workloadKey}.createNamespace`,
                `true is deprecated: a namespace a workload creates is deleted with that workload, with every other workload's ServiceAccount in it. Declare it once per cluster instead (${targets.map((target) => `clusters.${target}.namespaces: [${workload.namespace as string}]`).join(", ")}); until then the namespace is added there.`,
            );
        }
        for (const [assignmentKey, assignment] of Object.entries(workload.roleAssignments)) {
            const role = resolveRole(assignment.role);
            const scope = parseScope(assignment.scope);
            const broad = assignment.allowBroadScope && !("error" in role) && scope !== undefined ? broadPrivilegedAssignment(role, scope) : undefined;
            if (broad !== undefined) {
                add(
                    `workloads.${workloadKey}.roleAssignments.${assignmentKey}.allowBroadScope`,
                    `${broad} is allowed for this workload: it can take over everything in that scope.`,
                );
            }
        }
    }
    return found;
}

const PLACEHOLDER_GUID = /^([0-9a-f])\1{7}-\1{4}-\1{4}-\1{4}-\1{12}$/i;
const SUBSCRIPTION_IN_ID = /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/i;
/** RFC 5737: address ranges for documentation, which no real network uses. */
const DOCUMENTATION_RANGES: readonly (readonly [string, string])[] = [
    ["192.0.2.0/24", "TEST-NET-1"],
    ["198.51.100.0/24", "TEST-NET-2"],
    ["203.0.113.0/24", "TEST-NET-3"],
];

/** Why a config value looks like a sample's placeholder, or undefined. */
export function placeholderProblem(value: string): string | undefined {
    if (PLACEHOLDER_GUID.test(value)) {
        return `"${value}" is a placeholder (one digit repeated), not a real ID: replace it before deploying.`;
    }
    const subscription = SUBSCRIPTION_IN_ID.exec(value)?.[1];
    if (subscription !== undefined && PLACEHOLDER_GUID.test(subscription)) {
        return `the subscription "${subscription}" in "${value}" is a placeholder, not a real ID: replace it before deploying.`;
    }
    const range = parseCidr(value.includes("/") ? value : `${value}/32`);
    const documentation = range === undefined ? undefined : DOCUMENTATION_RANGES.find(([cidr]) => {
        const reserved = parseCidr(cidr) as Ipv4Range;
        return rangeContains(reserved, range.first) && rangeContains(reserved, range.first + range.size - 1);
    });
    return documentation === undefined
        ? undefined
        : `"${value}" is in ${documentation[0]} (${documentation[1]}), a range reserved for documentation (RFC 5737) that no real address is in: replace it with your own range before deploying.`;
}

/** One warning per config value that looks like a placeholder of the committed samples. */
function placeholderWarnings(given: Readonly<Record<string, unknown>>): ConfigProblem[] {
    const found: ConfigProblem[] = [];
    const visit = (value: unknown, segments: readonly string[]): void => {
        if (typeof value === "string") {
            const message = placeholderProblem(value);
            if (message !== undefined) {
                found.push({ path: configPath(segments), message });
            }
        } else if (Array.isArray(value)) {
            value.forEach((item, index) => visit(item, [...segments, String(index)]));
        } else if (typeof value === "object" && value !== null) {
            for (const [field, item] of Object.entries(value)) {
                visit(item, [...segments, field]);
            }
        }
    };
    for (const [field, value] of Object.entries(given)) {
        visit(value, [field]);
    }
    return found;
}

function entriesOf(value: unknown): [string, unknown][] {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
}

type Shape = Record<string, z.ZodType>;

/** Fields that were given but did not parse: rules that read them stay silent. */
interface Invalid {
    readonly invalid: ReadonlySet<string>;
    /** The keys the entry gives, before defaults. */
    readonly given: ReadonlySet<string>;
    /** The entry as given. */
    readonly values: Readonly<Record<string, unknown>>;
}

/** Each field of `value` that parses on its own (defaults applied); bad fields are left out and listed. */
function fieldwise<S extends Shape>(shape: S, value: unknown): Lenient<S> {
    const fields: Record<string, unknown> = {};
    const invalid = new Set<string>();
    const object = Object.fromEntries(entriesOf(value));
    for (const [name, schema] of Object.entries(shape)) {
        const parsed = schema.safeParse(object[name]);
        if (!parsed.success) {
            invalid.add(name);
        } else if (parsed.data !== undefined) {
            fields[name] = parsed.data;
        }
    }
    return { ...(fields as Partial<{ [K in keyof S]: z.output<S[K]> }>), invalid, given: new Set(Object.keys(object)), values: object };
}

type Lenient<S extends Shape> = Partial<{ [K in keyof S]: z.output<S[K]> }> & Invalid;
type LenientPool = Lenient<typeof nodePoolSchema.shape>;
type LenientNetwork = Lenient<typeof networkSchema.shape>;
type LenientCluster = Omit<Lenient<typeof clusterSchema.shape>, "systemPool" | "nodePools" | "network"> & {
    systemPool?: LenientPool;
    nodePools: Record<string, LenientPool>;
    network?: LenientNetwork;
};
type LenientAssignment = Lenient<typeof roleAssignmentSchema.shape>;
type LenientWorkload = Omit<Lenient<typeof workloadSchema.shape>, "roleAssignments"> & { roleAssignments: Record<string, LenientAssignment> };

interface LenientStack {
    readonly environment: string;
    readonly top: Lenient<Pick<typeof stackSchema.shape, "location" | "resourceGroupName" | "applicationOwners">>;
    readonly clusters: Record<string, LenientCluster>;
    readonly workloads: Record<string, LenientWorkload>;
}

/** The config as far as it parses, field by field. Every declared cluster key is kept. */
function lenient(input: Record<string, unknown>, stack: string): LenientStack {
    const environment = stackSchema.shape.environment.safeParse(input.environment);
    const { location, resourceGroupName, applicationOwners } = stackSchema.shape;
    const clusters: Record<string, LenientCluster> = {};
    for (const [clusterKey, value] of entriesOf(input.clusters)) {
        const raw = Object.fromEntries(entriesOf(value));
        clusters[clusterKey] = {
            ...fieldwise(clusterSchema.shape, value),
            systemPool: raw.systemPool === undefined ? undefined : fieldwise(systemPoolSchema.shape, raw.systemPool),
            nodePools: Object.fromEntries(entriesOf(raw.nodePools).map(([poolKey, pool]) => [poolKey, fieldwise(nodePoolSchema.shape, pool)])),
            network: raw.network === undefined ? undefined : fieldwise(networkSchema.shape, raw.network),
        };
    }
    const workloads: Record<string, LenientWorkload> = {};
    for (const [workloadKey, value] of entriesOf(input.workloads)) {
        const raw = Object.fromEntries(entriesOf(value));
        workloads[workloadKey] = {
            ...fieldwise(workloadSchema.shape, value),
            roleAssignments: Object.fromEntries(
                entriesOf(raw.roleAssignments).map(([assignmentKey, assignment]) => [assignmentKey, fieldwise(roleAssignmentSchema.shape, assignment)]),
            ),
        };
    }
    return {
        environment: environment.success ? environment.data : stack,
        top: fieldwise({ location, resourceGroupName, applicationOwners }, input),
        clusters,
        workloads,
    };
}

function poolProblem(pool: LenientPool | undefined, system: boolean): string | undefined {
    return pool?.minCount === undefined || pool.maxCount === undefined ? undefined : poolCountsProblem(pool.minCount, pool.maxCount, system);
}

/** Rules across fields and entries, over whatever parsed. */
function semanticProblems(stack: LenientStack, today: Date): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string | undefined): void => {
        if (message !== undefined) {
            problems.push({ path: `${PROJECT}:${path}`, message });
        }
    };
    const location = stack.top.location;
    const resourceGroupName = stack.top.invalid.has("resourceGroupName") ? undefined : (stack.top.resourceGroupName ?? stackResourceGroupName(stack.environment));
    const clusterKeys = Object.keys(stack.clusters);
    const clusterNames = new Map<string, string>();
    for (const [clusterKey, cluster] of Object.entries(stack.clusters)) {
        const path = `clusters.${clusterKey}`;
        const namespaces = new Set<string>();
        for (const namespace of cluster.namespaces ?? []) {
            add(`${path}.namespaces`, namespaces.has(namespace) ? `namespace "${namespace}" is listed twice.` : undefined);
            namespaces.add(namespace);
        }
        if (cluster.given.has("existing")) {
            for (const field of [...cluster.given].filter((f) => !EXISTING_CLUSTER_KEYS.has(f))) {
                add(
                    `${path}.${field}`,
                    withValue(`not used for an existing cluster: the program adopts it as it is. Allowed keys with existing are: ${[...EXISTING_CLUSTER_KEYS].join(", ")}.`, cluster.values[field]),
                );
            }
            const azureName = cluster.existing?.name;
            const other = azureName === undefined ? undefined : clusterNames.get(azureName.toLowerCase());
            add(`${path}.existing.name`, other === undefined ? undefined : `Azure name "${azureName}" is also the name of clusters.${other}; cluster names must differ.`);
            if (azureName !== undefined) {
                clusterNames.set(azureName.toLowerCase(), clusterKey);
            }
            continue;
        }
        if (!cluster.given.has("systemPool")) {
            add(`${path}.systemPool`, "required object is missing.");
        }
        add(`${path}.systemPool`, poolProblem(cluster.systemPool, true));
        for (const [poolKey, pool] of Object.entries(cluster.nodePools)) {
            add(`${path}.nodePools.${poolKey}`, poolNameProblem(poolKey) ?? systemPoolNameProblem(poolKey));
            // A pool in System mode hosts system pods: AKS keeps at least one node in it.
            const counts = poolProblem(pool, pool.mode === "System");
            add(`${path}.nodePools.${poolKey}`, counts !== undefined && pool.mode === "System" && counts.startsWith("invalid minCount") ? `${counts} A pool in mode System keeps at least one node.` : counts);
        }
        if (!["authorizedIpRanges", "private", "allowPublicApiServer"].some((field) => cluster.invalid.has(field))) {
            add(path, apiServerAccessProblem(cluster.authorizedIpRanges, cluster.private ?? false, cluster.allowPublicApiServer ?? false));
        }
        const adminsUnknown = cluster.invalid.has("adminGroupObjectIds") || cluster.invalid.has("clusterAdmins");
        if (!adminsUnknown) {
            add(path, clusterAdminsProblem((cluster.adminGroupObjectIds ?? []).length > 0, Object.keys(cluster.clusterAdmins ?? {}).length > 0));
        }
        if (cluster.kubernetesVersion !== undefined) {
            add(`${path}.kubernetesVersion`, kubernetesVersionRefusal(cluster.kubernetesVersion, today, cluster.upgradeChannel));
        }
        add(`${path}.network`, privateClusterNetworkProblem(cluster.private === true, cluster.given.has("network")));
        if (cluster.network !== undefined && !cluster.invalid.has("private")) {
            for (const [field, message] of networkProblems(cluster.network, cluster.private ?? false, location)) {
                add(`${path}.network.${field}`, message);
            }
        }

        const azureName = cluster.name ?? clusterName(clusterKey, stack.environment);
        if (cluster.name === undefined) {
            const problem = clusterNameProblem(azureName);
            add(
                path,
                problem === undefined
                    ? undefined
                    : `${problem} It is derived as aks-<key>-<environment> (${azureName.length} characters here): shorten the key or the environment, or set name.`,
            );
        }
        if (!cluster.invalid.has("name")) {
            const prefix = nameLimitProblem(NAME_LIMITS.dnsPrefix, dnsPrefix(azureName));
            add(cluster.name === undefined ? path : `${path}.name`, prefix === undefined ? undefined : `${prefix} It is derived from the cluster name "${azureName}".`);
            if (location !== undefined && resourceGroupName !== undefined) {
                const nodeGroup = nameLimitProblem(NAME_LIMITS.nodeResourceGroup, aksNodeResourceGroupName(resourceGroupName, azureName, location));
                add(
                    cluster.name === undefined ? path : `${path}.name`,
                    nodeGroup === undefined
                        ? undefined
                        : `${nodeGroup} AKS derives it as MC_<resource group>_<cluster name>_<location>: shorten the cluster name (the key, or name) or the resource group name (resourceGroupName).`,
                );
            }
        }
        const other = clusterNames.get(azureName.toLowerCase());
        add(`${path}.name`, other === undefined ? undefined : `Azure name "${azureName}" is also the name of clusters.${other}; cluster names must differ.`);
        clusterNames.set(azureName.toLowerCase(), clusterKey);
    }

    const identityNames = new Map<string, string>();
    const serviceAccounts = new Map<string, string>();
    const applications: string[] = [];
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        const path = `workloads.${workloadKey}`;
        if (workload.principal === "application") {
            applications.push(workloadKey);
        }
        // A list that did not parse was reported already; the rules that read it stay silent.
        const targets = workload.invalid.has("clusters") ? [] : (workload.clusters ?? clusterKeys);
        const listed = new Set<string>();
        for (const target of workload.clusters ?? []) {
            if (listed.has(target)) {
                add(`${path}.clusters`, `cluster "${target}" is listed twice; one identity may trust one (issuer, subject) pair only once.`);
            }
            listed.add(target);
            if (!clusterKeys.includes(target)) {
                const suggestion = closestMatch(target, clusterKeys);
                add(`${path}.clusters`, `unknown cluster "${target}".${suggestion ? ` Did you mean "${suggestion}"?` : ""} Allowed values are: ${clusterKeys.join(", ")}.`);
            }
        }
        const federations = Object.entries(workload.federations ?? {});
        const uniqueTargets = [...new Set(targets)];
        const allowed = workload.serviceAccounts ?? (workload.namespace === undefined ? [] : [{ namespace: workload.namespace, name: workload.serviceAccount ?? workloadKey }]);
        add(
            path,
            federatedCredentialBudgetProblem({
                clusters: uniqueTargets.length,
                serviceAccounts: allowed.length,
                federations: federations.length,
                identityBinding: workload.identityBinding === true,
                keepClassicCredentials: workload.identityBinding === true && workload.keepClassicCredentials === true,
            }),
        );
        if (!workload.invalid.has("namespace")) {
            add(`${path}.namespace`, workloadNamespaceProblem(workload.namespace !== undefined, targets.length > 0));
        }
        if (!workload.invalid.has("createServiceAccount")) {
            add(`${path}.annotateExistingServiceAccount`, annotateExistingProblem(workload.annotateExistingServiceAccount === true, workload.createServiceAccount !== false));
        }
        if (workload.createNamespace === true && workload.namespace !== undefined) {
            add(`${path}.createNamespace`, reservedNamespaceProblem(workload.namespace) === undefined ? undefined : `true, but ${reservedNamespaceProblem(workload.namespace) as string}`);
        }
        // One FIC name per key: the cluster keys' and the federation keys' must all differ once normalised.
        const ficNames = new Map<string, string>();
        for (const target of uniqueTargets) {
            const name = federatedCredentialName(target);
            const first = ficNames.get(name);
            add(
                `${path}.clusters`,
                first === undefined ? undefined : `clusters "${first}" and "${target}" would both name this identity's federated credential ${name}; rename one of the cluster keys.`,
            );
            ficNames.set(name, target);
        }
        const federationNames = new Map<string, string>();
        const pairs = new Map<string, string>();
        for (const [federationKey, federation] of federations) {
            const clash = ficNameClash(federationKey, uniqueTargets);
            add(`${path}.federations.${federationKey}`, clash);
            const name = federatedCredentialName(federationKey);
            const first = federationNames.get(name);
            add(
                `${path}.federations.${federationKey}`,
                clash !== undefined || first === undefined
                    ? undefined
                    : `federation keys "${first}" and "${federationKey}" would both name the federated credential ${name}; rename one of them.`,
            );
            federationNames.set(name, federationKey);
            add(`${path}.federations.${federationKey}`, nameLimitProblem(NAME_LIMITS.federatedCredential, name));
            add(
                `${path}.federations.${federationKey}.audiences`,
                federation.audiences === undefined ? undefined : audiencesProblem(federation.audiences, federation.allowCustomAudience),
            );
            const pair = `${federation.issuer}\n${federation.subject}`;
            const samePair = pairs.get(pair);
            add(
                `${path}.federations.${federationKey}`,
                samePair === undefined ? undefined : `the same issuer and subject as federations.${samePair}; one identity may trust one (issuer, subject) pair only once.`,
            );
            pairs.set(pair, federationKey);
        }
        const identityName = workload.name ?? workloadIdentityName(workloadKey, stack.environment, workload.principal ?? "managedIdentity");
        if (workload.name === undefined && !workload.invalid.has("name")) {
            const problem = identityNameProblem(identityName);
            add(
                path,
                problem === undefined
                    ? undefined
                    : `${problem} It is derived as ${workload.principal === "application" ? "app" : "id"}-<key>-<environment> (${identityName.length} characters here): shorten the key, or set name.`,
            );
        }
        const clash = identityNames.get(identityName.toLowerCase());
        add(`${path}.name`, clash === undefined ? undefined : `identity name "${identityName}" is also the name of workloads.${clash}; rename one of them (set name:).`);
        identityNames.set(identityName.toLowerCase(), workloadKey);

        const serviceAccount = workload.serviceAccount ?? workloadKey;
        add(`${path}.serviceAccount`, workload.serviceAccount === undefined && !workload.invalid.has("serviceAccount") ? serviceAccountNameProblem(workloadKey) : undefined);
        for (const target of workload.namespace === undefined || workload.invalid.has("serviceAccount") ? [] : new Set(targets)) {
            const id = `${target}/${workload.namespace}/${serviceAccount}`;
            const owner = serviceAccounts.get(id);
            add(
                `${path}.serviceAccount`,
                owner === undefined
                    ? undefined
                    : `ServiceAccount ${workload.namespace}/${serviceAccount} in cluster ${target} is also used by workloads.${owner}; two identities on one ServiceAccount race on its annotations.`,
            );
            serviceAccounts.set(id, workloadKey);
        }
        for (const [assignmentKey, assignment] of Object.entries(workload.roleAssignments)) {
            add(`${path}.roleAssignments.${assignmentKey}`, reservedRoleAssignmentKeyProblem(assignmentKey));
            if (assignment.role !== undefined) {
                const found = roleAssignmentProblems(assignment.role, assignment.scope, assignment.allowBroadScope ?? false);
                // A role given by GUID or ID is refused by its name: the message names both.
                add(`${path}.roleAssignments.${assignmentKey}.role`, found.role === undefined ? undefined : withValue(found.role, assignment.role));
                add(`${path}.roleAssignments.${assignmentKey}.scope`, found.scope);
            }
        }
        // Two assignments of one role at one scope would have the same deterministic name.
        const grants: [string, string | undefined, string | undefined][] = [
            ...Object.entries(workload.roleAssignments).map(([k, a]): [string, string | undefined, string | undefined] => [`roleAssignments.${k}`, a.role, a.scope]),
            ...(workload.keyVault === undefined ? [] : [["keyVault", "Key Vault Secrets User", workload.keyVault.resourceId] as [string, string, string]]),
        ];
        for (const [where, message] of duplicateGrantProblems(grants)) {
            add(`${path}.${where}`, message);
        }
        const keyVault = workload.keyVault;
        if (keyVault !== undefined) {
            if (keyVault.secrets.length + keyVault.certificates.length === 0) {
                add(`${path}.keyVault`, "no secrets and no certificates. Name the objects to mount.");
            }
            if (targets.length === 0) {
                add(`${path}.keyVault`, "the workload runs on no cluster, so there is nowhere to mount the objects.");
            }
            for (const target of targets) {
                if (stack.clusters[target]?.keyVaultSecretsProvider === false) {
                    add(
                        `clusters.${target}.keyVaultSecretsProvider`,
                        `false, but workloads.${workloadKey} mounts Key Vault objects on this cluster. Remove the key (the add-on is then enabled) or move the workload.`,
                    );
                }
            }
        }
        if (workload.quickstart === true && (keyVault?.secrets ?? []).length === 0 && !workload.invalid.has("keyVault")) {
            add(`${path}.quickstart`, quickstartSecretProblem(true, 0));
        }
        if (workload.quickstart === true) {
            const label = nameLimitProblem(NAME_LIMITS.kubernetesLabelValue, quickstartName(workloadKey));
            add(`${path}.quickstart`, label === undefined ? undefined : `true, but the quick-start is named <key>-quickstart, and its ${label} Shorten the workload key.`);
        }
    }

    for (const clash of identityBindingNameClashes(Object.entries(stack.workloads).filter(([, w]) => w.identityBinding === true).map(([k]) => k))) {
        add("workloads", clash);
    }
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        if (workload.identityBinding === true && workload.principal === "application") {
            add(`workloads.${workloadKey}.identityBinding`, identityBindingPrincipalProblem(true, workload.principal));
        }
    }

    const owners = stack.top.applicationOwners ?? [];
    if (applications.length > 0 && owners.length === 0 && !stack.top.invalid.has("applicationOwners")) {
        add(
            "applicationOwners",
            `required: ${applications.map((workloadKey) => `workloads.${workloadKey}`).join(", ")} ${applications.length === 1 ? "has" : "have"} principal: application, and with Graph's Application.ReadWrite.OwnedBy the deploying principal can only manage the app registrations and service principals it owns. List the object IDs of every principal that deploys this stack (the pipeline identities the bootstrap prints); each application and service principal gets them as owners.`,
        );
    }
    const seenOwners = new Set<string>();
    owners.forEach((owner, index) => {
        add(`applicationOwners.${index}`, seenOwners.has(owner.toLowerCase()) ? `"${owner}" is listed twice.` : undefined);
        seenOwners.add(owner.toLowerCase());
    });
    return problems;
}

/** The clusters some workload mounts Key Vault objects on: they get the secrets provider add-on. */
function clustersNeedingKeyVault(stack: Pick<ParsedStack, "clusters" | "workloads">): Set<string> {
    const needed = new Set<string>();
    for (const workload of Object.values(stack.workloads)) {
        if (workload.keyVault !== undefined) {
            for (const target of workload.clusters ?? Object.keys(stack.clusters)) {
                needed.add(target);
            }
        }
    }
    return needed;
}

function resolve(stack: ParsedStack): StackConfig {
    const clusterKeys = Object.keys(stack.clusters);
    const clusters: Record<string, ClusterConfig> = {};
    const keyVaultClusters = clustersNeedingKeyVault(stack);
    for (const [clusterKey, cluster] of Object.entries(stack.clusters)) {
        const namespaces = new Set(cluster.namespaces);
        for (const workload of Object.values(stack.workloads)) {
            if (workload.createNamespace && workload.namespace !== undefined && (workload.clusters ?? clusterKeys).includes(clusterKey)) {
                namespaces.add(workload.namespace);
            }
        }
        clusters[clusterKey] = {
            ...cluster,
            key: clusterKey,
            azureName: cluster.existing?.name ?? cluster.name ?? clusterName(clusterKey, stack.environment),
            keyVaultSecretsProvider: cluster.keyVaultSecretsProvider ?? keyVaultClusters.has(clusterKey),
            namespaces: [...namespaces].sort(),
        };
    }
    const workloads: Record<string, WorkloadConfig> = {};
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        const { name, serviceAccount, clusters: targets, ...rest } = workload;
        workloads[workloadKey] = {
            ...rest,
            key: workloadKey,
            identityName: name ?? workloadIdentityName(workloadKey, stack.environment, workload.principal),
            serviceAccount: serviceAccount ?? workloadKey,
            clusters: targets ?? clusterKeys,
        };
    }
    return {
        project: PROJECT,
        environment: stack.environment,
        location: stack.location,
        tags: stack.tags,
        resourceGroup: stack.resourceGroupName === undefined
            ? { name: stackResourceGroupName(stack.environment), existing: false }
            : { name: stack.resourceGroupName, existing: true },
        applicationOwners: stack.applicationOwners,
        ...(stack.kubeloginMode === undefined ? {} : { kubeloginMode: stack.kubeloginMode }),
        protect: stack.protect,
        clusters,
        workloads,
    };
}

/** Config keys whose values are plain strings, never JSON. */
const STRING_KEYS: ReadonlySet<string> = new Set(["environment", "resourceGroupName", "kubeloginMode"]);

/**
 * This project's keys from the whole config map (`<project>:<key>` -> value), decoded, plus
 * `azure-native:location`. Every project key is passed on, so a misspelt key is reported; so are
 * keys of namespaces the program does not know (under their full key, `:<key>` for one without a
 * namespace), which parseStackConfig reports. The providers' namespaces are left out.
 */
export function rawStackConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
    return rawConfig(all, PROJECT, STRING_KEYS, PROVIDER_KEYS, ALLOWED_NAMESPACES);
}

/**
 * Reads this stack's config through the Pulumi runtime and validates it against today's date.
 * Throws a StackConfigError (no stack trace, every problem listed) before any resource exists.
 */
export function loadStackConfig(): StackConfig {
    const result = parseStackConfig(rawStackConfig(pulumi.runtime.allConfig()), pulumi.getStack(), { today: new Date() });
    if ("config" in result) {
        for (const warning of result.warnings) {
            void pulumi.log.warn(`${warning.path}: ${warning.message}`);
        }
    }
    if ("problems" in result) {
        throw new StackConfigError(result.problems);
    }
    return result.config;
}

