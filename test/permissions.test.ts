import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
// The runner installs the mocks before it runs the program.
import { PROJECT_ROOT, loadStackFile, runCommittedStack, runStack, stackFilePath, type RecordedResource, type RunResult } from "../testing/mock-runner";
import { ofType } from "../testing/graph";
import { parseBootstrapConfig, rawBootstrapConfig } from "../bootstrap/config";
import { pipelineGrantsFor, type PipelineGrants, type RoleGrant } from "../bootstrap/grants";
import { readStackFile } from "../stacks/config-problems";
import {
    actionMatches,
    BootstrapGrantsError,
    DEFAULT_BOOTSTRAP_CONFIG,
    permissionEntries,
    permits,
    pipelineGrants,
    renderPermissionsMarkdown,
    renderPermissionsText,
    type PermissionEntry,
} from "../plan/permissions";
import { BUILT_IN_ROLE_PERMISSIONS } from "../bootstrap/role-definitions";
import { TYPES } from "../policy/resource-types";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";
const rg = (name: string): string => `${SUB}/resourceGroups/${name}`;
const cluster = (environment: string, name = `aks-main-${environment}`): string => `${rg(`rg-workload-identity-${environment}`)}/providers/Microsoft.ContainerService/managedClusters/${name}`;
const APPLICATION: string = TYPES.application;
const SERVICE_PRINCIPAL: string = TYPES.servicePrincipal;
const STAGING_PIPELINE = "33333333-3333-3333-3333-333333333333";
const RERUN = "The bootstrap grants what the committed stack files need: commit the change, re-run the bootstrap (bootstrap/, an operator), then deploy.";

/** `<status> <resource> <action> <scope> <- <grant key>`: one comparable line per entry. */
function line(entry: PermissionEntry): string {
    return `${entry.status} ${entry.resource} ${entry.action} ${entry.scope}${entry.grant === undefined ? "" : ` <- ${entry.grant.split(" (")[0]}`}`;
}

function lines(entries: readonly PermissionEntry[]): string[] {
    return entries.map(line).sort();
}

function missing(entries: readonly PermissionEntry[]): PermissionEntry[] {
    return entries.filter((entry) => entry.status === "missing");
}

/** The ownership entries of app registrations (defect 1): open until the stack passes owners. */
const isOwnership = (entry: PermissionEntry): boolean => entry.action === "owner (owners)";

/** Whether the stack already passes `owners` to every Application and ServicePrincipal (issue 11 #1, stack side). */
function passesOwners(run: RunResult): boolean {
    return [...ofType(run.resources, APPLICATION), ...ofType(run.resources, SERVICE_PRINCIPAL)].every((resource) => "owners" in resource.inputs);
}

/** The run with `owners` set on every Application and ServicePrincipal, as the stack side will pass them. */
function withOwners(run: RunResult, owners: string[]): RunResult {
    return {
        ...run,
        resources: run.resources.map((resource) =>
            resource.type === APPLICATION || resource.type === SERVICE_PRINCIPAL ? { ...resource, inputs: { ...resource.inputs, owners } } : resource,
        ),
    };
}

function withResource(run: RunResult, resource: Partial<RecordedResource> & Pick<RecordedResource, "type" | "name">): RunResult {
    const full: RecordedResource = {
        urn: `urn:pulumi:test::aks-workload-identity::${resource.type}::${resource.name}`,
        parent: undefined,
        custom: true,
        provider: undefined,
        inputs: {},
        state: {},
        dependencies: [],
        propertyDependencies: {},
        protect: false,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        ...resource,
    };
    return { ...run, resources: [...run.resources, full] };
}

function exampleBootstrap() {
    const result = parseBootstrapConfig(rawBootstrapConfig(readStackFile(DEFAULT_BOOTSTRAP_CONFIG).config));
    assert.ok("config" in result, "the example bootstrap config parses");
    return result.config;
}

/**
 * The grants the bootstrap declared before issue 11 #2: state, key, Contributor, and RBAC
 * Administrator on the resource group and on the workloads' roleAssignments scopes only, with the
 * all-but-privileged condition (modelled unconditioned, which only makes the old grants look
 * stronger), admin groups, Graph; no Key Vault scope, no Defender workspace, no registration.
 */
function oldGrants(grants: PipelineGrants, stack: string): PipelineGrants {
    const result = parseBootstrapConfig(rawBootstrapConfig(readStackFile(DEFAULT_BOOTSTRAP_CONFIG).config));
    assert.ok("config" in result, "the committed bootstrap config parses");
    const environment = result.config.environments.find((candidate) => candidate.stack === stack);
    assert.ok(environment, stack);
    const group = rg(environment.resourceGroupName);
    const rbacAdministrator = grants.roles.find((grant) => grant.role.name === "Role Based Access Control Administrator")?.role;
    assert.ok(rbacAdministrator, "the new grants have an RBAC Administrator to copy the role from");
    const scopes = new Map<string, string>();
    for (const workload of Object.values(environment.stackConfig.workloads)) {
        for (const assignment of Object.values(workload.roleAssignments)) {
            if (!assignment.scope.toLowerCase().startsWith(group.toLowerCase())) {
                scopes.set(assignment.scope.toLowerCase(), assignment.scope);
            }
        }
    }
    const rbac = (key: string, scope: string): RoleGrant => ({ kind: "role", key, role: rbacAdministrator, scope, reasons: [], description: "old" });
    return {
        ...grants,
        roles: [
            ...grants.roles.filter((grant) => ["state", "secrets", "contributor"].includes(grant.key)),
            rbac("rbac-admin", group),
            ...[...scopes.values()].map((scope, index) => rbac(`rbac-admin-old-${index}`, scope)),
        ],
        registrations: [],
    };
}

describe("permission view: the committed stacks against the example bootstrap config", () => {
    const runs: Record<string, RunResult> = {};
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            runs[stack] = await runCommittedStack(stack);
        }
    });

    it("shows zero missing for dev, staging and prod (the app registrations' ownership once the stack passes owners)", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const entries = permissionEntries(runs[stack], pipelineGrants(stack));
            assert.ok(entries.length > 15, `${stack} has entries`);
            // The stack passes aks-workload-identity:applicationOwners as owners (issue 11 #1, stack side).
            assert.equal(passesOwners(runs[stack]), true, `${stack} passes owners to every app registration and service principal`);
            assert.deepEqual(lines(missing(entries)), [], stack);
        }
    });

    it("lists what a deploy of dev does and the grant that covers each, exactly", () => {
        const identity = (name: string): string => `${rg("rg-workload-identity-dev")}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
        const admins = "admins-11111111-1111-1111-1111-111111111111";
        assert.deepEqual(lines(permissionEntries(runs.dev, pipelineGrants("dev"))), [
            `granted main-aks Microsoft.Compute/register/action ${SUB} <- one-time registration by an operator`,
            `granted main-aks Microsoft.ContainerService/managedClusters/write ${cluster("dev")} <- contributor`,
            `granted main-aks Microsoft.ContainerService/register/action ${SUB} <- one-time registration by an operator`,
            `granted main-aks Microsoft.Network/register/action ${SUB} <- one-time registration by an operator`,
            `granted main-aks Microsoft.PolicyInsights/register/action ${SUB} <- one-time registration by an operator`,
            `granted main-k8s Microsoft.ContainerService/managedClusters/listClusterUserCredential/action ${cluster("dev")} <- contributor`,
            `granted main-ns-orders Microsoft.ContainerService/managedClusters/namespaces/write ${cluster("dev")} <- ${admins}`,
            `granted main-rbac-ready Microsoft.ContainerService/managedClusters/authorization.k8s.io/selfsubjectaccessreviews/write ${cluster("dev")} <- system:basic-user`,
            `granted main-rbac-ready Microsoft.ContainerService/managedClusters/listClusterUserCredential/action ${cluster("dev")} <- contributor`,
            `granted orders-api-fic-main Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write ${identity("id-orders-api-dev")}/federatedIdentityCredentials/fic-main <- contributor`,
            `granted orders-api-id Microsoft.ManagedIdentity/register/action ${SUB} <- one-time registration by an operator`,
            `granted orders-api-id Microsoft.ManagedIdentity/userAssignedIdentities/write ${identity("id-orders-api-dev")} <- contributor`,
            `granted orders-api-quickstart-main Microsoft.ContainerService/managedClusters/batch/jobs/write ${cluster("dev")}/namespaces/orders <- ${admins}`,
            `granted orders-api-ra-keyvault-secrets Microsoft.Authorization/roleAssignments/write ${rg("rg-data-dev")}/providers/Microsoft.KeyVault/vaults/kv-orders-dev <- rbac-admin-87d9eab2`,
            `granted orders-api-sa-main Microsoft.ContainerService/managedClusters/serviceaccounts/write ${cluster("dev")}/namespaces/orders <- ${admins}`,
            `granted orders-api-spc-main Microsoft.ContainerService/managedClusters/secrets-store.csi.x-k8s.io/secretproviderclasses/write ${cluster("dev")}/namespaces/orders <- ${admins}`,
            `granted reports-fic-main Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write ${identity("id-reports-dev")}/federatedIdentityCredentials/fic-main <- contributor`,
            `granted reports-id Microsoft.ManagedIdentity/userAssignedIdentities/write ${identity("id-reports-dev")} <- contributor`,
            `granted reports-ra-blobs Microsoft.Authorization/roleAssignments/write ${rg("rg-data-dev")}/providers/Microsoft.Storage/storageAccounts/stordersdev <- rbac-admin-1240bebc`,
            `granted reports-sa-main Microsoft.ContainerService/managedClusters/serviceaccounts/write ${cluster("dev")}/namespaces/orders <- ${admins}`,
            `granted resource-group Microsoft.Resources/subscriptions/resourceGroups/write ${rg("rg-workload-identity-dev")} <- contributor`,
        ]);
    });

    it("names the source of every entry, the grant of each granted one and what to do for each missing one", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            for (const entry of permissionEntries(runs[stack], pipelineGrants(stack))) {
                assert.notEqual(entry.source, "", `${stack} ${entry.resource}`);
                if (entry.status === "granted") {
                    assert.ok(entry.grant !== undefined && entry.hint === undefined, `${stack} ${line(entry)} names its grant`);
                } else {
                    assert.ok(entry.grant === undefined && entry.hint !== undefined && entry.hint.length > 40, `${stack} ${line(entry)} says what to do`);
                }
            }
        }
    });

    it("shows staging's clusterAdmins, Defender workspace and Key Vault assignments granted by exactly the new grants", () => {
        const entries = permissionEntries(runs.staging, pipelineGrants("staging"));
        const workspace = `${rg("rg-monitoring-staging")}/providers/Microsoft.OperationalInsights/workspaces/log-platform-staging`;
        assert.deepEqual(
            lines(entries.filter((entry) => ["main-aks", "main-admin-pipeline", "orders-api-ra-secrets", "payments-ra-secrets"].includes(entry.resource) && !entry.action.endsWith("/register/action"))),
            [
                `granted main-admin-pipeline Microsoft.Authorization/roleAssignments/write ${cluster("staging")} <- rbac-admin`,
                `granted main-aks Microsoft.ContainerService/managedClusters/write ${cluster("staging")} <- contributor`,
                `granted main-aks Microsoft.OperationalInsights/workspaces/read ${workspace} <- link-workspace-7186080a`,
                `granted main-aks Microsoft.OperationalInsights/workspaces/sharedKeys/read ${workspace} <- link-workspace-7186080a`,
                `granted orders-api-ra-secrets Microsoft.Authorization/roleAssignments/write ${rg("rg-data-staging")}/providers/Microsoft.KeyVault/vaults/kv-orders-staging <- rbac-admin-ed65bc23`,
                `granted payments-ra-secrets Microsoft.Authorization/roleAssignments/write ${rg("rg-data-staging")}/providers/Microsoft.KeyVault/vaults/kv-payments-staging <- rbac-admin-a5f6308e`,
            ],
        );
    });
});

describe("permission view: defect 2 (issue 11) against the grants the bootstrap used to declare", () => {
    let dev: RunResult;
    let staging: RunResult;
    before(async () => {
        dev = await runCommittedStack("dev");
        staging = await runCommittedStack("staging");
    });

    it("reports the keyVault assignment scope and the provider registrations of dev as missing", () => {
        const entries = permissionEntries(dev, oldGrants(pipelineGrants("dev"), "dev"));
        assert.deepEqual(lines(missing(entries)), [
            `missing main-aks Microsoft.Compute/register/action ${SUB}`,
            `missing main-aks Microsoft.ContainerService/register/action ${SUB}`,
            `missing main-aks Microsoft.Network/register/action ${SUB}`,
            `missing main-aks Microsoft.PolicyInsights/register/action ${SUB}`,
            `missing orders-api-id Microsoft.ManagedIdentity/register/action ${SUB}`,
            `missing orders-api-ra-keyvault-secrets Microsoft.Authorization/roleAssignments/write ${rg("rg-data-dev")}/providers/Microsoft.KeyVault/vaults/kv-orders-dev`,
        ]);
        const keyVault = entries.find((entry) => entry.resource === "orders-api-ra-keyvault-secrets");
        assert.equal(
            keyVault?.hint,
            `No Role Based Access Control Administrator of the dev deploy identity covers ${rg("rg-data-dev")}/providers/Microsoft.KeyVault/vaults/kv-orders-dev, so it cannot assign Key Vault Secrets User there. ${RERUN}`,
        );
    });

    it("reports staging's Defender workspace link as missing: the linked authorization check of every cluster write", () => {
        const workspace = `${rg("rg-monitoring-staging")}/providers/Microsoft.OperationalInsights/workspaces/log-platform-staging`;
        const entries = permissionEntries(staging, oldGrants(pipelineGrants("staging"), "staging"));
        assert.deepEqual(
            lines(missing(entries).filter((entry) => !isOwnership(entry) && !entry.action.endsWith("/register/action"))),
            [`missing main-aks Microsoft.OperationalInsights/workspaces/read ${workspace}`, `missing main-aks Microsoft.OperationalInsights/workspaces/sharedKeys/read ${workspace}`],
        );
        assert.equal(
            entries.find((entry) => entry.action === "Microsoft.OperationalInsights/workspaces/sharedKeys/read")?.hint,
            `No grant of the staging deploy identity allows Microsoft.OperationalInsights/workspaces/sharedKeys/read on ${workspace}. ${RERUN}`,
        );
    });

    it("turns exactly the covered entries missing when one new grant is taken away", () => {
        const grants = pipelineGrants("staging");
        const without = (key: string): PipelineGrants => ({ ...grants, roles: grants.roles.filter((grant) => grant.key !== key) });
        const before = lines(permissionEntries(staging, grants));
        const after = lines(permissionEntries(staging, without("link-workspace-7186080a")));
        const changed = after.filter((entry) => !before.includes(entry));
        const workspace = `${rg("rg-monitoring-staging")}/providers/Microsoft.OperationalInsights/workspaces/log-platform-staging`;
        assert.deepEqual(changed, [`missing main-aks Microsoft.OperationalInsights/workspaces/read ${workspace}`, `missing main-aks Microsoft.OperationalInsights/workspaces/sharedKeys/read ${workspace}`]);
    });
});

describe("permission view: defect 1 (issue 11), app registrations and their owners", () => {
    let staging: RunResult;
    before(async () => {
        staging = await runCommittedStack("staging");
    });

    const ownership = (entries: readonly PermissionEntry[]): string[] => lines(entries.filter(isOwnership));

    it("reports an Application and ServicePrincipal without owners as missing, naming aks-workload-identity:applicationOwners", () => {
        const entries = permissionEntries(withOwners(staging, []), pipelineGrants("staging"));
        assert.deepEqual(ownership(entries), [
            "missing payments-app owner (owners) application app-payments-staging",
            "missing payments-fic-main owner (owners) application app-payments-staging",
            "missing payments-sp owner (owners) application app-payments-staging",
            "missing payments-sp owner (owners) service principal of app-payments-staging",
        ]);
        assert.equal(
            entries.find((entry) => entry.resource === "payments-app" && isOwnership(entry))?.hint,
            "owners is empty: with Application.ReadWrite.OwnedBy the azuread provider removes the caller from the owners of what it creates, and every later write gets 403. Set aks-workload-identity:applicationOwners in the stack file to exactly the staging deploy identity's object ID (bootstrap output applicationOwners).",
        );
        assert.equal(
            lines(entries.filter((entry) => entry.action === "Microsoft Graph Application.ReadWrite.OwnedBy")).join("\n"),
            [
                "granted payments-app Microsoft Graph Application.ReadWrite.OwnedBy Microsoft Graph /applications <- graph-applications",
                "granted payments-sp Microsoft Graph Application.ReadWrite.OwnedBy Microsoft Graph /servicePrincipals <- graph-applications",
            ].join("\n"),
        );
    });

    it("grants ownership when owners is exactly the deploy identity the bootstrap config records", () => {
        // The committed staging stack passes aks-workload-identity:applicationOwners as they are.
        assert.deepEqual(
            [...ofType(staging.resources, APPLICATION), ...ofType(staging.resources, SERVICE_PRINCIPAL)].map((resource) => [resource.name, resource.inputs.owners]),
            [
                ["payments-app", [STAGING_PIPELINE]],
                ["payments-sp", [STAGING_PIPELINE]],
            ],
        );
        const entries = permissionEntries(staging, pipelineGrants("staging"));
        assert.deepEqual(ownership(entries), [
            `granted payments-app owner (owners) application app-payments-staging <- owners ${STAGING_PIPELINE}`,
            `granted payments-fic-main owner (owners) application app-payments-staging <- owners ${STAGING_PIPELINE}`,
            `granted payments-sp owner (owners) application app-payments-staging <- owners ${STAGING_PIPELINE}`,
            `granted payments-sp owner (owners) service principal of app-payments-staging <- owners ${STAGING_PIPELINE}`,
        ]);
        assert.deepEqual(lines(missing(entries)), [], "nothing else is missing on staging");
    });

    it("refuses owners that are not the deploy identity, and any second owner (OwnedBy cannot add one)", () => {
        const other = "99999999-9999-9999-9999-999999999999";
        const wrong = permissionEntries(withOwners(staging, [other]), pipelineGrants("staging")).find((entry) => entry.resource === "payments-app" && isOwnership(entry));
        assert.equal(
            wrong?.hint,
            `owners ${other} does not include the deploy identity ${STAGING_PIPELINE} (bootstrap config environments[].principalId). Set aks-workload-identity:applicationOwners in the stack file to exactly the staging deploy identity's object ID (bootstrap output applicationOwners).`,
        );
        const two = permissionEntries(withOwners(staging, [STAGING_PIPELINE, other]), pipelineGrants("staging")).find((entry) => entry.resource === "payments-app" && isOwnership(entry));
        assert.equal(two?.status, "missing");
        assert.equal(
            two?.hint,
            "owners lists 2 principals: Application.ReadWrite.OwnedBy cannot add an owner other than the caller (that needs Application.ReadWrite.All). Set aks-workload-identity:applicationOwners in the stack file to exactly the staging deploy identity's object ID (bootstrap output applicationOwners).",
        );
    });

    it("without a recorded principalId, accepts one owner and says how to check it", () => {
        const grants = { ...pipelineGrants("staging"), principalId: undefined };
        const entry = permissionEntries(withOwners(staging, ["abababab-0000-0000-0000-000000000000"]), grants).find((candidate) => candidate.resource === "payments-app" && isOwnership(candidate));
        assert.equal(entry?.status, "granted");
        assert.equal(entry?.grant, "owners abababab-0000-0000-0000-000000000000 (aks-workload-identity:applicationOwners; record environments[].principalId in the bootstrap config to check it is the deploy identity)");
    });

    it("reports the Graph permission missing when the bootstrap grants none", () => {
        const entries = permissionEntries(withOwners(staging, [STAGING_PIPELINE]), { ...pipelineGrants("staging"), graph: [] });
        assert.deepEqual(lines(missing(entries)), [
            "missing payments-app Microsoft Graph Application.ReadWrite.OwnedBy Microsoft Graph /applications",
            "missing payments-sp Microsoft Graph Application.ReadWrite.OwnedBy Microsoft Graph /servicePrincipals",
        ]);
    });
});

describe("permission view: Kubernetes RBAC", () => {
    let staging: RunResult;
    before(async () => {
        staging = await runCommittedStack("staging");
    });

    it("grants the Kubernetes objects through the stack's own clusterAdmins entry when it names the deploy identity, else reports them missing", () => {
        const grants = { ...pipelineGrants("staging"), groups: [] };
        const objects = (entries: readonly PermissionEntry[]): string[] => lines(entries.filter((entry) => entry.type.startsWith("kubernetes:")));
        assert.deepEqual(objects(permissionEntries(staging, grants)), [
            `granted main-ns-orders Microsoft.ContainerService/managedClusters/namespaces/write ${cluster("staging")} <- the stack's own main-admin-pipeline`,
            `granted main-ns-payments Microsoft.ContainerService/managedClusters/namespaces/write ${cluster("staging")} <- the stack's own main-admin-pipeline`,
            `granted orders-api-sa-main Microsoft.ContainerService/managedClusters/serviceaccounts/write ${cluster("staging")}/namespaces/orders <- the stack's own main-admin-pipeline`,
            `granted payments-sa-main Microsoft.ContainerService/managedClusters/serviceaccounts/write ${cluster("staging")}/namespaces/payments <- the stack's own main-admin-pipeline`,
        ]);
        const unknown = permissionEntries(staging, { ...grants, principalId: undefined }).filter((entry) => entry.type.startsWith("kubernetes:"));
        assert.deepEqual(
            unknown.map((entry) => entry.status),
            ["missing", "missing", "missing", "missing"],
        );
        assert.equal(
            unknown[0].hint,
            `The staging deploy identity has no Kubernetes RBAC on ${cluster("staging")}: give the cluster an adminGroupObjectIds group (the bootstrap adds the identity to it), or list the identity in clusterAdmins. ${RERUN}`,
        );
    });

    it("names the patch of an existing ServiceAccount as such", async () => {
        // createServiceAccount: false alone creates nothing; annotateExistingServiceAccount patches the chart's.
        const config = loadStackFile(stackFilePath("staging"));
        const workloads = JSON.parse(config["aks-workload-identity:workloads"]) as Record<string, Record<string, unknown>>;
        assert.equal(workloads.ingest.createServiceAccount, false, "staging's ingest uses the chart's ServiceAccount");
        assert.equal(
            permissionEntries(staging, pipelineGrants("staging")).some((entry) => entry.resource === "ingest-sa-main"),
            false,
            "the committed staging stack registers no ServiceAccount for ingest",
        );
        workloads.ingest.annotateExistingServiceAccount = true;
        const annotated = await runStack({ stack: "staging", config: { ...config, "aks-workload-identity:workloads": JSON.stringify(workloads) } });
        const patch = permissionEntries(annotated, pipelineGrants("staging")).find((entry) => entry.resource === "ingest-sa-main");
        assert.equal(patch?.type, "kubernetes:core/v1:ServiceAccountPatch");
        assert.equal(patch?.operation, "patch ServiceAccount ingest/ingest-chart");
        assert.equal(patch?.grant, "admins-22222222-2222-2222-2222-222222222222 (member of admin group 22222222-2222-2222-2222-222222222222: cluster-admin)");
    });
});

describe("permission view: a changed stack file before the bootstrap is re-run (the pull-request question)", () => {
    it("reports a new role at a granted scope as outside the ABAC condition, and a new scope as uncovered", async () => {
        const config = loadStackFile(stackFilePath("dev"));
        const workloads = JSON.parse(config["aks-workload-identity:workloads"]) as Record<string, { roleAssignments?: Record<string, unknown> }>;
        workloads["orders-api"].roleAssignments = {
            officer: { role: "Key Vault Secrets Officer", scope: `${rg("rg-data-dev")}/providers/Microsoft.KeyVault/vaults/kv-orders-dev` },
            fresh: { role: "Storage Blob Data Reader", scope: `${rg("rg-data-dev")}/providers/Microsoft.Storage/storageAccounts/stnewdev` },
        };
        const run = await runStack({ stack: "dev", config: { ...config, "aks-workload-identity:workloads": JSON.stringify(workloads) } });
        const entries = missing(permissionEntries(run, pipelineGrants("dev")));
        assert.deepEqual(
            entries.map((entry) => [entry.resource, entry.hint]),
            [
                [
                    "orders-api-ra-officer",
                    `The ABAC condition of rbac-admin-87d9eab2 allows only Key Vault Secrets User, not Key Vault Secrets Officer. ${RERUN}`,
                ],
                [
                    "orders-api-ra-fresh",
                    `No Role Based Access Control Administrator of the dev deploy identity covers ${rg("rg-data-dev")}/providers/Microsoft.Storage/storageAccounts/stnewdev, so it cannot assign Storage Blob Data Reader there. ${RERUN}`,
                ],
            ],
        );
    });
});

describe("permission view: table entries beyond the committed stacks", () => {
    let dev: RunResult;
    before(async () => {
        dev = await runCommittedStack("dev");
    });

    it("checks a subnet the cluster brings, and grants it with the bootstrap's join-subnet role once the stack file names it", async () => {
        const subnet = `${rg("rg-network")}/providers/Microsoft.Network/virtualNetworks/vnet-dev/subnets/aks`;
        // clusters.main.network.vnetSubnetId: the nodes join the subnet, and the cluster's own
        // identity gets Network Contributor on it (main-subnet-network).
        const config = loadStackFile(stackFilePath("dev"));
        const clusters = JSON.parse(config["aks-workload-identity:clusters"]) as Record<string, Record<string, unknown>>;
        clusters.main.network = { vnetSubnetId: subnet };
        const withAssignment = await runStack({ stack: "dev", config: { ...config, "aks-workload-identity:clusters": JSON.stringify(clusters) } });
        assert.deepEqual(
            ofType(withAssignment.resources, "azure-native:authorization:RoleAssignment")
                .filter((assignment) => assignment.inputs.scope === subnet)
                .map((assignment) => [assignment.name, String(assignment.inputs.roleDefinitionId).split("/").pop()]),
            [["main-subnet-network", "4d97b98b-1d4f-4787-a291-c67834d212e7"]],
        );
        const join = (entries: readonly PermissionEntry[]): string[] => lines(entries.filter((entry) => entry.scope === subnet));
        assert.deepEqual(join(permissionEntries(withAssignment, pipelineGrants("dev"))), [
            `missing main-aks Microsoft.Network/virtualNetworks/subnets/join/action ${subnet}`,
            `missing main-subnet-network Microsoft.Authorization/roleAssignments/write ${subnet}`,
        ]);

        // The same stack file with clusters.main.network.vnetSubnetId (the config key the stack side adds).
        const bootstrap = exampleBootstrap();
        const environment = bootstrap.environments[0];
        const main = environment.stackConfig.clusters.main;
        const withSubnet = { ...environment, stackConfig: { ...environment.stackConfig, clusters: { main: { ...main, network: { vnetSubnetId: subnet, privateDnsZone: "system" } } } } };
        const grants = pipelineGrantsFor(bootstrap, withSubnet);
        assert.deepEqual(join(permissionEntries(withAssignment, grants)), [
            `granted main-aks Microsoft.Network/virtualNetworks/subnets/join/action ${subnet} <- join-subnet-82677079`,
            `granted main-subnet-network Microsoft.Authorization/roleAssignments/write ${subnet} <- rbac-admin-82677079`,
        ]);
        assert.deepEqual(
            grants.roles.filter((grant) => grant.scope === subnet).map((grant) => [grant.key, grant.role.name, grant.allowedRoleIds, grant.reasons]),
            [
                ["rbac-admin-82677079", "Role Based Access Control Administrator", ["4d97b98b-1d4f-4787-a291-c67834d212e7"], ["clusters.main.network.vnetSubnetId"]],
                ["join-subnet-82677079", "Deploy pipeline: put an AKS cluster's nodes into a subnet (bring your own subnet) (subscription 00000000-0000-0000-0000-000000000000)", undefined, ["clusters.main.network.vnetSubnetId"]],
            ],
        );
    });

    it("knows identity bindings from one table entry: the binding on the cluster, AKS's credential on the identity", () => {
        const identity = `${rg("rg-workload-identity-dev")}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-api-dev`;
        const elsewhere = `${rg("rg-shared")}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared`;
        const binding = (name: string, resourceId: string) => ({
            type: "azure-native:containerservice:IdentityBinding",
            name,
            inputs: { resourceGroupName: "rg-workload-identity-dev", resourceName: "aks-main-dev", identityBindingName: name, properties: { managedIdentity: { resourceId } } },
        });
        const entries = permissionEntries(withResource(withResource(dev, binding("ordersapi", identity)), binding("shared", elsewhere)), pipelineGrants("dev"));
        assert.deepEqual(lines(entries.filter((entry) => entry.type === "azure-native:containerservice:IdentityBinding")), [
            `granted ordersapi Microsoft.ContainerService/managedClusters/identityBindings/write ${cluster("dev")}/identityBindings/ordersapi <- contributor`,
            `granted ordersapi Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write ${identity} <- contributor`,
            `granted shared Microsoft.ContainerService/managedClusters/identityBindings/write ${cluster("dev")}/identityBindings/shared <- contributor`,
            `missing shared Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write ${elsewhere}`,
        ]);
    });

    it("reports a resource type the table does not know as missing, naming the table", () => {
        const entries = permissionEntries(withResource(dev, { type: "azure-native:network:VirtualNetwork", name: "vnet" }), pipelineGrants("dev"));
        assert.deepEqual(missing(entries), [
            {
                resource: "vnet",
                type: "azure-native:network:VirtualNetwork",
                operation: "create or update",
                action: "(unknown: no entry in the permission table)",
                scope: "",
                status: "missing",
                hint: "No entry of REQUIREMENTS in plan/permissions.ts covers azure-native:network:VirtualNetwork: add one (its operations, actions and scopes, with the source) so the view can check it.",
                source: "plan/permissions.ts",
            },
        ]);
    });
});

describe("permission view: Azure RBAC evaluation", () => {
    const contributor = BUILT_IN_ROLE_PERMISSIONS["b24988ac-6180-42a0-ab88-20f7382dd24c"];
    const rbacAdministrator = BUILT_IN_ROLE_PERMISSIONS["f58310d9-a9f6-439a-9e8d-f62e7b41a168"];
    const clusterAdmin = BUILT_IN_ROLE_PERMISSIONS["b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"];
    const rbacAdmin = BUILT_IN_ROLE_PERMISSIONS["3498e952-d568-435e-9b2c-8d77e338d7f7"];

    it("matches wildcards across segments and case-insensitively", () => {
        assert.equal(actionMatches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write"), true);
        assert.equal(actionMatches("*/read", "Microsoft.OperationalInsights/workspaces/sharedKeys/read"), true);
        assert.equal(actionMatches("Microsoft.Network/virtualNetworks/subnets/read", "Microsoft.Network/virtualNetworks/subnets/join/action"), false);
    });

    it("applies NotActions and keeps the control and data planes apart", () => {
        assert.equal(permits(contributor, "Microsoft.ContainerService/managedClusters/write", "control"), true);
        assert.equal(permits(contributor, "Microsoft.Authorization/roleAssignments/write", "control"), false);
        assert.equal(permits(contributor, "Microsoft.ContainerService/managedClusters/serviceaccounts/write", "data"), false);
        assert.equal(permits(rbacAdministrator, "Microsoft.Authorization/roleAssignments/write", "control"), true);
        assert.equal(permits(rbacAdministrator, "Microsoft.ContainerService/managedClusters/write", "control"), false);
        assert.equal(permits(clusterAdmin, "Microsoft.ContainerService/managedClusters/namespaces/write", "data"), true);
        assert.equal(permits(rbacAdmin, "Microsoft.ContainerService/managedClusters/namespaces/write", "data"), false);
        assert.equal(permits(rbacAdmin, "Microsoft.ContainerService/managedClusters/serviceaccounts/write", "data"), true);
        assert.equal(permits(undefined, "Microsoft.ContainerService/managedClusters/write", "control"), false);
    });
});

describe("permission view: the bootstrap config it reads", () => {
    it("finds the environment by its stack, and says which stacks exist otherwise", () => {
        assert.equal(pipelineGrants("prod").identityName, "id-aks-workload-identity-deploy-prod");
        assert.throws(() => pipelineGrants("qa"), (error: Error) => {
            assert.equal(error instanceof BootstrapGrantsError, true);
            assert.equal(
                error.message,
                `The bootstrap config ${DEFAULT_BOOTSTRAP_CONFIG} has no environment that deploys stack "qa". Its environments deploy: dev (stack dev), staging (stack staging), prod (stack prod).`,
            );
            return true;
        });
        const absent = path.join(PROJECT_ROOT, "bootstrap", "Pulumi.absent.yaml");
        assert.throws(() => pipelineGrants("dev", absent), { name: "BootstrapGrantsError", message: `No bootstrap config at ${absent}.` });
    });

    it("reads another bootstrap config file, with every problem in one message", () => {
        assert.throws(() => pipelineGrants("dev", stackFilePath("dev")), (error: Error) => {
            assert.match(error.message, /^\/.*Pulumi\.dev\.yaml: Invalid bootstrap config \(\d+ problems\); nothing was created:\n {2}- /);
            return true;
        });
    });
});

describe("permission view: rendering", () => {
    const entries: PermissionEntry[] = [
        {
            resource: "main-aks",
            type: "azure-native:containerservice:ManagedCluster",
            operation: "create or update the cluster",
            action: "Microsoft.ContainerService/managedClusters/write",
            scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
            status: "granted",
            grant: "contributor (Contributor on /subscriptions/s/resourceGroups/rg)",
            source: "Azure RBAC docs",
        },
        {
            resource: "payments-app",
            type: APPLICATION,
            operation: "stay an owner",
            action: "owner (owners)",
            scope: "application app|x",
            status: "missing",
            hint: "Set applicationOwners.",
            source: "azuread docs",
        },
    ];

    it("prints text with the counts, one line per entry and the grant or the fix under it", () => {
        assert.equal(
            renderPermissionsText(entries, "Permissions of stack dev"),
            [
                "Permissions of stack dev: 1 granted, 1 missing",
                "  granted  main-aks: create or update the cluster: Microsoft.ContainerService/managedClusters/write on /subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
                "           by contributor (Contributor on /subscriptions/s/resourceGroups/rg)",
                "  MISSING  payments-app: stay an owner: owner (owners) on application app|x",
                "           Set applicationOwners.",
                "",
            ].join("\n"),
        );
    });

    it("prints a Markdown table, missing entries first, pipes escaped", () => {
        assert.equal(
            renderPermissionsMarkdown(entries),
            [
                "## Permissions",
                "",
                "1 granted, 1 missing.",
                "",
                "| status | resource | operation | action | scope | granted by / what to do |",
                "|---|---|---|---|---|---|",
                "| **missing** | `payments-app` | stay an owner | `owner (owners)` | `application app\\|x` | Set applicationOwners. |",
                "| granted | `main-aks` | create or update the cluster | `Microsoft.ContainerService/managedClusters/write` | `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks` | contributor (Contributor on /subscriptions/s/resourceGroups/rg) |",
                "",
            ].join("\n"),
        );
    });
});

describe("permission view: identity bindings (issue 14)", () => {
    it("needs identityBindings/write on the cluster and FIC write on the identity for each binding of prod, both granted", async () => {
        const run = await runCommittedStack("prod");
        const entries = permissionEntries(run, pipelineGrants("prod")).filter((e) => e.resource === "reports-ib-blue");
        const identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-workload-identity-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-reports-prod";
        assert.deepEqual(
            entries.map((e) => [e.action, e.scope, e.status]),
            [
                [
                    "Microsoft.ContainerService/managedClusters/identityBindings/write",
                    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-workload-identity-prod/providers/Microsoft.ContainerService/managedClusters/aks-blue-prod/identityBindings/reports",
                    "granted",
                ],
                ["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write", identity, "granted"],
            ],
        );
    });
});
