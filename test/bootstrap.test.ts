import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
// The runner installs the mocks before it runs the program.
import {
    PROJECT_ROOT,
    flattenConfig,
    lastRun,
    loadStackFile,
    placeholderClientId,
    placeholderPrincipalId,
    runStack,
    stackFilePath,
    type RecordedResource,
    type RunResult,
} from "../testing/mock-runner";
import { named, ofType } from "../testing/graph";
import { roleAssignmentName } from "../components/names";
import { parseScope } from "../components/roles";
import { parseStackConfig, rawStackConfig } from "../stacks/config";
import { allowRolesCondition } from "../bootstrap/conditions";
import { formatBootstrapProblems, parseBootstrapConfig } from "../bootstrap/config";
import { ENVIRONMENT_VARIABLES, REPOSITORY_VARIABLES } from "../bootstrap/github";
import { scopeKey } from "../bootstrap/program";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bootstrapProgram = require("../bootstrap/index") as () => unknown;

const EXAMPLE = path.join(PROJECT_ROOT, "bootstrap", "Pulumi.example.yaml");

const T = {
    rg: "azure-native:resources:ResourceGroup",
    account: "azure-native:storage:StorageAccount",
    blobService: "azure-native:storage:BlobServiceProperties",
    container: "azure-native:storage:BlobContainer",
    vault: "azure-native:keyvault:Vault",
    key: "azure-native:keyvault:Key",
    component: "aks-workload-identity:index:WorkloadIdentity",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    groupMember: "azuread:index/groupMember:GroupMember",
    appRole: "azuread:index/appRoleAssignment:AppRoleAssignment",
} as const;

// Role definition GUIDs as the Azure built-in roles reference lists them (not read from the code).
const ROLE: Record<string, string> = {
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "7f6c6a51-bcf8-42ba-9220-52d62157d7db": "Azure Kubernetes Service RBAC Reader",
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": "Azure Kubernetes Service Cluster User Role",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": "Azure Kubernetes Service RBAC Cluster Admin",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
    "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
    // The bootstrap's custom roles, their GUIDs (UUIDv5 of "<subscription>|<key>" in the bootstrap's
    // namespace, computed with Python's uuid.uuid5): link-workspace in the placeholder subscription,
    // join-subnet in the fixture subscription 11111111-2222-3333-4444-555555555555.
    "8d448d02-6a3b-5386-836c-46f286a19b49": "custom: link Log Analytics workspace",
    "d8039fc8-70f5-5301-91e7-8eeeeb52acfd": "custom: join subnet",
};
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

const KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
/** The documented "Constrain roles" condition (Azure docs, delegate role assignment management with conditions). */
const allowing = (ids: string): string =>
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR " +
    `(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ids}})) AND ` +
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR " +
    `(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ids}}))`;

const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
const SUB = "00000000-0000-0000-0000-000000000000";
const TENANT = "00000000-0000-0000-0000-00000000feed";
const rgId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${name}`;
const BOOTSTRAP_RG = "rg-aks-workload-identity-bootstrap";
const ACCOUNT = `${rgId(BOOTSTRAP_RG)}/providers/Microsoft.Storage/storageAccounts/stakswistate`;
const VAULT = `${rgId(BOOTSTRAP_RG)}/providers/Microsoft.KeyVault/vaults/kv-aks-wi-pulumi`;
const containerId = (container: string, account = ACCOUNT): string => `${account}/blobServices/default/containers/${container}`;
const keyId = (key: string, vault = VAULT): string => `${vault}/keys/${key}`;

/** `<role name> @ <scope>`, with the roles a condition allows: `[only <role>, ...]`. */
function describeGrant(assignment: RecordedResource): string {
    const guid = String(assignment.inputs.roleDefinitionId).split("/").pop() as string;
    const condition = typeof assignment.inputs.condition === "string" ? assignment.inputs.condition : undefined;
    const allowed = condition === undefined ? undefined : /GuidEquals \{([^}]*)\}/.exec(condition)?.[1].split(", ").map((id) => ROLE[id] ?? id);
    return `${ROLE[guid] ?? guid} @ ${String(assignment.inputs.scope)}${allowed === undefined ? "" : ` [only ${allowed.join(", ")}]`}`;
}

function grantsOf(resources: readonly RecordedResource[], principalId: string): string[] {
    return ofType(resources, T.role)
        .filter((assignment) => assignment.inputs.principalId === principalId)
        .map(describeGrant)
        .sort();
}

/**
 * Whether a role assignment condition lets the holder write (or delete) an assignment of
 * `roleId`, evaluating the cross-product operator as Azure's condition format defines it.
 */
function conditionAllows(condition: string, action: "write" | "delete", roleId: string): boolean {
    const source = action === "write" ? "@Request" : "@Resource";
    const pattern = new RegExp(
        `\\(!\\(ActionMatches\\{'Microsoft\\.Authorization/roleAssignments/${action}'\\}\\)\\) OR \\(${source}\\[Microsoft\\.Authorization/roleAssignments:RoleDefinitionId\\] ` +
            "(ForAnyOfAnyValues|ForAllOfAnyValues|ForAnyOfAllValues|ForAllOfAllValues):(GuidEquals|GuidNotEquals) \\{([^}]*)\\}\\)",
    );
    const match = pattern.exec(condition);
    assert.ok(match, `the condition constrains ${action} with a RoleDefinitionId rule: ${condition}`);
    const listed = match[3].split(",").map((id) => id.trim().toLowerCase());
    const left = [roleId.toLowerCase()];
    const holds = (l: string, r: string): boolean => (match[2] === "GuidEquals" ? l === r : l !== r);
    switch (match[1]) {
        case "ForAnyOfAnyValues":
            return left.some((l) => listed.some((r) => holds(l, r)));
        case "ForAllOfAnyValues":
            return left.every((l) => listed.some((r) => holds(l, r)));
        case "ForAnyOfAllValues":
            return left.some((l) => listed.every((r) => holds(l, r)));
        default:
            return left.every((l) => listed.every((r) => holds(l, r)));
    }
}

function runBootstrap(config: Record<string, string>): Promise<RunResult> {
    return runStack({ stack: "bootstrap", config, program: bootstrapProgram });
}

describe("the allow-listed roles condition", () => {
    it("is the documented constrain-roles condition with exactly the given roles, lower-case, sorted, once each", () => {
        assert.equal(
            allowRolesCondition(["B1FF04BB-8a4e-4dc4-8eb5-8693973ce19b", KEY_VAULT_SECRETS_USER, AKS_RBAC_CLUSTER_ADMIN]),
            allowing(`${KEY_VAULT_SECRETS_USER}, ${AKS_RBAC_CLUSTER_ADMIN}`),
        );
    });

    it("allows writing and deleting assignments of the listed roles only: not Owner, not Contributor, not another data role", () => {
        const condition = allowRolesCondition([KEY_VAULT_SECRETS_USER]);
        for (const action of ["write", "delete"] as const) {
            assert.equal(conditionAllows(condition, action, KEY_VAULT_SECRETS_USER), true, `${action} of Key Vault Secrets User`);
            for (const other of [OWNER, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR, "b24988ac-6180-42a0-ab88-20f7382dd24c", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"]) {
                assert.equal(conditionAllows(condition, action, other), false, `${action} of ${other}`);
            }
        }
    });

    it("refuses an empty list and the roles that assign roles", () => {
        assert.throws(() => allowRolesCondition([]), {
            message: "allowRolesCondition needs at least one role definition ID: a Role Based Access Control Administrator that may assign nothing is not granted at all.",
        });
        assert.throws(() => allowRolesCondition([KEY_VAULT_SECRETS_USER, OWNER]), {
            message: `allowRolesCondition refuses ${OWNER}: a pipeline allowed to assign a role that assigns roles could escalate past its own limits.`,
        });
    });
});

describe("bootstrap with the example config and the committed stack files", () => {
    let run: RunResult;
    const environments = ["dev", "staging", "prod"] as const;
    const identityName = (environment: string): string => `id-aks-workload-identity-deploy-${environment}`;
    const PULL_REQUEST_IDENTITY = "id-aks-workload-identity-pull-request";
    const stackConfig = (environment: string) => {
        const result = parseStackConfig(rawStackConfig(loadStackFile(stackFilePath(environment))), environment);
        assert.ok("config" in result, `Pulumi.${environment}.yaml parses`);
        return result.config;
    };

    before(async () => {
        run = await runBootstrap(loadStackFile(EXAMPLE));
    });

    it("creates one identity per environment and one for pull requests, in the bootstrap's own resource group", () => {
        const identities = ofType(run.resources, T.identity).map((identity) => [identity.inputs.resourceName, identity.inputs.resourceGroupName]);
        assert.deepEqual(identities.sort(), [
            [identityName("dev"), BOOTSTRAP_RG],
            [identityName("prod"), BOOTSTRAP_RG],
            [identityName("staging"), BOOTSTRAP_RG],
            [PULL_REQUEST_IDENTITY, BOOTSTRAP_RG],
        ]);
        for (const name of ["deploy-dev", "deploy-staging", "deploy-prod", "pull-request"]) {
            assert.ok(named(run.resources, T.component, name), `the project's WorkloadIdentity component ${name}`);
            assert.equal(named(run.resources, T.identity, `${name}-id`).parent, named(run.resources, T.component, name).urn);
        }
        assert.equal(ofType(run.resources, "kubernetes:core/v1:ServiceAccount").length, 0, "no Kubernetes side");
    });

    it("federates each deploy identity with exactly its GitHub environment, and the pull-request identity with pull_request", () => {
        const expected: Record<string, [string, string]> = {
            "deploy-dev-fic-github": [identityName("dev"), "repo:contoso/aks-workload-identity:environment:dev"],
            "deploy-staging-fic-github": [identityName("staging"), "repo:contoso/aks-workload-identity:environment:staging"],
            "deploy-prod-fic-github": [identityName("prod"), "repo:contoso/aks-workload-identity:environment:prod"],
            "pull-request-fic-github": [PULL_REQUEST_IDENTITY, "repo:contoso/aks-workload-identity:pull_request"],
        };
        const fics = ofType(run.resources, T.fic);
        assert.deepEqual(fics.map((fic) => fic.name).sort(), Object.keys(expected).sort());
        for (const fic of fics) {
            const [identity, subject] = expected[fic.name];
            assert.deepEqual(fic.inputs, {
                resourceGroupName: BOOTSTRAP_RG,
                resourceName: identity,
                federatedIdentityCredentialResourceName: "fic-github",
                issuer: GITHUB_ISSUER,
                subject,
                audiences: ["api://AzureADTokenExchange"],
            });
            assert.ok(!String(fic.inputs.issuer).endsWith("/"), "GitHub's issuer has no trailing slash");
        }
    });

    it("gives each deploy identity its state, its key, Contributor on its group, and RBAC Administrator only where its stack assigns roles, for exactly those roles", () => {
        const resource = (environment: string, type: string): string => `${rgId(`rg-data-${environment}`)}/providers/${type}`;
        const expected: Record<(typeof environments)[number], string[]> = {
            // No role assignment inside rg-workload-identity-dev (no clusterAdmins): no RBAC Administrator there.
            dev: [
                `Contributor @ ${rgId("rg-workload-identity-dev")}`,
                `Role Based Access Control Administrator @ ${resource("dev", "Microsoft.KeyVault/vaults/kv-orders-dev")} [only Key Vault Secrets User]`,
                `Role Based Access Control Administrator @ ${resource("dev", "Microsoft.Storage/storageAccounts/stordersdev")} [only Storage Blob Data Reader]`,
            ],
            staging: [
                `Contributor @ ${rgId("rg-workload-identity-staging")}`,
                `Role Based Access Control Administrator @ ${rgId("rg-workload-identity-staging")} [only Azure Kubernetes Service RBAC Cluster Admin]`,
                `Role Based Access Control Administrator @ ${resource("staging", "Microsoft.KeyVault/vaults/kv-orders-staging")} [only Key Vault Secrets User]`,
                `Role Based Access Control Administrator @ ${resource("staging", "Microsoft.ServiceBus/namespaces/sb-orders-staging")} [only Azure Service Bus Data Receiver]`,
                `Role Based Access Control Administrator @ ${resource("staging", "Microsoft.KeyVault/vaults/kv-payments-staging")} [only Key Vault Secrets User]`,
                `Role Based Access Control Administrator @ ${resource("staging", "Microsoft.Storage/storageAccounts/stingeststaging")} [only Storage Blob Data Contributor]`,
                `custom: link Log Analytics workspace @ ${rgId("rg-monitoring-staging")}/providers/Microsoft.OperationalInsights/workspaces/log-platform-staging`,
            ],
            prod: [
                `Contributor @ ${rgId("rg-workload-identity-prod")}`,
                `Role Based Access Control Administrator @ ${rgId("rg-workload-identity-prod")} [only Azure Kubernetes Service RBAC Cluster Admin]`,
                `Role Based Access Control Administrator @ ${resource("prod", "Microsoft.KeyVault/vaults/kv-orders-prod")} [only Key Vault Secrets User]`,
                `Role Based Access Control Administrator @ ${resource("prod", "Microsoft.ServiceBus/namespaces/sb-orders-prod")} [only Azure Service Bus Data Receiver]`,
                `Role Based Access Control Administrator @ ${resource("prod", "Microsoft.KeyVault/vaults/kv-payments-prod")} [only Key Vault Secrets User]`,
                `Role Based Access Control Administrator @ ${resource("prod", "Microsoft.Storage/storageAccounts/stingestprod")} [only Storage Blob Data Contributor]`,
                `custom: link Log Analytics workspace @ ${rgId("rg-monitoring-prod")}/providers/Microsoft.OperationalInsights/workspaces/log-platform-prod`,
            ],
        };
        for (const environment of environments) {
            assert.deepEqual(
                grantsOf(run.resources, placeholderPrincipalId(identityName(environment))),
                [`Storage Blob Data Contributor @ ${containerId(`state-${environment}`)}`, `Key Vault Crypto User @ ${keyId(`pulumi-${environment}`)}`, ...expected[environment]].sort(),
                environment,
            );
        }
    });

    it("defines the link-workspace custom role once, with exactly two actions, assignable in the workspaces' groups, before assigning it", () => {
        const definitions = ofType(run.resources, "azure-native:authorization:RoleDefinition");
        assert.deepEqual(
            definitions.map((definition) => [definition.name, definition.inputs]),
            [
                [
                    "custom-role-link-workspace",
                    {
                        scope: `/subscriptions/${SUB}`,
                        roleDefinitionId: "8d448d02-6a3b-5386-836c-46f286a19b49",
                        roleName: `Deploy pipeline: link a Log Analytics workspace to an AKS cluster (Microsoft Defender) (subscription ${SUB})`,
                        description:
                            "Lets a deploy pipeline of contoso/aks-workload-identity link a Log Analytics workspace to an AKS cluster (Microsoft Defender); nothing else (AKS docs, AKS service permissions (identity creating and operating the cluster: workspaces/sharedkeys/read, workspaces/read); Azure/AKS#499 (LinkedAuthorizationFailed)).",
                        roleType: "CustomRole",
                        permissions: [
                            { actions: ["Microsoft.OperationalInsights/workspaces/read", "Microsoft.OperationalInsights/workspaces/sharedKeys/read"], notActions: [], dataActions: [], notDataActions: [] },
                        ],
                        assignableScopes: [rgId("rg-monitoring-prod"), rgId("rg-monitoring-staging")],
                    },
                ],
            ],
        );
        for (const environment of ["staging", "prod"]) {
            const assignment = ofType(run.resources, T.role).find(
                (candidate) => candidate.name.startsWith(`deploy-${environment}-ra-link-workspace-`) && candidate.inputs.principalId === placeholderPrincipalId(identityName(environment)),
            );
            assert.ok(assignment, `${environment} is assigned the custom role`);
            assert.deepEqual(assignment.propertyDependencies.scope, [definitions[0].urn], `${environment}'s assignment waits for the definition`);
        }
    });

    it("keeps every pipeline role inside one environment: never a subscription, never another environment's group, container or key", () => {
        for (const environment of environments) {
            const others = environments.filter((other) => other !== environment);
            for (const assignment of ofType(run.resources, T.role).filter((a) => a.inputs.principalId === placeholderPrincipalId(identityName(environment)))) {
                const scope = String(assignment.inputs.scope);
                assert.notEqual(parseScope(scope)?.kind, "subscription", scope);
                assert.notEqual(parseScope(scope)?.kind, "managementGroup", scope);
                for (const other of others) {
                    assert.ok(!scope.toLowerCase().startsWith(rgId(stackConfig(other).resourceGroup.name).toLowerCase()), `${environment} reaches ${other}: ${scope}`);
                    assert.ok(!scope.endsWith(`/state-${other}`) && !scope.endsWith(`/pulumi-${other}`), `${environment} reaches ${other}: ${scope}`);
                }
            }
        }
    });

    it("gives the pull-request identity read-only roles on dev only", () => {
        const group = rgId(stackConfig("dev").resourceGroup.name);
        assert.deepEqual(grantsOf(run.resources, placeholderPrincipalId(PULL_REQUEST_IDENTITY)), [
            `Azure Kubernetes Service Cluster User Role @ ${group}`,
            `Azure Kubernetes Service RBAC Reader @ ${group}`,
            `Key Vault Crypto User @ ${keyId("pulumi-dev")}`,
            `Reader @ ${group}`,
            `Storage Blob Data Reader @ ${containerId("state-dev")}`,
        ]);
    });

    it("assigns no Owner or User Access Administrator, and allow-lists the roles of every RBAC Administrator assignment", () => {
        const assignments = ofType(run.resources, T.role);
        assert.ok(assignments.length > 0, "the bootstrap declares role assignments to check");
        for (const assignment of assignments) {
            const roleDefinitionId = String(assignment.inputs.roleDefinitionId);
            const guid = roleDefinitionId.split("/").pop() as string;
            assert.equal(roleDefinitionId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`);
            assert.ok(guid !== OWNER && guid !== USER_ACCESS_ADMINISTRATOR, `${assignment.name} assigns ${guid}`);
            if (guid === RBAC_ADMINISTRATOR) {
                const allowed = /GuidEquals \{([^}]*)\}/.exec(String(assignment.inputs.condition))?.[1] ?? "";
                assert.equal(assignment.inputs.condition, allowing(allowed), `${assignment.name}: the same roles for write and delete`);
                assert.ok(!allowed.includes(OWNER) && !allowed.includes(USER_ACCESS_ADMINISTRATOR) && !allowed.includes(RBAC_ADMINISTRATOR), `${assignment.name} allows ${allowed}`);
                assert.equal(assignment.inputs.conditionVersion, "2.0", assignment.name);
            } else {
                assert.equal(assignment.inputs.condition, undefined, assignment.name);
            }
            assert.equal(
                assignment.inputs.roleAssignmentName,
                roleAssignmentName(String(assignment.inputs.scope), String(assignment.inputs.principalId), roleDefinitionId),
                `${assignment.name} has the deterministic name`,
            );
        }
    });

    it("adds each deploy identity to its clusters' admin groups, and grants Graph's Application.ReadWrite.OwnedBy only where there are application workloads", () => {
        const members = ofType(run.resources, T.groupMember).map((member) => [member.name, member.inputs.groupObjectId, member.inputs.memberObjectId, member.parent]);
        const expectedMembers = environments.flatMap((environment) =>
            [...new Set(Object.values(stackConfig(environment).clusters).flatMap((cluster) => cluster.adminGroupObjectIds))].map((group) => [
                `deploy-${environment}-admins-${group}`,
                group,
                placeholderPrincipalId(identityName(environment)),
                named(run.resources, T.component, `deploy-${environment}`).urn,
            ]),
        );
        assert.deepEqual(members.sort(), expectedMembers.sort());

        const applicationEnvironments = environments.filter((environment) =>
            Object.values(stackConfig(environment).workloads).some((workload) => workload.principal === "application"),
        );
        assert.deepEqual(applicationEnvironments, ["staging", "prod"]);
        assert.deepEqual(
            ofType(run.resources, T.appRole).map((grant) => [grant.name, grant.inputs]),
            applicationEnvironments.map((environment) => [
                `deploy-${environment}-graph-applications`,
                {
                    appRoleId: "18a4783c-866b-4cc7-a460-3d5e5662c884",
                    principalObjectId: placeholderPrincipalId(identityName(environment)),
                    resourceObjectId: "77777777-7777-7777-7777-777777777777",
                },
            ]),
        );
    });

    it("creates the state storage with Entra ID access only, versioning and soft delete, and one private container per environment", () => {
        const account = named(run.resources, T.account, "state");
        assert.equal(account.protect, true);
        assert.deepEqual(
            {
                accountName: account.inputs.accountName,
                kind: account.inputs.kind,
                allowSharedKeyAccess: account.inputs.allowSharedKeyAccess,
                allowBlobPublicAccess: account.inputs.allowBlobPublicAccess,
                defaultToOAuthAuthentication: account.inputs.defaultToOAuthAuthentication,
                enableHttpsTrafficOnly: account.inputs.enableHttpsTrafficOnly,
                minimumTlsVersion: account.inputs.minimumTlsVersion,
                allowCrossTenantReplication: account.inputs.allowCrossTenantReplication,
            },
            {
                accountName: "stakswistate",
                kind: "StorageV2",
                allowSharedKeyAccess: false,
                allowBlobPublicAccess: false,
                defaultToOAuthAuthentication: true,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: "TLS1_2",
                allowCrossTenantReplication: false,
            },
        );
        const blobService = named(run.resources, T.blobService, "state");
        assert.equal(blobService.inputs.isVersioningEnabled, true);
        assert.deepEqual(blobService.inputs.deleteRetentionPolicy, { enabled: true, days: 30 });
        assert.deepEqual(blobService.inputs.containerDeleteRetentionPolicy, { enabled: true, days: 30 });
        assert.deepEqual(
            ofType(run.resources, T.container).map((container) => [container.inputs.containerName, container.inputs.publicAccess, container.protect]).sort(),
            [
                ["bootstrap", "None", true],
                ["state-dev", "None", true],
                ["state-prod", "None", true],
                ["state-staging", "None", true],
            ],
        );
    });

    it("creates an RBAC Key Vault with purge protection and one encrypt/decrypt key per environment", () => {
        const vault = named(run.resources, T.vault, "secrets");
        const properties = vault.inputs.properties as Record<string, unknown>;
        assert.equal(vault.protect, true);
        assert.equal(properties.tenantId, TENANT);
        assert.equal(properties.enableRbacAuthorization, true);
        assert.equal(properties.enablePurgeProtection, true);
        assert.equal(properties.accessPolicies, undefined);
        assert.deepEqual(
            ofType(run.resources, T.key).map((key) => [key.inputs.vaultName, key.inputs.keyName, key.inputs.properties]).sort(),
            ["dev", "prod", "staging"].map((environment) => ["kv-aks-wi-pulumi", `pulumi-${environment}`, { kty: "RSA", keySize: 3072, keyOps: ["encrypt", "decrypt"] }]),
        );
    });

    it("creates each environment's resource group (the one its stack file deploys into), protected", () => {
        assert.deepEqual(
            ofType(run.resources, T.rg).map((group) => [group.name, group.inputs.resourceGroupName, group.protect]).sort(),
            [
                ["bootstrap", BOOTSTRAP_RG, true],
                ...environments.map((environment) => [`environment-${environment}`, stackConfig(environment).resourceGroup.name, true]),
            ].sort(),
        );
    });

    it("lets the operators use the state and the keys, as a group", () => {
        const group = "66666666-6666-6666-6666-666666666666";
        assert.deepEqual(grantsOf(run.resources, group), [`Key Vault Crypto User @ ${VAULT}`, `Storage Blob Data Contributor @ ${ACCOUNT}`]);
        for (const assignment of ofType(run.resources, T.role)) {
            assert.equal(assignment.inputs.principalType, assignment.inputs.principalId === group ? "Group" : "ServicePrincipal", assignment.name);
        }
    });

    it("prints the deploy identities' object IDs for aks-workload-identity:applicationOwners, and the one-time provider registrations", () => {
        const outputs = run.outputs as { applicationOwners: Record<string, string[]>; providerRegistrationCommands: string };
        assert.deepEqual(outputs.applicationOwners, {
            staging: [placeholderPrincipalId(identityName("staging"))],
            prod: [placeholderPrincipalId(identityName("prod"))],
        });
        assert.deepEqual(outputs.providerRegistrationCommands.split("\n"), [
            `az provider register --subscription '${SUB}' --namespace Microsoft.ContainerService --wait`,
            `az provider register --subscription '${SUB}' --namespace Microsoft.Compute --wait`,
            `az provider register --subscription '${SUB}' --namespace Microsoft.Network --wait`,
            `az provider register --subscription '${SUB}' --namespace Microsoft.PolicyInsights --wait`,
            `az provider register --subscription '${SUB}' --namespace Microsoft.ManagedIdentity --wait`,
        ]);
    });

    it("prints the GitHub variables the workflows read, and the commands that set them", () => {
        const outputs = run.outputs as {
            githubVariables: { repository: Record<string, string>; environments: Record<string, Record<string, string>> };
            githubCommands: string;
            stackInitCommands: string;
        };
        assert.deepEqual(outputs.githubVariables.repository, {
            AZURE_TENANT_ID: TENANT,
            AZURE_SUBSCRIPTION_ID: SUB,
            AZURE_STORAGE_ACCOUNT: "stakswistate",
            PULL_REQUEST_AZURE_CLIENT_ID: placeholderClientId(PULL_REQUEST_IDENTITY),
            PULL_REQUEST_PULUMI_BACKEND_URL: "azblob://state-dev",
            PULL_REQUEST_STACK: "dev",
            DEPLOY_RUNS_ON: '["self-hosted","linux","aks-deploy"]',
        });
        assert.deepEqual(Object.keys(outputs.githubVariables.repository), [...REPOSITORY_VARIABLES]);
        assert.deepEqual(Object.keys(outputs.githubVariables.environments), ["dev", "staging", "prod"], "promotion order");
        for (const environment of environments) {
            assert.deepEqual(outputs.githubVariables.environments[environment], {
                AZURE_CLIENT_ID: placeholderClientId(identityName(environment)),
                PULUMI_BACKEND_URL: `azblob://state-${environment}`,
            });
            assert.deepEqual(Object.keys(outputs.githubVariables.environments[environment]), [...ENVIRONMENT_VARIABLES]);
        }
        const commands = outputs.githubCommands.split("\n");
        assert.equal(commands.length, REPOSITORY_VARIABLES.length + ENVIRONMENT_VARIABLES.length * environments.length);
        assert.equal(commands[0], `gh variable set AZURE_TENANT_ID --repo contoso/aks-workload-identity --body '${TENANT}'`);
        assert.ok(commands.includes(`gh variable set AZURE_CLIENT_ID --repo contoso/aks-workload-identity --env prod --body '${placeholderClientId(identityName("prod"))}'`), "a gh variable set command for the prod environment's AZURE_CLIENT_ID");
        assert.deepEqual(outputs.stackInitCommands.split("\n"), [
            "export AZURE_STORAGE_ACCOUNT='stakswistate'",
            "PULUMI_BACKEND_URL='azblob://state-dev' pulumi stack init dev --secrets-provider 'azurekeyvault://kv-aks-wi-pulumi.vault.azure.net/keys/pulumi-dev'",
            "PULUMI_BACKEND_URL='azblob://state-staging' pulumi stack init staging --secrets-provider 'azurekeyvault://kv-aks-wi-pulumi.vault.azure.net/keys/pulumi-staging'",
            "PULUMI_BACKEND_URL='azblob://state-prod' pulumi stack init prod --secrets-provider 'azurekeyvault://kv-aks-wi-pulumi.vault.azure.net/keys/pulumi-prod'",
        ]);
        const printed = JSON.stringify(run.outputs).toLowerCase();
        for (const word of ["password", "secret\"", "clientsecret", "passphrase"]) {
            assert.ok(!printed.includes(word), `no ${word} in the outputs`);
        }
    });

    it("warns about each stack file that would stop its pipeline, and about nothing else", () => {
        const expected: string[] = [];
        environments.forEach((environment, index) => {
            const stack = stackConfig(environment);
            const file = `Pulumi.${environment}.yaml`;
            if (!stack.resourceGroup.existing) {
                expected.push(
                    `aks-workload-identity-bootstrap:environments[${index}]: ${file} sets no aks-workload-identity:resourceGroupName, so the main program would create "${stack.resourceGroup.name}" itself; the bootstrap creates it, and the pipeline identity may only write inside it. Add "aks-workload-identity:resourceGroupName: ${stack.resourceGroup.name}" to ${file} before the first pipeline run.`,
                );
            }
            const provider = (parse(fs.readFileSync(stackFilePath(environment), "utf8")) as { secretsprovider?: string }).secretsprovider;
            const wanted = `azurekeyvault://kv-aks-wi-pulumi.vault.azure.net/keys/pulumi-${environment}`;
            if (provider === undefined) {
                expected.push(
                    `aks-workload-identity-bootstrap:environments[${index}]: ${file} has no secretsprovider: a pipeline has no passphrase to give it. Run the stackInitCommands output, which records "${wanted}" in ${file}, and commit the file.`,
                );
            } else if (provider !== wanted) {
                expected.push(
                    `aks-workload-identity-bootstrap:environments[${index}]: ${file} has secretsprovider "${provider}", but this bootstrap creates "${wanted}". Run the stackInitCommands output (or pulumi stack change-secrets-provider) and commit the file.`,
                );
            }
        });
        // The example records the deploy identities' object IDs as the stack files name them; the
        // mocks invent others, so the bootstrap says which value to record.
        environments.forEach((environment, index) => {
            const configured = { staging: "33333333-3333-3333-3333-333333333333", prod: "55555555-5555-5555-5555-555555555555" }[environment as string];
            const actual = placeholderPrincipalId(identityName(environment));
            if (configured !== undefined) {
                expected.push(
                    `aks-workload-identity-bootstrap:environments[${index}].principalId: ${configured} is not the object ID of the deploy identity ${identityName(environment)}, ${actual}. Set it to ${actual}, and name ${actual} in aks-workload-identity:applicationOwners and clusterAdmins of stack ${environment}: the plan's permission view checks the stack against this value.`,
                );
            }
        });
        assert.deepEqual(
            run.logs.map((log) => `${log.severity}: ${log.message}`),
            expected.map((message) => `warning: ${message}`),
        );
    });

    it("the staging and prod stack files name a Key Vault secrets provider, never a passphrase", () => {
        for (const environment of ["staging", "prod"]) {
            const document = parse(fs.readFileSync(stackFilePath(environment), "utf8")) as { secretsprovider?: string; encryptionsalt?: string };
            assert.match(document.secretsprovider ?? "", /^azurekeyvault:\/\/[a-z0-9-]{3,24}\.vault\.azure\.net\/keys\/[A-Za-z0-9-]+$/, environment);
            assert.equal(document.encryptionsalt, undefined, environment);
        }
    });
});

describe("bootstrap with fixture stack files", () => {
    const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
    const ADMINS = "aaaaaaaa-0000-0000-0000-000000000001";
    const GRAPH = "bbbbbbbb-0000-0000-0000-000000000002";
    const DATA = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-data`;
    // A private cluster brings its own subnet, in a network resource group outside the stack's.
    const SUBNET = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-live/subnets/aks`;
    const LIVE_OWNER = "ffffffff-0000-0000-0000-000000000006";
    const OTHER_SUBSCRIPTION_VAULT = "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared";
    const group = (name: string): string => `/subscriptions/${SUBSCRIPTION}/resourceGroups/${name}`;
    const account = `${group("rg-fabrikam-bootstrap")}/providers/Microsoft.Storage/storageAccounts/stfabrikam`;
    const vault = `${group("rg-fabrikam-bootstrap")}/providers/Microsoft.KeyVault/vaults/kv-fabrikam`;
    let directory: string;

    const cluster = (admins: object) => ({ systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 3 }, ...admins });
    const writeStack = (name: string, config: Record<string, unknown>, extra = ""): void => {
        const lines = Object.entries(config).map(([configKey, value]) => `  ${configKey}: ${JSON.stringify(value)}`);
        fs.writeFileSync(path.join(directory, `Pulumi.${name}.yaml`), `${extra}config:\n${lines.join("\n")}\n`);
    };
    const bootstrapConfig = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
        "azure-native:location": "northeurope",
        "azure-native:subscriptionId": SUBSCRIPTION,
        "azure-native:tenantId": "cccccccc-0000-0000-0000-000000000003",
        "aks-workload-identity-bootstrap:github": { owner: "fabrikam", repository: "platform.infra" },
        "aks-workload-identity-bootstrap:resourceGroupName": "rg-fabrikam-bootstrap",
        "aks-workload-identity-bootstrap:stateStorageAccountName": "stfabrikam",
        "aks-workload-identity-bootstrap:keyVaultName": "kv-fabrikam",
        "aks-workload-identity-bootstrap:environments": [
            { name: "qa", stackFile: path.join(directory, "Pulumi.qa.yaml") },
            {
                name: "live",
                stack: "production",
                stackFile: path.join(directory, "Pulumi.production.yaml"),
                federations: { "azure-devops": { issuer: "https://login.microsoftonline.com/cccccccc-0000-0000-0000-000000000003/v2.0", subject: "/eid1/c/pub/t/abc/a/def/sc/org/live" } },
            },
        ],
        "aks-workload-identity-bootstrap:pullRequest": { environment: "qa" },
        "aks-workload-identity-bootstrap:operators": { alice: { objectId: "dddddddd-0000-0000-0000-000000000004", principalType: "User" } },
        "aks-workload-identity-bootstrap:microsoftGraphServicePrincipalObjectId": GRAPH,
        "aks-workload-identity-bootstrap:runsOn": "aks-runner",
        ...overrides,
    });
    const flat = (config: Record<string, unknown>): Record<string, string> => flattenConfig(config);
    const raw = (config: Record<string, unknown>): Record<string, unknown> => {
        const values: Record<string, unknown> = {};
        for (const [fullKey, value] of Object.entries(config)) {
            const [namespace, field] = fullKey.split(":");
            values[namespace === "azure-native" ? field : field] = value;
        }
        return values;
    };

    before(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-test-"));
        writeStack(
            "qa",
            {
                "azure-native:location": "northeurope",
                "aks-workload-identity:resourceGroupName": "rg-qa",
                "aks-workload-identity:clusters": { main: cluster({ adminGroupObjectIds: [ADMINS], authorizedIpRanges: ["203.0.113.0/24"] }) },
                "aks-workload-identity:workloads": {
                    api: {
                        namespace: "api",
                        roleAssignments: {
                            own: { role: "Key Vault Secrets User", scope: `${group("rg-qa")}/providers/Microsoft.KeyVault/vaults/kv-qa` },
                            data: { role: "Storage Blob Data Reader", scope: `${DATA}/providers/Microsoft.Storage/storageAccounts/stdata` },
                        },
                    },
                    jobs: {
                        namespace: "jobs",
                        roleAssignments: {
                            same: { role: "Storage Blob Data Contributor", scope: `${DATA.replace("rg-data", "RG-DATA")}/providers/Microsoft.Storage/storageAccounts/stdata` },
                            shared: { role: "Key Vault Secrets User", scope: OTHER_SUBSCRIPTION_VAULT },
                        },
                    },
                },
            },
            "secretsprovider: azurekeyvault://kv-fabrikam.vault.azure.net/keys/pulumi-qa\n",
        );
        writeStack(
            "production",
            {
                "azure-native:location": "northeurope",
                "aks-workload-identity:resourceGroupName": "rg-live",
                "aks-workload-identity:clusters": {
                    blue: cluster({
                        clusterAdmins: { ops: { objectId: "eeeeeeee-0000-0000-0000-000000000005", principalType: "Group" } },
                        private: true,
                        network: { vnetSubnetId: SUBNET },
                    }),
                },
                "aks-workload-identity:workloads": { payments: { namespace: "payments", principal: "application" } },
                "aks-workload-identity:applicationOwners": [LIVE_OWNER],
            },
            "secretsprovider: azurekeyvault://kv-fabrikam.vault.azure.net/keys/pulumi-live\n",
        );
    });

    after(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    it("grants exactly: scopes inside the group are covered by it, the same scope in another case once, other subscriptions' scopes kept", async () => {
        const run = await runBootstrap(flat(bootstrapConfig()));
        const qa = placeholderPrincipalId("id-platform-infra-deploy-qa");
        assert.deepEqual(grantsOf(run.resources, qa), [
            `Contributor @ ${group("rg-qa")}`,
            `Key Vault Crypto User @ ${vault}/keys/pulumi-qa`,
            `Role Based Access Control Administrator @ ${DATA}/providers/Microsoft.Storage/storageAccounts/stdata [only Storage Blob Data Reader, Storage Blob Data Contributor]`,
            `Role Based Access Control Administrator @ ${group("rg-qa")} [only Key Vault Secrets User]`,
            `Role Based Access Control Administrator @ ${OTHER_SUBSCRIPTION_VAULT} [only Key Vault Secrets User]`,
            `Storage Blob Data Contributor @ ${account}/blobServices/default/containers/state-qa`,
        ]);
        assert.deepEqual(
            ofType(run.resources, T.role)
                .filter((assignment) => assignment.inputs.principalId === qa && String(assignment.inputs.scope).includes("stdata"))
                .map((assignment) => assignment.name),
            [`deploy-qa-ra-rbac-admin-${scopeKey(`${DATA}/providers/Microsoft.Storage/storageAccounts/stdata`)}`],
        );
        const live = placeholderPrincipalId("id-platform-infra-deploy-live");
        assert.deepEqual(grantsOf(run.resources, live), [
            `Contributor @ ${group("rg-live")}`,
            `Key Vault Crypto User @ ${vault}/keys/pulumi-live`,
            `Role Based Access Control Administrator @ ${group("rg-live")} [only Azure Kubernetes Service RBAC Cluster Admin]`,
            // The cluster's own identity gets Network Contributor on the subnet it brings.
            `Role Based Access Control Administrator @ ${SUBNET} [only Network Contributor]`,
            `Storage Blob Data Contributor @ ${account}/blobServices/default/containers/state-live`,
            // Creating the cluster in that subnet: subnets/read and subnets/join/action, nothing more.
            `custom: join subnet @ ${SUBNET}`,
        ]);
        assert.deepEqual(grantsOf(run.resources, placeholderPrincipalId("id-platform-infra-pull-request")), [
            `Azure Kubernetes Service Cluster User Role @ ${group("rg-qa")}`,
            `Azure Kubernetes Service RBAC Reader @ ${group("rg-qa")}`,
            `Key Vault Crypto User @ ${vault}/keys/pulumi-qa`,
            `Reader @ ${group("rg-qa")}`,
            `Storage Blob Data Reader @ ${account}/blobServices/default/containers/state-qa`,
        ]);
        assert.deepEqual(grantsOf(run.resources, "dddddddd-0000-0000-0000-000000000004"), [
            `Key Vault Crypto User @ ${vault}`,
            `Storage Blob Data Contributor @ ${account}`,
        ]);

        // The environment's own trust plus the extra federation, in one chain; the stack name differs from the environment.
        const fics = ofType(run.resources, T.fic).filter((fic) => fic.name.startsWith("deploy-live-"));
        assert.deepEqual(
            fics.map((fic) => [fic.name, fic.inputs.issuer, fic.inputs.subject]),
            [
                ["deploy-live-fic-azure-devops", "https://login.microsoftonline.com/cccccccc-0000-0000-0000-000000000003/v2.0", "/eid1/c/pub/t/abc/a/def/sc/org/live"],
                ["deploy-live-fic-github", GITHUB_ISSUER, "repo:fabrikam/platform.infra:environment:live"],
            ],
        );
        assert.ok(fics[1].dependencies.includes(fics[0].urn), "the second credential waits for the first");

        assert.deepEqual(
            ofType(run.resources, T.groupMember).map((member) => [member.name, member.inputs.groupObjectId]),
            [[`deploy-qa-admins-${ADMINS}`, ADMINS]],
        );
        assert.deepEqual(
            ofType(run.resources, T.appRole).map((grant) => [grant.name, grant.inputs.resourceObjectId, grant.inputs.principalObjectId]),
            [["deploy-live-graph-applications", GRAPH, live]],
        );
        const outputs = run.outputs as { githubVariables: { repository: Record<string, string> }; environments: Record<string, { stack: string }> };
        assert.equal(outputs.githubVariables.repository.DEPLOY_RUNS_ON, '"aks-runner"');
        assert.equal(outputs.environments.live.stack, "production");
        assert.deepEqual(run.logs, [], "stack files with a resource group and the right secrets provider, and a runner: nothing to warn about");
    });

    it("warns when a cluster's API server is restricted and no runner is named", async () => {
        const config = bootstrapConfig();
        delete config["aks-workload-identity-bootstrap:runsOn"];
        const run = await runBootstrap(flat(config));
        assert.deepEqual(run.logs, [
            {
                severity: "warning",
                message:
                    "aks-workload-identity-bootstrap:runsOn: environments qa, live have clusters with a restricted API server, and hosted runners have no fixed address: set runsOn to the labels of a runner whose egress address is in authorizedIpRanges (or that is inside the network of a private cluster). Without it the deploy jobs run on ubuntu-latest.",
            },
        ]);
        assert.equal((run.outputs as { githubVariables: { repository: Record<string, string> } }).githubVariables.repository.DEPLOY_RUNS_ON, undefined);
    });

    it("refuses a bad config with every problem at once, before creating anything", async () => {
        const config = bootstrapConfig({
            "aks-workload-identity-bootstrap:github": { owner: "-fabrikam", repository: "platform.infra" },
            "aks-workload-identity-bootstrap:stateStorageAccountName": "St_Fabrikam",
            "aks-workload-identity-bootstrap:stateStorageAcount": "stfabrikam",
            "aks-workload-identity-bootstrap:environments": [
                { name: "qa", stackFile: path.join(directory, "Pulumi.qa.yaml") },
                { name: "qa", stackFile: path.join(directory, "Pulumi.qa.yaml") },
                { name: "Live", stackFile: path.join(directory, "Pulumi.production.yaml") },
                { name: "ghost", stackFile: path.join(directory, "Pulumi.ghost.yaml") },
                { name: "extra", stackFile: path.join(directory, "Pulumi.production.yaml"), federations: { github: { issuer: GITHUB_ISSUER, subject: "repo:x/y:ref:refs/heads/main" } } },
            ],
            "aks-workload-identity-bootstrap:pullRequest": { environment: "qq" },
            "aks-workload-identity-bootstrap:operators": {},
        });
        delete config["aks-workload-identity-bootstrap:microsoftGraphServicePrincipalObjectId"];
        const result = parseBootstrapConfig(raw(config), { repositoryRoot: directory });
        assert.ok("problems" in result, "the bootstrap config is refused with problems");
        assert.deepEqual(
            result.problems.map((problem) => `${problem.path}: ${problem.message}`),
            [
                `aks-workload-identity-bootstrap:github.owner: invalid GitHub owner. Allowed values are a user or organization name: 1 to 39 letters, digits and single '-' (got "-fabrikam").`,
                'aks-workload-identity-bootstrap:stateStorageAccountName: invalid storage account name. Allowed values are 3 to 24 lower-case letters and digits, unique across Azure (got "St_Fabrikam").',
                "aks-workload-identity-bootstrap:operators: no operators. Name at least one Entra ID user or group (objectId, principalType) that may read and write the team state: it runs `pulumi stack init` and the break-glass commands.",
                'aks-workload-identity-bootstrap:stateStorageAcount: unknown key "stateStorageAcount". Did you mean "stateStorageAccountName"? Allowed keys are: location, subscriptionId, tenantId, github, resourceGroupName, stateStorageAccountName, stateStorageSku, stateRetentionDays, keyVaultName, environments, pullRequest, operators, microsoftGraphServicePrincipalObjectId, runsOn, tags.',
                'aks-workload-identity-bootstrap:environments[1].name: environment "qa" is also environments[0]; each environment has one identity, one state container and one key.',
                'aks-workload-identity-bootstrap:environments[1].stack: stack "qa" is also the stack of environments[0]; two pipelines must not deploy one stack.',
                `aks-workload-identity-bootstrap:environments[1]: Pulumi.qa.yaml deploys into resource group "rg-qa", as environments[0] does; each environment's pipeline identity owns one resource group of its own.`,
                `aks-workload-identity-bootstrap:environments[2].name: invalid environment name. Allowed values are 1 to 16 lower-case letters and digits, single '-' between them (it names a GitHub environment and the state container state-<name>) (got "Live").`,
                `aks-workload-identity-bootstrap:environments[3].stackFile: no stack file at ${path.join(directory, "Pulumi.ghost.yaml")}. Each environment deploys a stack of the main program; give stackFile, or a stack whose Pulumi.<stack>.yaml is in the repository root.`,
                'aks-workload-identity-bootstrap:environments[4].federations.github: the key "github" is the bootstrap\'s own GitHub federation; choose another key (e.g. azure-devops).',
                'aks-workload-identity-bootstrap:pullRequest.environment: unknown environment "qq". Did you mean "qa"? Allowed values are: qa, ghost.',
            ],
        );

        // The program reads the same config through the Pulumi runtime, relative to the repository root.
        const fromRepository = parseBootstrapConfig(raw(config));
        assert.ok("problems" in fromRepository, "the bootstrap config read relative to the repository root is refused with problems");
        assert.equal(fromRepository.problems.length, 11);
        await assert.rejects(runBootstrap(flat(config)), (error: Error) => {
            assert.equal(error.name, "BootstrapConfigError");
            assert.equal(error.message, formatBootstrapProblems(fromRepository.problems));
            assert.match(error.message, /^Invalid bootstrap config \(11 problems\); nothing was created:\n/);
            return true;
        });
        assert.deepEqual(
            (lastRun()?.resources ?? []).map((resource) => resource.type),
            ["pulumi:pulumi:Stack"],
            "nothing but the stack itself was registered",
        );
    });

    it("refuses what would widen a pipeline: a subscription-wide workload scope, a stack in the bootstrap's group, application workloads without Graph", () => {
        writeStack("wide", {
            "azure-native:location": "northeurope",
            "aks-workload-identity:resourceGroupName": "rg-fabrikam-bootstrap",
            "aks-workload-identity:clusters": { main: cluster({ adminGroupObjectIds: [ADMINS], allowPublicApiServer: true }) },
            "aks-workload-identity:workloads": {
                api: { namespace: "api", principal: "application", roleAssignments: { all: { role: "Reader", scope: `/subscriptions/${SUBSCRIPTION}` } } },
            },
            "aks-workload-identity:applicationOwners": [LIVE_OWNER],
        });
        const config = bootstrapConfig({ "aks-workload-identity-bootstrap:environments": [{ name: "wide", stackFile: path.join(directory, "Pulumi.wide.yaml") }] });
        delete config["aks-workload-identity-bootstrap:microsoftGraphServicePrincipalObjectId"];
        delete config["aks-workload-identity-bootstrap:pullRequest"];
        const result = parseBootstrapConfig(raw(config), { repositoryRoot: directory });
        assert.ok("problems" in result, "the bootstrap config is refused with problems");
        assert.deepEqual(
            result.problems.map((problem) => `${problem.path}: ${problem.message}`),
            [
                `aks-workload-identity-bootstrap:environments[0]: Pulumi.wide.yaml deploys into "rg-fabrikam-bootstrap", the bootstrap's own resource group (state, keys, pipeline identities); a pipeline must not be able to change its own identity. Use another resource group.`,
                `aks-workload-identity-bootstrap:environments[0]: Pulumi.wide.yaml: workloads.api.roleAssignments.all.scope "/subscriptions/${SUBSCRIPTION}" is a subscription; the pipeline identity would need Role Based Access Control Administrator there, which reaches far beyond its environment. Narrow the scope to a resource group or a resource, or make that assignment outside the pipeline.`,
                "aks-workload-identity-bootstrap:microsoftGraphServicePrincipalObjectId: required: environments wide have principal: application workloads, so their pipeline identities need Microsoft Graph's Application.ReadWrite.OwnedBy. Give the object ID of Microsoft Graph's service principal in your tenant: az ad sp show --id 00000003-0000-0000-c000-000000000000 --query id -o tsv",
            ],
        );
    });

    it("refuses a workload role that can itself assign roles: the pipeline would be allowed to hand it out", () => {
        writeStack("owner", {
            "azure-native:location": "northeurope",
            "aks-workload-identity:resourceGroupName": "rg-owner",
            "aks-workload-identity:clusters": { main: cluster({ adminGroupObjectIds: [ADMINS], authorizedIpRanges: ["203.0.113.0/24"] }) },
            "aks-workload-identity:workloads": {
                api: {
                    namespace: "api",
                    roleAssignments: {
                        own: { role: "Owner", scope: `${DATA}/providers/Microsoft.Storage/storageAccounts/stdata` },
                        grant: { role: "f58310d9-a9f6-439a-9e8d-f62e7b41a168", scope: `${DATA}/providers/Microsoft.Storage/storageAccounts/stdata` },
                        fine: { role: "Storage Blob Data Reader", scope: `${DATA}/providers/Microsoft.Storage/storageAccounts/stdata` },
                    },
                },
            },
        });
        const config = bootstrapConfig({ "aks-workload-identity-bootstrap:environments": [{ name: "owner", stackFile: "Pulumi.owner.yaml" }] });
        delete config["aks-workload-identity-bootstrap:pullRequest"];
        const result = parseBootstrapConfig(raw(config), { repositoryRoot: directory });
        assert.ok("problems" in result, "refused");
        assert.deepEqual(
            result.problems.map((problem) => `${problem.path}: ${problem.message}`),
            [
                'aks-workload-identity-bootstrap:environments[0]: Pulumi.owner.yaml: workloads.api.roleAssignments.own.role "Owner" can itself assign roles; a pipeline allowed to hand it out could make itself Owner of the scope. Make that assignment outside the pipeline.',
                'aks-workload-identity-bootstrap:environments[0]: Pulumi.owner.yaml: workloads.api.roleAssignments.grant.role "f58310d9-a9f6-439a-9e8d-f62e7b41a168" can itself assign roles; a pipeline allowed to hand it out could make itself Owner of the scope. Make that assignment outside the pipeline.',
            ],
        );
    });

    it("grants what an adopted cluster needs, on that cluster only: its lookup and kubeconfig, Kubernetes objects, and its clusterAdmins", async () => {
        writeStack("adopt", {
            "azure-native:location": "northeurope",
            "aks-workload-identity:resourceGroupName": "rg-adopt",
            "aks-workload-identity:clusters": {
                shared: { existing: { name: "aks-shared", resourceGroupName: "rg-platform" }, clusterAdmins: { ops: { objectId: ADMINS, principalType: "Group" } } },
            },
            "aks-workload-identity:workloads": { api: { namespace: "api" } },
        });
        const config = bootstrapConfig({ "aks-workload-identity-bootstrap:environments": [{ name: "adopt", stackFile: path.join(directory, "Pulumi.adopt.yaml") }] });
        delete config["aks-workload-identity-bootstrap:pullRequest"];
        delete config["aks-workload-identity-bootstrap:microsoftGraphServicePrincipalObjectId"];
        const run = await runBootstrap(flat(config));
        const clusterId = `${group("rg-platform")}/providers/Microsoft.ContainerService/managedClusters/aks-shared`;
        assert.deepEqual(grantsOf(run.resources, placeholderPrincipalId("id-platform-infra-deploy-adopt")), [
            `Azure Kubernetes Service Cluster User Role @ ${clusterId}`,
            `Azure Kubernetes Service RBAC Cluster Admin @ ${clusterId}`,
            `Contributor @ ${group("rg-adopt")}`,
            `Key Vault Crypto User @ ${vault}/keys/pulumi-adopt`,
            `Role Based Access Control Administrator @ ${clusterId} [only Azure Kubernetes Service RBAC Cluster Admin]`,
            `Storage Blob Data Contributor @ ${account}/blobServices/default/containers/state-adopt`,
        ]);
        assert.deepEqual(ofType(run.resources, T.groupMember), [], "an adopted cluster's admin groups are not the stack's to join");
        assert.deepEqual(ofType(run.resources, "azure-native:authorization:RoleDefinition"), [], "no custom role is needed");
    });

    it("reports a stack file's own problems through the main program's parser", () => {
        writeStack("broken", {
            "azure-native:location": "northeurope",
            "aks-workload-identity:resourceGroupName": "rg-broken",
            "aks-workload-identity:clusters": { main: cluster({ adminGroupObjectIds: [ADMINS], authorizedIpRanges: ["203.0.113.0/24"] }) },
            "aks-workload-identity:kubeloginMode": "browser",
        });
        const config = bootstrapConfig({ "aks-workload-identity-bootstrap:environments": [{ name: "broken", stackFile: "Pulumi.broken.yaml" }] });
        delete config["aks-workload-identity-bootstrap:pullRequest"];
        const result = parseBootstrapConfig(raw(config), { repositoryRoot: directory });
        assert.ok("problems" in result, "the bootstrap config is refused with problems");
        assert.deepEqual(
            result.problems.map((problem) => `${problem.path}: ${problem.message}`),
            [
                'aks-workload-identity-bootstrap:environments[0]: Pulumi.broken.yaml: aks-workload-identity:kubeloginMode: invalid value "browser". Allowed values are: azurecli, workloadidentity, spn.',
            ],
        );
    });
});
