import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import * as azuread from "@pulumi/azuread";
import { GITHUB_ACTIONS_ISSUER } from "../components/constants";
import { assignRole } from "../components/role-assignment";
import { BUILT_IN_ROLES, roleDefinitionIdFor, type BuiltInRoleName } from "../components/roles";
import type { FederationArgs } from "../components/args";
import { WorkloadIdentity } from "../components/workload-identity";
import { allowRolesCondition } from "./conditions";
import { BOOTSTRAP_PROJECT, GITHUB_FEDERATION_KEY, keyVaultSecretsProvider, type BootstrapConfig, type EnvironmentConfig, type Federation } from "./config";
import { environmentSubject, ghVariableCommands, pullRequestSubject, shellQuote, type EnvironmentVariable, type RepositoryVariable } from "./github";
import { customRoleName, pipelineGrantsFor, resourceGroupOf, subscriptionProviders, type PipelineGrants, type RoleGrant } from "./grants";
import { CUSTOM_ROLES } from "./role-definitions";

export { APPLICATION_READWRITE_OWNEDBY_ROLE_ID, MICROSOFT_GRAPH_APP_ID, scopeKey } from "./grants";

/** The container that holds the bootstrap's own state, for the operators only. */
export const BOOTSTRAP_STATE_CONTAINER = "bootstrap";

/** What one environment got: its resource group, state container, secrets key and pipeline identity. */
export interface BootstrapEnvironment {
    readonly config: EnvironmentConfig;
    readonly resourceGroup: resources.ResourceGroup;
    readonly stateContainer: storage.BlobContainer;
    readonly secretsKey: keyvault.Key;
    readonly identity: WorkloadIdentity;
    /** What the identity is granted: the same data the plan's permission view checks a stack against. */
    readonly grants: PipelineGrants;
    /** ARM IDs of the three, each resolved once the resource exists. */
    readonly scopes: { readonly resourceGroup: pulumi.Output<string>; readonly stateContainer: pulumi.Output<string>; readonly secretsKey: pulumi.Output<string> };
}

export interface Bootstrap {
    readonly config: BootstrapConfig;
    readonly resourceGroup: resources.ResourceGroup;
    readonly stateAccount: storage.StorageAccount;
    readonly vault: keyvault.Vault;
    /** Keyed by environment name, in promotion order. */
    readonly environments: Readonly<Record<string, BootstrapEnvironment>>;
    readonly pullRequest: WorkloadIdentity;
    /** The custom roles, keyed by role key (only those some environment is granted). */
    readonly customRoles: Readonly<Record<string, authorization.RoleDefinition>>;
}

/**
 * An ARM ID written from the names this program chose, resolved once `resource` exists. The ID
 * is known before deployment (a preview shows the real scope), and a role assignment on it waits
 * for the resource instead of racing it.
 */
function idOnceCreated(resource: pulumi.CustomResource, id: string): pulumi.Output<string> {
    return resource.id.apply(() => id);
}

function federationArgs(federations: Readonly<Record<string, Federation>>): Record<string, FederationArgs> {
    return Object.fromEntries(Object.entries(federations).map(([federationKey, federation]) => [federationKey, { ...federation }]));
}

/** A built-in role for an operator (a user or group, not a workload), with the same deterministic name. */
function assignOperatorRole(
    name: string,
    operator: { objectId: string; principalType: "User" | "Group" },
    role: BuiltInRoleName,
    scope: pulumi.Output<string>,
    subscriptionId: string,
    description: string,
): authorization.RoleAssignment {
    const resolved = { name: role, guid: BUILT_IN_ROLES[role] };
    // The same builder as the components' grants; the role definition ID is known from the
    // subscription, so it does not wait for the scope.
    return assignRole(
        {
            resourceName: name,
            role: resolved,
            scope,
            principalId: operator.objectId,
            principalType: operator.principalType,
            roleDefinitionId: roleDefinitionIdFor(resolved, { kind: "resource", subscriptionId }),
            description,
        },
        {},
    );
}

/**
 * Creates the team's shared state (storage account, one container and one Key Vault key per
 * environment), each environment's resource group, and one federated pipeline identity per
 * environment plus a read-only one for pull requests, each with the least it needs.
 */
export function buildBootstrap(config: BootstrapConfig): Bootstrap {
    const { subscriptionId, tags } = config;
    const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${config.resourceGroupName}`;
    const accountId = `${groupId}/providers/Microsoft.Storage/storageAccounts/${config.state.accountName}`;
    const vaultId = `${groupId}/providers/Microsoft.KeyVault/vaults/${config.keyVaultName}`;
    const repository = `${config.github.owner}/${config.github.repository}`;

    // State, keys and the pipelines' own identities live apart from every environment's resource
    // group: a pipeline that is Contributor on its group can then not touch its own credentials.
    const resourceGroup = new resources.ResourceGroup(
        "bootstrap",
        { resourceGroupName: config.resourceGroupName, location: config.location, tags },
        { protect: true },
    );

    const stateAccount = new storage.StorageAccount(
        "state",
        {
            resourceGroupName: resourceGroup.name,
            accountName: config.state.accountName,
            location: config.location,
            kind: "StorageV2",
            sku: { name: config.state.sku },
            accessTier: "Hot",
            // Entra ID only: no account keys (nor SAS signed with them), no anonymous reads.
            allowSharedKeyAccess: false,
            defaultToOAuthAuthentication: true,
            allowBlobPublicAccess: false,
            allowCrossTenantReplication: false,
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: "TLS1_2",
            tags,
        },
        { protect: true },
    );
    const blobService = new storage.BlobServiceProperties(
        "state",
        {
            resourceGroupName: resourceGroup.name,
            accountName: config.state.accountName,
            blobServicesName: "default",
            // Every checkpoint Pulumi writes stays recoverable: versions, and soft delete of blobs and containers.
            isVersioningEnabled: true,
            deleteRetentionPolicy: { enabled: true, days: config.state.retentionDays },
            containerDeleteRetentionPolicy: { enabled: true, days: config.state.retentionDays },
        },
        { dependsOn: [stateAccount] },
    );
    const bootstrapContainer = new storage.BlobContainer(
        "bootstrap-state",
        { resourceGroupName: resourceGroup.name, accountName: config.state.accountName, containerName: BOOTSTRAP_STATE_CONTAINER, publicAccess: "None" },
        { dependsOn: [blobService], protect: true },
    );

    const vault = new keyvault.Vault(
        "secrets",
        {
            resourceGroupName: resourceGroup.name,
            vaultName: config.keyVaultName,
            location: config.location,
            tags,
            properties: {
                tenantId: config.tenantId,
                sku: { family: "A", name: "standard" },
                // Azure RBAC per key decides who may use it; no access policies.
                enableRbacAuthorization: true,
                enableSoftDelete: true,
                softDeleteRetentionInDays: 90,
                // A deleted key cannot be purged early, so state encrypted with it stays readable.
                enablePurgeProtection: true,
                publicNetworkAccess: "Enabled",
            },
        },
        { protect: true },
    );

    // Custom roles are subscription-wide definitions: one each, assignable where some environment needs it.
    const granted = new Map(config.environments.map((environment) => [environment.name, pipelineGrantsFor(config, environment)]));
    const customRoles: Record<string, authorization.RoleDefinition> = {};
    for (const role of CUSTOM_ROLES) {
        const grants = [...granted.values()].flatMap((environmentGrants) => environmentGrants.roles.filter((grant) => grant.role.custom?.key === role.key));
        const first = grants[0];
        if (first === undefined) {
            continue;
        }
        const assignableScopes = [...new Map(grants.map((grant) => resourceGroupOf(grant.scope) ?? grant.scope).map((scope) => [scope.toLowerCase(), scope])).values()].sort();
        customRoles[role.key] = new authorization.RoleDefinition(`custom-role-${role.key}`, {
            scope: `/subscriptions/${subscriptionId}`,
            roleDefinitionId: first.role.id,
            roleName: customRoleName(subscriptionId, role),
            description: `Lets a deploy pipeline of ${repository} ${role.purpose}; nothing else (${role.permissions.source}).`,
            roleType: "CustomRole",
            permissions: [{ actions: [...role.permissions.actions], notActions: [], dataActions: [], notDataActions: [] }],
            assignableScopes,
        });
    }

    const environments: Record<string, BootstrapEnvironment> = {};
    for (const environment of config.environments) {
        const environmentGroup = new resources.ResourceGroup(
            `environment-${environment.name}`,
            { resourceGroupName: environment.resourceGroupName, location: environment.location, tags: { ...tags, ...environment.tags } },
            { protect: true },
        );
        const stateContainer = new storage.BlobContainer(
            `state-${environment.name}`,
            { resourceGroupName: resourceGroup.name, accountName: config.state.accountName, containerName: environment.backendContainer, publicAccess: "None" },
            { dependsOn: [blobService, bootstrapContainer], protect: true },
        );
        // Pulumi's azurekeyvault secrets provider encrypts and decrypts a data key with RSA-OAEP-256.
        // No rotation policy: without a version in its URL the provider always uses the latest key.
        const secretsKey = new keyvault.Key(
            `secrets-${environment.name}`,
            {
                resourceGroupName: resourceGroup.name,
                vaultName: config.keyVaultName,
                keyName: environment.secretsKeyName,
                properties: { kty: "RSA", keySize: 3072, keyOps: ["encrypt", "decrypt"] },
            },
            { dependsOn: [vault], protect: true },
        );
        const scopes = {
            resourceGroup: idOnceCreated(environmentGroup, `/subscriptions/${subscriptionId}/resourceGroups/${environment.resourceGroupName}`),
            stateContainer: idOnceCreated(stateContainer, `${accountId}/blobServices/default/containers/${environment.backendContainer}`),
            secretsKey: idOnceCreated(secretsKey, `${vaultId}/keys/${environment.secretsKeyName}`),
        };

        const identity = new WorkloadIdentity(`deploy-${environment.name}`, {
            resourceGroupName: resourceGroup.name,
            location: config.location,
            identityName: environment.identityName,
            federations: {
                [GITHUB_FEDERATION_KEY]: {
                    issuer: GITHUB_ACTIONS_ISSUER,
                    subject: environmentSubject(config.github.owner, config.github.repository, environment.name),
                },
                ...federationArgs(environment.federations),
            },
            tags,
        });
        const grants = granted.get(environment.name) as PipelineGrants;
        const scopeOf = (grant: RoleGrant): pulumi.Input<string> => {
            switch (grant.createdBy) {
                case "environmentResourceGroup":
                    return scopes.resourceGroup;
                case "stateContainer":
                    return scopes.stateContainer;
                case "secretsKey":
                    return scopes.secretsKey;
                default: {
                    // A custom role is assigned once its definition exists.
                    const definition = grant.role.custom === undefined ? undefined : customRoles[grant.role.custom.key];
                    return definition === undefined ? grant.scope : idOnceCreated(definition, grant.scope);
                }
            }
        };
        for (const grant of grants.roles) {
            identity.grants.assign(grant.key, {
                // Built-in roles by name, custom roles by their definition GUID.
                role: grant.role.custom === undefined ? grant.role.name : grant.role.id,
                scope: scopeOf(grant),
                ...(grant.allowedRoleIds === undefined ? {} : { condition: allowRolesCondition(grant.allowedRoleIds) }),
                description: grant.description,
            });
        }
        // Cluster admin from the moment a cluster exists, the way operators are.
        for (const group of grants.groups) {
            new azuread.GroupMember(`deploy-${environment.name}-${group.key}`, { groupObjectId: group.groupObjectId, memberObjectId: identity.principalId }, { parent: identity });
        }
        for (const permission of grants.graph) {
            new azuread.AppRoleAssignment(
                `deploy-${environment.name}-${permission.key}`,
                {
                    appRoleId: permission.appRoleId,
                    principalObjectId: identity.principalId,
                    // Checked by the config: required whenever an environment has application workloads.
                    resourceObjectId: config.microsoftGraphServicePrincipalObjectId as string,
                },
                { parent: identity },
            );
        }
        if (environment.principalId !== undefined) {
            const configured = environment.principalId;
            const at = `${BOOTSTRAP_PROJECT}:environments[${config.environments.indexOf(environment)}].principalId`;
            identity.principalId.apply((actual) => {
                if (actual.toLowerCase() !== configured.toLowerCase()) {
                    void pulumi.log.warn(
                        `${at}: ${configured} is not the object ID of the deploy identity ${environment.identityName}, ${actual}. Set it to ${actual}, and name ${actual} in aks-workload-identity:applicationOwners and clusterAdmins of stack ${environment.stack}: the plan's permission view checks the stack against this value.`,
                    );
                }
            });
        }
        environments[environment.name] = { config: environment, resourceGroup: environmentGroup, stateContainer, secretsKey, identity, grants, scopes };
    }

    // Pull requests run code nobody has reviewed yet: read-only, and on one environment only.
    const previewed = environments[config.pullRequest.environment];
    const pullRequest = new WorkloadIdentity("pull-request", {
        resourceGroupName: resourceGroup.name,
        location: config.location,
        identityName: config.pullRequest.identityName,
        federations: {
            [GITHUB_FEDERATION_KEY]: { issuer: GITHUB_ACTIONS_ISSUER, subject: pullRequestSubject(config.github.owner, config.github.repository) },
            ...federationArgs(config.pullRequest.federations),
        },
        tags,
    });
    const reader = `the pull-request preview of ${repository}`;
    pullRequest.grants.assign("reader", {
        role: "Reader",
        scope: previewed.scopes.resourceGroup,
        description: `Reads stack ${previewed.config.stack}'s resources, for ${reader}.`,
    });
    pullRequest.grants.assign("aks-rbac-reader", {
        role: "Azure Kubernetes Service RBAC Reader",
        scope: previewed.scopes.resourceGroup,
        description: `Reads stack ${previewed.config.stack}'s Kubernetes objects, for ${reader}.`,
    });
    pullRequest.grants.assign("aks-cluster-user", {
        role: "Azure Kubernetes Service Cluster User Role",
        scope: previewed.scopes.resourceGroup,
        description: `The program reads each cluster's user kubeconfig (listClusterUserCredential; with local accounts off it holds no credential), for ${reader}.`,
    });
    pullRequest.grants.assign("state", {
        role: "Storage Blob Data Reader",
        scope: previewed.scopes.stateContainer,
        description: `Reads stack ${previewed.config.stack}'s state (a preview takes no lock), for ${reader}.`,
    });
    pullRequest.grants.assign("secrets", {
        role: "Key Vault Crypto User",
        scope: previewed.scopes.secretsKey,
        description: `Decrypts stack ${previewed.config.stack}'s secrets, for ${reader}.`,
    });

    // People who run `pulumi stack init`, the bootstrap itself and the break-glass commands.
    const accountScope = idOnceCreated(stateAccount, accountId);
    const vaultScope = idOnceCreated(vault, vaultId);
    for (const [operatorKey, operator] of Object.entries(config.operators)) {
        assignOperatorRole(`operator-${operatorKey}-state`, operator, "Storage Blob Data Contributor", accountScope, subscriptionId, `Team state, for operator ${operatorKey}.`);
        assignOperatorRole(`operator-${operatorKey}-secrets`, operator, "Key Vault Crypto User", vaultScope, subscriptionId, `Stack secrets providers, for operator ${operatorKey}.`);
    }

    return { config, resourceGroup, stateAccount, vault, environments, pullRequest, customRoles };
}

/** The stack outputs: what to set in GitHub, what to run once per stack, and the identities. */
export function bootstrapOutputs(bootstrap: Bootstrap) {
    const { config } = bootstrap;
    const repository = `${config.github.owner}/${config.github.repository}`;
    const previewed = bootstrap.environments[config.pullRequest.environment].config;
    const backendUrl = (environment: EnvironmentConfig): string => `azblob://${environment.backendContainer}`;
    const secretsProvider = (environment: EnvironmentConfig): string => keyVaultSecretsProvider(config.keyVaultName, environment.secretsKeyName);

    const repositoryVariables: pulumi.Output<Partial<Record<RepositoryVariable, string>>> = pulumi.output({
        AZURE_TENANT_ID: config.tenantId,
        AZURE_SUBSCRIPTION_ID: config.subscriptionId,
        AZURE_STORAGE_ACCOUNT: config.state.accountName,
        PULL_REQUEST_AZURE_CLIENT_ID: bootstrap.pullRequest.clientId,
        PULL_REQUEST_PULUMI_BACKEND_URL: backendUrl(previewed),
        PULL_REQUEST_STACK: previewed.stack,
        ...(config.runsOn === undefined ? {} : { DEPLOY_RUNS_ON: JSON.stringify(config.runsOn) }),
    });
    const environmentVariables: pulumi.Output<Record<string, Record<EnvironmentVariable, string>>> = pulumi.output(
        Object.fromEntries(
            config.environments.map((environment) => [
                environment.name,
                { AZURE_CLIENT_ID: bootstrap.environments[environment.name].identity.clientId, PULUMI_BACKEND_URL: backendUrl(environment) },
            ]),
        ),
    );
    const githubCommands = pulumi
        .all([repositoryVariables, environmentVariables])
        .apply(([repositoryValues, environmentValues]) =>
            ghVariableCommands(
                repository,
                repositoryValues,
                config.environments.map((environment) => [environment.name, environmentValues[environment.name]] as const),
            ),
        );
    const stackInitCommands = [
        `export AZURE_STORAGE_ACCOUNT=${shellQuote(config.state.accountName)}`,
        // No AZURE_KEYVAULT_AUTH_VIA_CLI: the azurekeyvault secrets provider (gocloud.dev
        // secrets/azurekeyvault, DefaultClientMaker) always uses azidentity's
        // DefaultAzureCredential, which includes the Azure CLI login, and has ignored that variable
        // since google/go-cloud commit dfaf95af3 (#3202, January 2023).
        ...config.environments.map(
            (environment) =>
                `PULUMI_BACKEND_URL=${shellQuote(backendUrl(environment))} pulumi stack init ${environment.stack} --secrets-provider ${shellQuote(secretsProvider(environment))}`,
        ),
    ].join("\n");

    // What each stack with application workloads puts in aks-workload-identity:applicationOwners:
    // with Application.ReadWrite.OwnedBy the pipeline may only manage apps it owns, and may add no
    // other owner (Graph docs, Add owner: OwnedBy is not sufficient to add another owner).
    const applicationOwners = pulumi.output(
        Object.fromEntries(
            config.environments
                .filter((environment) => environment.hasApplicationWorkloads)
                .map((environment) => [environment.stack, [bootstrap.environments[environment.name].identity.principalId]]),
        ),
    );
    // A fresh subscription lacks these, and a deploy identity cannot register them (subscription scope).
    const providerRegistrationCommands = subscriptionProviders(config)
        .map((registration) => `az provider register --subscription ${shellQuote(config.subscriptionId)} --namespace ${registration.namespace} --wait`)
        .join("\n");

    return {
        resourceGroupName: config.resourceGroupName,
        stateStorageAccountName: config.state.accountName,
        keyVaultName: config.keyVaultName,
        bootstrapBackendUrl: `azblob://${BOOTSTRAP_STATE_CONTAINER}`,
        environments: Object.fromEntries(
            config.environments.map((environment) => {
                const built = bootstrap.environments[environment.name];
                return [
                    environment.name,
                    {
                        stack: environment.stack,
                        resourceGroupName: environment.resourceGroupName,
                        backendUrl: backendUrl(environment),
                        secretsProvider: secretsProvider(environment),
                        identity: { name: environment.identityName, clientId: built.identity.clientId, principalId: built.identity.principalId },
                    },
                ];
            }),
        ),
        pullRequest: {
            environment: config.pullRequest.environment,
            identity: { name: config.pullRequest.identityName, clientId: bootstrap.pullRequest.clientId, principalId: bootstrap.pullRequest.principalId },
        },
        githubVariables: { repository: repositoryVariables, environments: environmentVariables },
        githubCommands,
        stackInitCommands,
        applicationOwners,
        providerRegistrationCommands,
    };
}

export type BootstrapOutputs = ReturnType<typeof bootstrapOutputs>;
