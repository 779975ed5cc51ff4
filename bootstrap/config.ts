import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MAX_FEDERATED_CREDENTIALS } from "../components/constants";
import { normalizeNamePart } from "../components/names";
import { parseScope, resolveRole } from "../components/roles";
import { closestMatch } from "../components/suggest";
import {
    audiencesProblem,
    federationIssuerProblem,
    guidProblem,
    identityNameProblem,
    locationProblem,
    resourceGroupNameProblem,
} from "../components/validation";
import { parseStackConfig, rawStackConfig, type StackConfig } from "../stacks/config";
import { ConfigError, configKey as key, rule, formatConfigProblems, issueProblems, rawConfig, readStackFile, type ConfigProblem } from "../stacks/config-problems";
import { PRIVILEGED_ADMINISTRATOR_ROLE_IDS } from "./conditions";

/**
 * The bootstrap's one config path: stack config in, one typed, validated BootstrapConfig out,
 * with every environment's main stack file read through the main program's own parser. Creates
 * nothing, so a bad config stops the bootstrap before anything exists.
 */

export const BOOTSTRAP_PROJECT = "aks-workload-identity-bootstrap";

/** The repository root, where the main stack files live. */
export const REPOSITORY_ROOT = path.resolve(__dirname, "..");

/** The federation key of the GitHub trust on every pipeline identity. */
export const GITHUB_FEDERATION_KEY = "github";

const guid = z.string().superRefine(rule(guidProblem));

const federationSchema = z
    .strictObject({
        issuer: z.string().superRefine(rule(federationIssuerProblem)),
        subject: z.string().min(1).max(600),
        audiences: z.array(z.string()).optional(),
        allowCustomAudience: z.boolean().default(false),
    })
    .superRefine((federation, ctx) => {
        const message = federation.audiences === undefined ? undefined : audiencesProblem(federation.audiences, federation.allowCustomAudience);
        if (message !== undefined) {
            ctx.addIssue({ code: "custom", message, path: ["audiences"], input: federation.audiences });
        }
    });

const federationsSchema = z.record(key, federationSchema).default({}).superRefine((federations, ctx) => {
    if (GITHUB_FEDERATION_KEY in federations) {
        ctx.addIssue({
            code: "custom",
            message: `the key "${GITHUB_FEDERATION_KEY}" is the bootstrap's own GitHub federation; choose another key (e.g. azure-devops).`,
            path: [GITHUB_FEDERATION_KEY],
            input: federations,
        });
    }
});

const environmentSchema = z.strictObject({
    name: z.string().regex(/^(?=.{1,16}$)[a-z0-9]+(?:-[a-z0-9]+)*$/, {
        message:
            "invalid environment name. Allowed values are 1 to 16 lower-case letters and digits, single '-' between them (it names a GitHub environment and the state container state-<name>).",
    }),
    stack: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: "invalid stack name. Allowed values are 1 to 100 letters, digits, '-', '_' and '.'." })
        .optional(),
    stackFile: z.string().min(1).optional(),
    federations: federationsSchema,
    principalId: guid.optional(),
});

const bootstrapSchema = z.strictObject({
    location: z.string().superRefine(rule(locationProblem)),
    subscriptionId: guid,
    tenantId: guid,
    github: z.strictObject({
        owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, {
            message: "invalid GitHub owner. Allowed values are a user or organization name: 1 to 39 letters, digits and single '-'.",
        }),
        repository: z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: "invalid GitHub repository name. Allowed values are 1 to 100 letters, digits, '-', '_' and '.'." })
            .refine((name) => name !== "." && name !== "..", { message: "invalid GitHub repository name." }),
    }),
    resourceGroupName: z.string().superRefine(rule(resourceGroupNameProblem)).optional(),
    stateStorageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/, {
        message: "invalid storage account name. Allowed values are 3 to 24 lower-case letters and digits, unique across Azure.",
    }),
    stateStorageSku: z.enum(["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGRS", "Standard_RAGZRS"]).default("Standard_GRS"),
    stateRetentionDays: z.number().int().min(7).max(365).default(30),
    keyVaultName: z.string().regex(/^(?=.{3,24}$)[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/, {
        message: "invalid Key Vault name. Allowed values are 3 to 24 letters, digits and single '-', starting with a letter, unique across Azure.",
    }),
    environments: z.array(z.unknown()).min(1, { message: "no environments. List them in promotion order, e.g. [{ name: dev }, { name: staging }, { name: prod }]." }),
    pullRequest: z
        .strictObject({
            environment: z.string().optional(),
            federations: federationsSchema,
        })
        .default({ federations: {} }),
    operators: z
        .record(key, z.strictObject({ objectId: guid, principalType: z.enum(["User", "Group"]) }))
        .refine((operators) => Object.keys(operators).length > 0, {
            message: "no operators. Name at least one Entra ID user or group (objectId, principalType) that may read and write the team state: it runs `pulumi stack init` and the break-glass commands.",
        }),
    microsoftGraphServicePrincipalObjectId: guid.optional(),
    runsOn: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    tags: z.record(z.string(), z.string()).default({}),
});

type ParsedBootstrap = z.output<typeof bootstrapSchema>;
export type Federation = z.output<typeof federationSchema>;

/** One environment, in promotion order, with what its committed main stack file declares. */
export interface EnvironmentConfig {
    /** The GitHub environment (and Azure DevOps environment) name, the `<env>` of every name here. */
    readonly name: string;
    /** The main program's stack deployed in this environment. */
    readonly stack: string;
    /** Absolute path of the stack file. */
    readonly stackFile: string;
    /** The stack file's `secretsprovider:`, if it has one. */
    readonly stackFileSecretsProvider: string | undefined;
    /** The resource group the main stack deploys into (created by the bootstrap). */
    readonly resourceGroupName: string;
    readonly location: string;
    readonly tags: Readonly<Record<string, string>>;
    /** Every cluster's `adminGroupObjectIds`, de-duplicated: the pipeline identity joins each. */
    readonly adminGroupObjectIds: readonly string[];
    /** The committed stack file, parsed and validated by the main program's own parser. */
    readonly stackConfig: StackConfig;
    /**
     * The deploy identity's object ID, when the config records it after the first run (the output
     * `environments.<name>.identity.principalId`). The plan's permission view then checks that
     * `applicationOwners` and `clusterAdmins` name this identity. Default: unknown.
     */
    readonly principalId: string | undefined;
    /** Some workload is `principal: application`: the pipeline creates app registrations. */
    readonly hasApplicationWorkloads: boolean;
    /** Some cluster has authorized IP ranges or a private API server: hosted runners cannot reach it. */
    readonly restrictedApiServer: boolean;
    /** Further issuers the environment's pipeline identity trusts (an Azure DevOps service connection). */
    readonly federations: Readonly<Record<string, Federation>>;
    /** `azblob://state-<name>` with AZURE_STORAGE_ACCOUNT. */
    readonly backendContainer: string;
    readonly secretsKeyName: string;
    readonly identityName: string;
}

export interface BootstrapConfig {
    readonly location: string;
    readonly subscriptionId: string;
    readonly tenantId: string;
    readonly github: { readonly owner: string; readonly repository: string };
    /** The bootstrap's own resource group: state account, Key Vault, pipeline identities. */
    readonly resourceGroupName: string;
    readonly state: { readonly accountName: string; readonly sku: ParsedBootstrap["stateStorageSku"]; readonly retentionDays: number };
    readonly keyVaultName: string;
    /** In promotion order. */
    readonly environments: readonly EnvironmentConfig[];
    readonly pullRequest: { readonly environment: string; readonly identityName: string; readonly federations: Readonly<Record<string, Federation>> };
    readonly operators: ParsedBootstrap["operators"];
    readonly microsoftGraphServicePrincipalObjectId: string | undefined;
    readonly runsOn: string | readonly string[] | undefined;
    readonly tags: Readonly<Record<string, string>>;
}

export type BootstrapProblem = ConfigProblem;

/** Raised for an invalid bootstrap config; printed by the Pulumi host without a stack trace. */
export class BootstrapConfigError extends ConfigError {
    constructor(problems: readonly BootstrapProblem[]) {
        super(problems, "bootstrap config");
        this.name = "BootstrapConfigError";
    }
}

export function formatBootstrapProblems(problems: readonly BootstrapProblem[]): string {
    return formatConfigProblems(problems, "bootstrap config");
}

const PROVIDER_KEYS: Readonly<Record<string, string>> = {
    location: "azure-native:location",
    subscriptionId: "azure-native:subscriptionId",
    tenantId: "azure-native:tenantId",
};

/** A config path as written in the stack file: `<namespace>:<key>.<field>`, list items as `[i]`. */
function configPath(segments: readonly PropertyKey[]): string {
    const [head, ...rest] = segments;
    if (head === undefined) {
        return BOOTSTRAP_PROJECT;
    }
    const root = PROVIDER_KEYS[String(head)] ?? `${BOOTSTRAP_PROJECT}:${String(head)}`;
    return rest.reduce<string>((text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : `${text}.${String(segment)}`), root);
}

/** `azurekeyvault://<vault>.vault.azure.net/keys/<key>`: the secrets provider of a stack. */
export function keyVaultSecretsProvider(keyVaultName: string, keyName: string): string {
    return `azurekeyvault://${keyVaultName}.vault.azure.net/keys/${keyName}`;
}

function uniqueCaseInsensitive(values: readonly string[]): string[] {
    const seen = new Map<string, string>();
    for (const value of values) {
        if (!seen.has(value.toLowerCase())) {
            seen.set(value.toLowerCase(), value);
        }
    }
    return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, value]) => value);
}

export interface ParseOptions {
    /** Where relative stack files are found. Default: the repository root. */
    readonly repositoryRoot?: string;
}

/**
 * Parses raw bootstrap config into a BootstrapConfig, or returns every problem at once. Reads the
 * environments' main stack files and validates them with the main program's `parseStackConfig`.
 */
export function parseBootstrapConfig(
    raw: Record<string, unknown>,
    options: ParseOptions = {},
): { config: BootstrapConfig; warnings: BootstrapProblem[] } | { problems: BootstrapProblem[] } {
    const root = options.repositoryRoot ?? REPOSITORY_ROOT;
    const problems: BootstrapProblem[] = [];
    const warnings: BootstrapProblem[] = [];
    const parsed = bootstrapSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
        problems.push(...parsed.error.issues.flatMap((issue) => issueProblems(bootstrapSchema, issue, configPath)));
    }
    // Each top-level field on its own, so that the rules across fields still run when another field is bad.
    const field = <K extends keyof typeof bootstrapSchema.shape>(name: K): z.output<(typeof bootstrapSchema.shape)[K]> | undefined => {
        const result = bootstrapSchema.shape[name].safeParse(raw[name]);
        return result.success ? (result.data as z.output<(typeof bootstrapSchema.shape)[K]>) : undefined;
    };
    const github = field("github");
    const keyVaultName = field("keyVaultName");
    const runsOn = field("runsOn");
    const bootstrapGroup = field("resourceGroupName") ?? (github === undefined ? undefined : `rg-${normalizeNamePart(github.repository)}-bootstrap`);
    const repositoryPart = github === undefined ? undefined : normalizeNamePart(github.repository);

    const environments: EnvironmentConfig[] = [];
    const names = new Map<string, number>();
    const stacks = new Map<string, number>();
    const groups = new Map<string, number>();
    const rawEnvironments = Array.isArray(raw.environments) ? (raw.environments as unknown[]) : [];
    rawEnvironments.forEach((value, index) => {
        const at = `${BOOTSTRAP_PROJECT}:environments[${index}]`;
        const add = (message: string, suffix = ""): void => {
            problems.push({ path: `${at}${suffix}`, message });
        };
        const result = environmentSchema.safeParse(value, { reportInput: true });
        if (!result.success) {
            problems.push(...result.error.issues.flatMap((issue) => issueProblems(environmentSchema, issue, configPath, ["environments", index])));
            return;
        }
        const environment = result.data;
        const stack = environment.stack ?? environment.name;
        const firstName = names.get(environment.name);
        if (firstName !== undefined) {
            add(`environment "${environment.name}" is also environments[${firstName}]; each environment has one identity, one state container and one key.`, ".name");
        }
        names.set(environment.name, index);
        const firstStack = stacks.get(stack);
        if (firstStack !== undefined) {
            add(`stack "${stack}" is also the stack of environments[${firstStack}]; two pipelines must not deploy one stack.`, ".stack");
        }
        stacks.set(stack, index);
        const federationCount = 1 + Object.keys(environment.federations).length;
        if (federationCount > MAX_FEDERATED_CREDENTIALS) {
            add(`${federationCount} federated credentials; Entra ID allows at most ${MAX_FEDERATED_CREDENTIALS} per identity.`, ".federations");
        }
        const identityName = repositoryPart === undefined ? undefined : `id-${repositoryPart}-deploy-${environment.name}`;
        const nameProblem = identityName === undefined ? undefined : identityNameProblem(identityName);
        if (nameProblem !== undefined) {
            add(`the pipeline identity's name: ${nameProblem}`, ".name");
        }

        const stackFile = path.resolve(root, environment.stackFile ?? `Pulumi.${stack}.yaml`);
        const relative = path.relative(root, stackFile);
        const fileLabel = relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? stackFile : relative;
        if (!fs.existsSync(stackFile)) {
            add(`no stack file at ${stackFile}. Each environment deploys a stack of the main program; give stackFile, or a stack whose Pulumi.<stack>.yaml is in the repository root.`, ".stackFile");
            return;
        }
        let file: ReturnType<typeof readStackFile>;
        try {
            file = readStackFile(stackFile);
        } catch (error) {
            add(`${fileLabel} is not a readable stack file: ${error instanceof Error ? error.message : String(error)}`, ".stackFile");
            return;
        }
        const stackResult = parseStackConfig(rawStackConfig(file.config), stack);
        if ("problems" in stackResult) {
            for (const problem of stackResult.problems) {
                add(`${fileLabel}: ${problem.path}: ${problem.message}`);
            }
            return;
        }
        const stackConfig: StackConfig = stackResult.config;
        const groupName = stackConfig.resourceGroup.name;
        const firstGroup = groups.get(groupName.toLowerCase());
        if (firstGroup !== undefined) {
            add(`${fileLabel} deploys into resource group "${groupName}", as environments[${firstGroup}] does; each environment's pipeline identity owns one resource group of its own.`);
        }
        groups.set(groupName.toLowerCase(), index);
        if (bootstrapGroup !== undefined && groupName.toLowerCase() === bootstrapGroup.toLowerCase()) {
            add(`${fileLabel} deploys into "${groupName}", the bootstrap's own resource group (state, keys, pipeline identities); a pipeline must not be able to change its own identity. Use another resource group.`);
        }
        if (!stackConfig.resourceGroup.existing) {
            warnings.push({
                path: at,
                message: `${fileLabel} sets no aks-workload-identity:resourceGroupName, so the main program would create "${groupName}" itself; the bootstrap creates it, and the pipeline identity may only write inside it. Add "aks-workload-identity:resourceGroupName: ${groupName}" to ${fileLabel} before the first pipeline run.`,
            });
        }

        for (const workload of Object.values(stackConfig.workloads)) {
            for (const [assignmentKey, assignment] of Object.entries(workload.roleAssignments)) {
                const where = `${fileLabel}: workloads.${workload.key}.roleAssignments.${assignmentKey}`;
                const kind = parseScope(assignment.scope)?.kind;
                if (kind === "subscription" || kind === "managementGroup") {
                    add(
                        `${where}.scope "${assignment.scope}" is a ${kind === "subscription" ? "subscription" : "management group"}; the pipeline identity would need Role Based Access Control Administrator there, which reaches far beyond its environment. Narrow the scope to a resource group or a resource, or make that assignment outside the pipeline.`,
                    );
                }
                const role = resolveRole(assignment.role);
                if (!("error" in role) && PRIVILEGED_ADMINISTRATOR_ROLE_IDS.includes(role.guid)) {
                    add(
                        `${where}.role "${assignment.role}" can itself assign roles; a pipeline allowed to hand it out could make itself Owner of the scope. Make that assignment outside the pipeline.`,
                    );
                }
            }
        }
        const clusters = Object.values(stackConfig.clusters);
        const secretsKeyName = `pulumi-${environment.name}`;
        const expectedProvider = keyVaultName === undefined ? undefined : keyVaultSecretsProvider(keyVaultName, secretsKeyName);
        if (expectedProvider !== undefined && file.secretsProvider !== expectedProvider) {
            warnings.push({
                path: at,
                message:
                    file.secretsProvider === undefined
                        ? `${fileLabel} has no secretsprovider: a pipeline has no passphrase to give it. Run the stackInitCommands output, which records "${expectedProvider}" in ${fileLabel}, and commit the file.`
                        : `${fileLabel} has secretsprovider "${file.secretsProvider}", but this bootstrap creates "${expectedProvider}". Run the stackInitCommands output (or pulumi stack change-secrets-provider) and commit the file.`,
            });
        }
        environments.push({
            name: environment.name,
            stack,
            stackFile,
            stackFileSecretsProvider: file.secretsProvider,
            resourceGroupName: groupName,
            location: stackConfig.location,
            tags: stackConfig.tags,
            adminGroupObjectIds: uniqueCaseInsensitive(clusters.flatMap((cluster) => cluster.adminGroupObjectIds)),
            stackConfig,
            principalId: environment.principalId,
            hasApplicationWorkloads: Object.values(stackConfig.workloads).some((workload) => workload.principal === "application"),
            restrictedApiServer: clusters.some((cluster) => cluster.private || cluster.authorizedIpRanges !== undefined),
            federations: environment.federations,
            backendContainer: `state-${environment.name}`,
            secretsKeyName,
            identityName: identityName ?? "",
        });
    });

    const pullRequest = field("pullRequest");
    const firstEnvironment = environments[0]?.name;
    const pullRequestEnvironment = pullRequest?.environment ?? firstEnvironment;
    if (pullRequest?.environment !== undefined && !names.has(pullRequest.environment)) {
        const known = [...names.keys()];
        const suggestion = closestMatch(pullRequest.environment, known);
        problems.push({
            path: `${BOOTSTRAP_PROJECT}:pullRequest.environment`,
            message: `unknown environment "${pullRequest.environment}".${suggestion ? ` Did you mean "${suggestion}"?` : ""} Allowed values are: ${known.join(", ")}.`,
        });
    }
    const needsGraph = environments.filter((environment) => environment.hasApplicationWorkloads).map((environment) => environment.name);
    if (needsGraph.length > 0 && raw.microsoftGraphServicePrincipalObjectId === undefined) {
        problems.push({
            path: `${BOOTSTRAP_PROJECT}:microsoftGraphServicePrincipalObjectId`,
            message: `required: environments ${needsGraph.join(", ")} have principal: application workloads, so their pipeline identities need Microsoft Graph's Application.ReadWrite.OwnedBy. Give the object ID of Microsoft Graph's service principal in your tenant: az ad sp show --id 00000003-0000-0000-c000-000000000000 --query id -o tsv`,
        });
    }
    const restricted = environments.filter((environment) => environment.restrictedApiServer).map((environment) => environment.name);
    if (restricted.length > 0 && raw.runsOn === undefined) {
        warnings.push({
            path: `${BOOTSTRAP_PROJECT}:runsOn`,
            message: `environments ${restricted.join(", ")} have clusters with a restricted API server, and hosted runners have no fixed address: set runsOn to the labels of a runner whose egress address is in authorizedIpRanges (or that is inside the network of a private cluster). Without it the deploy jobs run on ubuntu-latest.`,
        });
    }

    if (!parsed.success || problems.length > 0) {
        return { problems: dedupe(problems) };
    }
    const data = parsed.data;
    return {
        config: {
            location: data.location,
            subscriptionId: data.subscriptionId,
            tenantId: data.tenantId,
            github: data.github,
            resourceGroupName: bootstrapGroup ?? "",
            state: { accountName: data.stateStorageAccountName, sku: data.stateStorageSku, retentionDays: data.stateRetentionDays },
            keyVaultName: data.keyVaultName,
            environments,
            pullRequest: {
                environment: pullRequestEnvironment ?? "",
                identityName: `id-${repositoryPart ?? ""}-pull-request`,
                federations: data.pullRequest.federations,
            },
            operators: data.operators,
            microsoftGraphServicePrincipalObjectId: data.microsoftGraphServicePrincipalObjectId,
            runsOn: runsOn,
            tags: data.tags,
        },
        warnings,
    };
}

function dedupe(problems: readonly BootstrapProblem[]): BootstrapProblem[] {
    const seen = new Set<string>();
    return problems.filter((problem) => {
        const id = `${problem.path}\n${problem.message}`;
        if (seen.has(id)) {
            return false;
        }
        seen.add(id);
        return true;
    });
}

/** Config keys whose values are plain strings, never JSON. */
const STRING_KEYS: ReadonlySet<string> = new Set(["resourceGroupName", "stateStorageAccountName", "keyVaultName", "microsoftGraphServicePrincipalObjectId"]);

/**
 * The bootstrap's keys from the whole config map (`<namespace>:<key>` -> value), decoded, plus
 * `azure-native:location`, `:subscriptionId` and `:tenantId`.
 */
export function rawBootstrapConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
    return rawConfig(all, BOOTSTRAP_PROJECT, STRING_KEYS, PROVIDER_KEYS);
}

/** Reads the bootstrap's config through the Pulumi runtime; throws a BootstrapConfigError before any resource exists. */
export function loadBootstrapConfig(): BootstrapConfig {
    const result = parseBootstrapConfig(rawBootstrapConfig(pulumi.runtime.allConfig()));
    if ("problems" in result) {
        throw new BootstrapConfigError(result.problems);
    }
    for (const warning of result.warnings) {
        void pulumi.log.warn(`${warning.path}: ${warning.message}`);
    }
    return result.config;
}

