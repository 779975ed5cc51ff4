import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError, configKey as key, rule, issueProblems, rawConfig, type ConfigProblem } from "./config-problems";

export { formatConfigProblems, type ConfigProblem } from "./config-problems";
import {
    KUBELOGIN_MODES,
    MAX_FEDERATED_CREDENTIALS,
    apiServerAccessProblem,
    broadPrivilegedAssignment,
    parseScope,
    resolveRole,
    channelMovesKubernetesVersion,
    cafName,
    cidrProblem,
    closestMatch,
    clusterNameProblem,
    audiencesProblem,
    federationIssuerProblem,
    ficNameClash,
    guidProblem,
    keyVaultIdProblem,
    workspaceIdProblem,
    keyVaultObjectNameProblem,
    identityNameProblem,
    resourceGroupNameProblem,
    locationProblem,
    namespaceProblem,
    poolCountsProblem,
    poolNameProblem,
    roleAssignmentProblems,
    serviceAccountNameProblem,
    tokenExpirationProblem,
    type KubeloginMode,
    KEY_VAULT_CERTIFICATES_GRANT,
    KEY_VAULT_SECRETS_GRANT,
} from "../components";

/**
 * The one config path: stack config in, one typed, validated StackConfig out. This module reads
 * config and never creates a resource, so a bad config stops the program before anything exists.
 */

export const PROJECT = "aks-workload-identity";

const guid = z.string().superRefine(rule(guidProblem));
const count = z.number().int();

const poolSchema = z.strictObject({
    vmSize: z.string().regex(/^Standard_[A-Za-z0-9_]+$/, {
        message: "invalid VM size. Allowed values are Azure VM SKU names such as Standard_D4ds_v5.",
    }),
    minCount: count,
    maxCount: count,
    zones: z.array(z.enum(["1", "2", "3"])).optional(),
    osDiskSizeGB: z.number().int().min(30).max(2048).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    taints: z.array(z.string()).optional(),
});

const clusterSchema = z.strictObject({
    name: z.string().superRefine(rule(clusterNameProblem)).optional(),
    kubernetesVersion: z
        .string()
        .regex(/^\d+\.\d+(\.\d+)?$/, { message: "invalid Kubernetes version. Allowed values are major.minor or major.minor.patch, such as 1.33." })
        .optional(),
    sku: z.enum(["Free", "Standard", "Premium"]).default("Free"),
    upgradeChannel: z.enum(["rapid", "stable", "patch", "node-image", "none"]).default("stable"),
    nodeOsUpgradeChannel: z.enum(["None", "Unmanaged", "NodeImage", "SecurityPatch"]).default("NodeImage"),
    existing: z
        .strictObject({
            name: z.string().superRefine(rule(clusterNameProblem)),
            resourceGroupName: z.string().superRefine(rule(resourceGroupNameProblem)),
        })
        .optional(),
    systemPool: poolSchema.optional(),
    nodePools: z.record(key, poolSchema).default({}),
    adminGroupObjectIds: z.array(guid).default([]),
    clusterAdmins: z
        .record(key, z.strictObject({ objectId: guid, principalType: z.enum(["User", "Group", "ServicePrincipal"]) }))
        .default({}),
    authorizedIpRanges: z.array(z.string().superRefine(rule(cidrProblem))).optional(),
    private: z.boolean().default(false),
    allowPublicApiServer: z.boolean().default(false),
    disableLocalAccounts: z.boolean().default(true),
    networkPolicy: z.enum(["cilium", "calico", "azure"]).default("cilium"),
    keyVaultSecretsProvider: z.boolean().optional(),
    azurePolicy: z.boolean().default(true),
    imageCleaner: z.boolean().default(true),
    defender: z.strictObject({ logAnalyticsWorkspaceResourceId: z.string().superRefine(rule(workspaceIdProblem)) }).optional(),
});

/** The only keys an `existing` cluster entry takes besides `existing`: nothing else is changed on it. */
const EXISTING_CLUSTER_KEYS: ReadonlySet<string> = new Set(["existing", "clusterAdmins"]);

const roleAssignmentSchema = z.strictObject({
    role: z.string().min(1),
    scope: z.string().min(1),
    allowBroadScope: z.boolean().default(false),
    description: z.string().optional(),
});

const federationSchema = z.strictObject({
    issuer: z.string().superRefine(rule(federationIssuerProblem)),
    subject: z.string().min(1).max(600),
    audiences: z.array(z.string()).optional(),
    allowCustomAudience: z.boolean().default(false),
});

const workloadSchema = z.strictObject({
    name: z.string().superRefine(rule(identityNameProblem)).optional(),
    namespace: z.string().superRefine(rule(namespaceProblem)).optional(),
    serviceAccount: z.string().superRefine(rule(serviceAccountNameProblem)).optional(),
    createNamespace: z.boolean().default(false),
    createServiceAccount: z.boolean().default(true),
    principal: z.enum(["managedIdentity", "application"]).default("managedIdentity"),
    clusters: z.array(key).optional(),
    tokenExpirationSeconds: z.number().superRefine(rule(tokenExpirationProblem)).optional(),
    roleAssignments: z.record(key, roleAssignmentSchema).default({}),
    federations: z.record(key, federationSchema).default({}),
    keyVault: z
        .strictObject({
            resourceId: z.string().superRefine(rule(keyVaultIdProblem)),
            secrets: z.array(z.string().superRefine(rule(keyVaultObjectNameProblem))).default([]),
            certificates: z.array(z.string().superRefine(rule(keyVaultObjectNameProblem))).default([]),
        })
        .optional(),
    quickstart: z.boolean().default(false),
});

const stackSchema = z.strictObject({
    location: z.string().superRefine(rule(locationProblem)),
    environment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, {
        message: "invalid environment. Allowed values are 1 to 16 lower-case letters, digits and '-'.",
    }),
    tags: z.record(z.string(), z.string()).default({}),
    resourceGroupName: z.string().superRefine(rule(resourceGroupNameProblem)).optional(),
    kubeloginMode: z.enum(KUBELOGIN_MODES).default("azurecli"),
    protect: z.boolean().default(false),
    clusters: z.record(key, clusterSchema).refine((clusters) => Object.keys(clusters).length > 0, {
        message: "no clusters. Declare at least one cluster under aks-workload-identity:clusters.",
    }),
    workloads: z.record(key, workloadSchema).default({}),
});

type ParsedStack = z.output<typeof stackSchema>;
export type ClusterConfig = Omit<z.output<typeof clusterSchema>, "keyVaultSecretsProvider"> & {
    readonly key: string;
    /** Azure name of the cluster, created or adopted. */
    readonly azureName: string;
    /** Whether the cluster has (or, adopted, must have) the Key Vault secrets provider add-on. */
    readonly keyVaultSecretsProvider: boolean;
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
    readonly kubeloginMode: KubeloginMode;
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

/**
 * Parses raw stack config (values as the stack file holds them) into the StackConfig, or returns
 * every problem at once. Pure: the same input gives the same answer, with no Pulumi runtime.
 */
export function parseStackConfig(
    raw: Record<string, unknown>,
    stack: string,
): { config: StackConfig; warnings: ConfigProblem[] } | { problems: ConfigProblem[] } {
    const input: Record<string, unknown> = { environment: stack, ...raw };
    const result = stackSchema.safeParse(input, { reportInput: true });
    // The rules across fields and entries run on what did parse, field by field, so that one run
    // reports every problem, not just the first layer of them.
    const structural = result.success ? [] : result.error.issues.flatMap((issue) => issueProblems(stackSchema, issue, configPath));
    const problems = [...structural, ...semanticProblems(lenient(input, stack))];
    if (!result.success || problems.length > 0) {
        return { problems };
    }
    return { config: resolve(result.data), warnings: warnings(result.data) };
}

/** Accepted, but worth a line in every deployment's output: explicit overrides of the baseline. */
function warnings(stack: ParsedStack): ConfigProblem[] {
    const found: ConfigProblem[] = [];
    const add = (path: string, message: string): void => {
        found.push({ path: `${PROJECT}:${path}`, message });
    };
    for (const [clusterKey, cluster] of Object.entries(stack.clusters)) {
        const path = `clusters.${clusterKey}`;
        if (cluster.kubernetesVersion !== undefined && /^\d+\.\d+\.\d+$/.test(cluster.kubernetesVersion) && channelMovesKubernetesVersion(cluster.upgradeChannel)) {
            const minor = cluster.kubernetesVersion.split(".").slice(0, 2).join(".");
            add(
                `${path}.kubernetesVersion`,
                `"${cluster.kubernetesVersion}" pins a patch version, but upgradeChannel "${cluster.upgradeChannel}" moves it and the program then ignores it. Give "${minor}", or set upgradeChannel: none to manage the version yourself.`,
            );
        }
        if (cluster.allowPublicApiServer && cluster.authorizedIpRanges === undefined && !cluster.private) {
            add(`${path}.allowPublicApiServer`, "the API server is open to the internet. Prefer authorizedIpRanges or private: true.");
        }
        if (!cluster.disableLocalAccounts) {
            add(`${path}.disableLocalAccounts`, "local accounts are enabled: whoever holds the admin kubeconfig bypasses Entra ID and Azure RBAC.");
        }
    }
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
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

function entriesOf(value: unknown): [string, unknown][] {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
}

type Shape = Record<string, z.ZodType>;

/** Fields that were given but did not parse: rules that read them stay silent. */
interface Invalid {
    readonly invalid: ReadonlySet<string>;
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
    return { ...(fields as Partial<{ [K in keyof S]: z.output<S[K]> }>), invalid };
}

type Lenient<S extends Shape> = Partial<{ [K in keyof S]: z.output<S[K]> }> & Invalid;
type LenientPool = Lenient<typeof poolSchema.shape>;
type LenientCluster = Omit<Lenient<typeof clusterSchema.shape>, "systemPool" | "nodePools"> & {
    systemPool?: LenientPool;
    nodePools: Record<string, LenientPool>;
    /** The keys the entry gives, before defaults. */
    given: ReadonlySet<string>;
};
type LenientAssignment = Lenient<typeof roleAssignmentSchema.shape>;
type LenientWorkload = Omit<Lenient<typeof workloadSchema.shape>, "roleAssignments"> & { roleAssignments: Record<string, LenientAssignment> };

interface LenientStack {
    readonly environment: string;
    readonly clusters: Record<string, LenientCluster>;
    readonly workloads: Record<string, LenientWorkload>;
}

/** The config as far as it parses, field by field. Every declared cluster key is kept. */
function lenient(input: Record<string, unknown>, stack: string): LenientStack {
    const environment = stackSchema.shape.environment.safeParse(input.environment);
    const clusters: Record<string, LenientCluster> = {};
    for (const [clusterKey, value] of entriesOf(input.clusters)) {
        const raw = Object.fromEntries(entriesOf(value));
        clusters[clusterKey] = {
            ...fieldwise(clusterSchema.shape, value),
            given: new Set(Object.keys(raw)),
            systemPool: raw.systemPool === undefined ? undefined : fieldwise(poolSchema.shape, raw.systemPool),
            nodePools: Object.fromEntries(entriesOf(raw.nodePools).map(([poolKey, pool]) => [poolKey, fieldwise(poolSchema.shape, pool)])),
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
    return { environment: environment.success ? environment.data : stack, clusters, workloads };
}

function poolProblem(pool: LenientPool | undefined, system: boolean): string | undefined {
    return pool?.minCount === undefined || pool.maxCount === undefined ? undefined : poolCountsProblem(pool.minCount, pool.maxCount, system);
}

/** Rules across fields and entries, over whatever parsed. */
function semanticProblems(stack: LenientStack): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (path: string, message: string | undefined): void => {
        if (message !== undefined) {
            problems.push({ path: `${PROJECT}:${path}`, message });
        }
    };
    const clusterKeys = Object.keys(stack.clusters);
    const clusterNames = new Map<string, string>();
    for (const [clusterKey, cluster] of Object.entries(stack.clusters)) {
        const path = `clusters.${clusterKey}`;
        if (cluster.given.has("existing")) {
            for (const field of [...cluster.given].filter((f) => !EXISTING_CLUSTER_KEYS.has(f))) {
                add(`${path}.${field}`, `not used for an existing cluster: the program adopts it as it is. Allowed keys with existing are: ${[...EXISTING_CLUSTER_KEYS].join(", ")}.`);
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
            add(`${path}.nodePools.${poolKey}`, poolNameProblem(poolKey) ?? (poolKey === "system" ? 'the name "system" is the inline system pool\'s; choose another pool name.' : undefined));
            add(`${path}.nodePools.${poolKey}`, poolProblem(pool, false));
        }
        if (!["authorizedIpRanges", "private", "allowPublicApiServer"].some((field) => cluster.invalid.has(field))) {
            add(path, apiServerAccessProblem(cluster.authorizedIpRanges, cluster.private ?? false, cluster.allowPublicApiServer ?? false));
        }
        const adminsUnknown = cluster.invalid.has("adminGroupObjectIds") || cluster.invalid.has("clusterAdmins");
        if (!adminsUnknown && (cluster.adminGroupObjectIds ?? []).length === 0 && Object.keys(cluster.clusterAdmins ?? {}).length === 0) {
            add(path, "no adminGroupObjectIds and no clusterAdmins. With local accounts off and Entra RBAC on, nobody could create the ServiceAccounts: name an admin group or a cluster admin.");
        }
        const azureName = cluster.name ?? cafName("aks", clusterKey, stack.environment);
        const other = clusterNames.get(azureName.toLowerCase());
        add(`${path}.name`, other === undefined ? undefined : `Azure name "${azureName}" is also the name of clusters.${other}; cluster names must differ.`);
        clusterNames.set(azureName.toLowerCase(), clusterKey);
    }

    const identityNames = new Map<string, string>();
    const serviceAccounts = new Map<string, string>();
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        const path = `workloads.${workloadKey}`;
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
        const credentials = new Set(targets).size + federations.length;
        if (credentials > MAX_FEDERATED_CREDENTIALS) {
            add(
                `${path}`,
                `${credentials} federated credentials (${new Set(targets).size} clusters, ${federations.length} federations); Entra ID allows at most ${MAX_FEDERATED_CREDENTIALS} per identity.`,
            );
        }
        if (workload.namespace === undefined && !workload.invalid.has("namespace") && targets.length > 0) {
            add(`${path}.namespace`, "required string is missing: the workload runs on a cluster, and its ServiceAccount lives in a namespace. Use clusters: [] for an identity that only has federations.");
        }
        const pairs = new Map<string, string>();
        for (const [federationKey, federation] of federations) {
            add(`${path}.federations.${federationKey}`, ficNameClash(federationKey, [...new Set(targets)]));
            add(
                `${path}.federations.${federationKey}.audiences`,
                federation.audiences === undefined ? undefined : audiencesProblem(federation.audiences, federation.allowCustomAudience),
            );
            const pair = `${federation.issuer}\n${federation.subject}`;
            const first = pairs.get(pair);
            add(
                `${path}.federations.${federationKey}`,
                first === undefined ? undefined : `the same issuer and subject as federations.${first}; one identity may trust one (issuer, subject) pair only once.`,
            );
            pairs.set(pair, federationKey);
        }
        const identityName = workload.name ?? cafName(workload.principal === "application" ? "app" : "id", workloadKey, stack.environment);
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
            if (assignmentKey === KEY_VAULT_SECRETS_GRANT || assignmentKey === KEY_VAULT_CERTIFICATES_GRANT) {
                add(`${path}.roleAssignments.${assignmentKey}`, `the key "${assignmentKey}" is the keyVault entry's own; choose another key.`);
            }
            if (assignment.role !== undefined) {
                const found = roleAssignmentProblems(assignment.role, assignment.scope, assignment.allowBroadScope ?? false);
                add(`${path}.roleAssignments.${assignmentKey}.role`, found.role);
                add(`${path}.roleAssignments.${assignmentKey}.scope`, found.scope);
            }
        }
        // Two assignments of one role at one scope would have the same deterministic name.
        const assigned = new Map<string, string>();
        const grants: [string, string | undefined, string | undefined][] = [
            ...Object.entries(workload.roleAssignments).map(([k, a]): [string, string | undefined, string | undefined] => [`roleAssignments.${k}`, a.role, a.scope]),
            ...(workload.keyVault === undefined ? [] : [["keyVault", "Key Vault Secrets User", workload.keyVault.resourceId] as [string, string, string]]),
        ];
        for (const [where, role, scope] of grants) {
            const resolved = role === undefined ? undefined : resolveRole(role);
            if (resolved === undefined || "error" in resolved || scope === undefined) {
                continue;
            }
            const id = `${resolved.guid}|${scope.toLowerCase()}`;
            const first = assigned.get(id);
            add(`${path}.${where}`, first === undefined ? undefined : `assigns the same role at the same scope as ${first}; keep one of them.`);
            assigned.set(id, where);
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
            add(`${path}.quickstart`, "the quick-start reads a Key Vault secret; give keyVault with at least one secret.");
        }
    }
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
        clusters[clusterKey] = {
            ...cluster,
            key: clusterKey,
            azureName: cluster.existing?.name ?? cluster.name ?? cafName("aks", clusterKey, stack.environment),
            keyVaultSecretsProvider: cluster.keyVaultSecretsProvider ?? keyVaultClusters.has(clusterKey),
        };
    }
    const workloads: Record<string, WorkloadConfig> = {};
    for (const [workloadKey, workload] of Object.entries(stack.workloads)) {
        const { name, serviceAccount, clusters: targets, ...rest } = workload;
        workloads[workloadKey] = {
            ...rest,
            key: workloadKey,
            identityName: name ?? cafName(workload.principal === "application" ? "app" : "id", workloadKey, stack.environment),
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
            ? { name: cafName("rg", "workload-identity", stack.environment), existing: false }
            : { name: stack.resourceGroupName, existing: true },
        kubeloginMode: stack.kubeloginMode,
        protect: stack.protect,
        clusters,
        workloads,
    };
}

/** Config keys whose values are plain strings, never JSON. */
const STRING_KEYS: ReadonlySet<string> = new Set(["environment", "resourceGroupName", "kubeloginMode"]);

/**
 * This project's keys from the whole config map (`<project>:<key>` -> value), decoded, plus
 * `azure-native:location`. Every project key is passed on, so a misspelt key is reported.
 */
export function rawStackConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
    return rawConfig(all, PROJECT, STRING_KEYS, { location: "azure-native:location" });
}

/**
 * Reads this stack's config through the Pulumi runtime and validates it. Throws a
 * StackConfigError (no stack trace, every problem listed) before any resource exists.
 */
export function loadStackConfig(): StackConfig {
    const result = parseStackConfig(rawStackConfig(pulumi.runtime.allConfig()), pulumi.getStack());
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
