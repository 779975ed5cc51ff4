import { ipAddressProblem, networkProblems, networkRangeProblem, privateDnsZoneProblem, serviceCidrProblem, subnetIdProblem } from "./network-rules";
import type { ClusterNetworkArgs, NodePoolArgs, WorkloadIdentityArgs, WorkloadIdentityClusterArgs } from "./args";
import { formatProblems, known, knownArray } from "./inputs";
import { kubernetesVersionRefusal } from "./kubernetes-versions";
import { annotateExistingProblem, apiServerAccessProblem, clusterAdminsProblem, duplicateGrantProblems, privateClusterNetworkProblem, quickstartSecretProblem, workloadNamespaceProblem, reservedRoleAssignmentKeyProblem, systemPoolNameProblem, audiencesProblem, cidrProblem, federationIssuerProblem, ficNameClash, guidProblem, keyVaultIdProblem, keyVaultObjectNameProblem, locationProblem, namespaceProblem, poolCountsProblem, poolNameProblem, reservedNamespaceProblem, roleAssignmentProblems, serviceAccountNameProblem, tokenExpirationProblem } from "./rules";

/**
 * The components' own checks of their arguments, built from the pure rules in `./rules`: each
 * returns every problem as "<path>: <message>". Values known only at deploy time are skipped here
 * and checked where they resolve.
 */

export * from "./rules";
export { formatProblems, known, knownArray };

function prefixed(path: string, message: string | undefined): string[] {
    return message === undefined ? [] : [`${path}: ${message}`];
}

/**
 * Every problem in a WorkloadIdentityCluster's args that can be seen before deployment. `today`
 * is the day the Kubernetes version is checked against the AKS release calendar.
 */
export function validateClusterArgs(args: WorkloadIdentityClusterArgs, today: Date = new Date()): string[] {
    const problems: string[] = [];
    const location = known(args.location);
    if (location !== undefined) {
        problems.push(...prefixed("location", locationProblem(location)));
    }
    // The same table as the config's: a version AKS no longer (or not yet) creates is refused
    // before anything is registered, for callers in every language.
    const version = known(args.kubernetesVersion);
    problems.push(...prefixed("kubernetesVersion", version === undefined ? undefined : kubernetesVersionRefusal(version, today, args.upgradeChannel)));
    const pools: [string, NodePoolArgs, boolean][] = [
        ["systemPool", args.systemPool, true],
        ...Object.entries(args.nodePools ?? {}).map(([key, pool]): [string, NodePoolArgs, boolean] => [`nodePools.${key}`, pool, false]),
    ];
    for (const [key] of Object.entries(args.nodePools ?? {})) {
        problems.push(...prefixed(`nodePools.${key}`, poolNameProblem(key) ?? systemPoolNameProblem(key)));
    }
    for (const [path, pool, system] of pools) {
        problems.push(...prefixed(path, poolCountsProblem(pool.minCount, pool.maxCount, system)));
    }
    const ranges = knownArray(args.authorizedIpRanges);
    for (const range of ranges ?? []) {
        problems.push(...prefixed("authorizedIpRanges", cidrProblem(range)));
    }
    problems.push(
        ...prefixed(
            "apiServerAccess",
            apiServerAccessProblem(
                ranges ?? (args.authorizedIpRanges === undefined ? undefined : ["<deploy-time value>"]),
                args.private ?? false,
                args.allowPublicApiServer ?? false,
            ),
        ),
    );
    for (const groupId of knownArray(args.adminGroupObjectIds) ?? []) {
        problems.push(...prefixed("adminGroupObjectIds", guidProblem(groupId)));
    }
    // An admin group list that is only known at deploy time counts as present.
    const adminGroups = args.adminGroupObjectIds === undefined ? [] : (knownArray(args.adminGroupObjectIds) ?? ["<deploy-time value>"]);
    problems.push(...prefixed("admins", clusterAdminsProblem(adminGroups.length > 0, Object.keys(args.clusterAdmins ?? {}).length > 0)));
    for (const [key, admin] of Object.entries(args.clusterAdmins ?? {})) {
        const objectId = known(admin.objectId);
        if (objectId !== undefined) {
            problems.push(...prefixed(`clusterAdmins.${key}.objectId`, guidProblem(objectId)));
        }
        if (!["User", "Group", "ServicePrincipal"].includes(admin.principalType)) {
            problems.push(`clusterAdmins.${key}.principalType: invalid principal type "${String(admin.principalType)}". Allowed values are: User, Group, ServicePrincipal.`);
        }
    }
    for (const [key, pool] of Object.entries(args.nodePools ?? {})) {
        if (pool.mode !== undefined && pool.mode !== "User" && pool.mode !== "System") {
            problems.push(`nodePools.${key}.mode: invalid pool mode "${pool.mode}". Allowed values are: User, System.`);
        }
    }
    problems.push(...prefixed("network", privateClusterNetworkProblem(args.private === true, args.network !== undefined)));
    if (args.network !== undefined) {
        problems.push(...clusterNetworkProblems(args.network, args.private === true, known(args.location)));
    }
    for (const namespace of args.namespaces ?? []) {
        problems.push(...prefixed("namespaces", reservedNamespaceProblem(namespace) ?? namespaceProblem(namespace)));
    }
    return problems;
}


/** The network's own fields and the rules between them, as the config checks them. */
function clusterNetworkProblems(network: ClusterNetworkArgs, isPrivate: boolean, location: string | undefined): string[] {
    const problems: string[] = [];
    const checks: Record<keyof ClusterNetworkArgs, (value: string) => string | undefined> = {
        vnetSubnetId: subnetIdProblem,
        podCidr: networkRangeProblem,
        serviceCidr: serviceCidrProblem,
        dnsServiceIp: ipAddressProblem,
        privateDnsZone: privateDnsZoneProblem,
    };
    const values: Partial<Record<keyof ClusterNetworkArgs, string>> = {};
    const given = new Set<string>();
    const invalid = new Set<string>();
    for (const field of Object.keys(checks) as (keyof ClusterNetworkArgs)[]) {
        if (network[field] === undefined) {
            continue;
        }
        const value = known(network[field]);
        if (value === undefined) {
            invalid.add(field); // known at deploy time: the rules between fields skip it
            continue;
        }
        // "system" is AKS's own default (what a stack file's omitted privateDnsZone becomes), so
        // only another value counts as given: a public cluster is not refused for the default.
        if (field !== "privateDnsZone" || value !== "system") {
            given.add(field);
        }
        values[field] = value;
        const problem = checks[field](value);
        if (problem !== undefined) {
            invalid.add(field);
            problems.push(`network.${field}: ${problem}`);
        }
    }
    for (const [field, message] of networkProblems({ ...values, given, invalid }, isPrivate, location)) {
        problems.push(`network.${field}: ${message}`);
    }
    return problems;
}

/** Every problem in a WorkloadIdentity's args that can be seen before deployment. */
export function validateWorkloadIdentityArgs(name: string, args: WorkloadIdentityArgs): string[] {
    const problems: string[] = [];
    const location = known(args.location);
    if (location !== undefined) {
        problems.push(...prefixed("location", locationProblem(location)));
    }
    const bindings = Object.entries(args.clusters ?? {});
    if (args.namespace !== undefined) {
        problems.push(...prefixed("namespace", namespaceProblem(args.namespace)));
    }
    problems.push(...prefixed("namespace", workloadNamespaceProblem(args.namespace !== undefined, bindings.length > 0)));
    problems.push(...prefixed("serviceAccount", serviceAccountNameProblem(args.serviceAccount ?? name)));
    if (args.tokenExpirationSeconds !== undefined) {
        problems.push(...prefixed("tokenExpirationSeconds", tokenExpirationProblem(args.tokenExpirationSeconds)));
    }
    if (args.principal !== undefined && args.principal !== "managedIdentity" && args.principal !== "application") {
        problems.push(`principal: invalid principal "${String(args.principal)}". Allowed values are: managedIdentity, application.`);
    }
    problems.push(...prefixed("annotateExistingServiceAccount", annotateExistingProblem(args.annotateExistingServiceAccount === true, args.createServiceAccount !== false)));
    if (args.principal === "application") {
        // Owners only known at deploy time count as present.
        const owners = args.applicationOwners === undefined ? [] : (knownArray(args.applicationOwners) ?? ["<deploy-time value>"]);
        if (owners.length === 0) {
            problems.push(
                "applicationOwners: required for principal application. List the object IDs of every identity that deploys this stack: with Application.ReadWrite.OwnedBy a deployer that is not an owner is locked out after the first create.",
            );
        }
        for (const owner of owners.filter((o) => o !== "<deploy-time value>")) {
            problems.push(...prefixed("applicationOwners", guidProblem(owner)));
        }
    }
    const federations = Object.entries(args.federations ?? {});
    for (const [key, federation] of federations) {
        const issuer = known(federation.issuer);
        const audiences = knownArray(federation.audiences);
        problems.push(...prefixed(`federations.${key}.issuer`, issuer === undefined ? undefined : federationIssuerProblem(issuer)));
        problems.push(
            ...prefixed(`federations.${key}.audiences`, audiences === undefined ? undefined : audiencesProblem(audiences, federation.allowCustomAudience ?? false)),
        );
        problems.push(...prefixed(`federations.${key}`, ficNameClash(key, bindings.map(([clusterKey]) => clusterKey))));
    }
    bindings.forEach(([key, binding], index) => {
        const first = bindings.findIndex(([, other]) => other.oidcIssuerUrl === binding.oidcIssuerUrl);
        if (first < index) {
            problems.push(`clusters.${key}: the same cluster as clusters.${bindings[first][0]}; one identity may trust one (issuer, subject) pair only once.`);
        }
    });
    problems.push(...keyVaultArgsProblems(args, bindings.length > 0));
    for (const [key, assignment] of Object.entries(args.roleAssignments ?? {})) {
        problems.push(...prefixed(`roleAssignments.${key}`, reservedRoleAssignmentKeyProblem(key)));
        const found = roleAssignmentProblems(assignment.role, known(assignment.scope), assignment.allowBroadScope ?? false);
        problems.push(...prefixed(`roleAssignments.${key}.role`, found.role));
        problems.push(...prefixed(`roleAssignments.${key}.scope`, found.scope));
    }
    // Two grants of one role at one scope would share their deterministic assignment name.
    const grants: [string, string | undefined, string | undefined][] = [
        ...Object.entries(args.roleAssignments ?? {}).map(([key, a]): [string, string | undefined, string | undefined] => [`roleAssignments.${key}`, a.role, known(a.scope)]),
        ...(args.keyVault === undefined ? [] : [["keyVault", "Key Vault Secrets User", known(args.keyVault.resourceId)] as [string, string, string | undefined]]),
    ];
    for (const [where, message] of duplicateGrantProblems(grants)) {
        problems.push(`${where}: ${message}`);
    }
    return problems;
}


/** The keyVault and quickstart arguments: an ID, valid object names, a cluster to mount them in. */
function keyVaultArgsProblems(args: WorkloadIdentityArgs, onCluster: boolean): string[] {
    const problems: string[] = [];
    const keyVault = args.keyVault;
    if (keyVault !== undefined) {
        const resourceId = known(keyVault.resourceId);
        problems.push(...prefixed("keyVault.resourceId", resourceId === undefined ? undefined : keyVaultIdProblem(resourceId)));
        for (const [field, names] of [["secrets", keyVault.secrets ?? []], ["certificates", keyVault.certificates ?? []]] as const) {
            for (const objectName of names) {
                problems.push(...prefixed(`keyVault.${field}`, keyVaultObjectNameProblem(objectName)));
            }
        }
        if ((keyVault.secrets ?? []).length + (keyVault.certificates ?? []).length === 0) {
            problems.push("keyVault: no secrets and no certificates. Name the objects to mount.");
        }
        if (!onCluster) {
            problems.push("keyVault: the workload runs on no cluster, so there is nowhere to mount the objects.");
        }
    }
    if (args.quickstart === true && (keyVault?.secrets ?? []).length === 0) {
        problems.push(...prefixed("quickstart", quickstartSecretProblem(true, 0)));
    }
    return problems;
}

