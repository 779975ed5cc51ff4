import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import type { RoleAssignmentArgs, WorkloadIdentityArgs } from "./args";
import { IDENTITY_BINDING_POD_ANNOTATIONS, WORKLOAD_IDENTITY_POD_LABELS } from "./constants";
import { requirePlainInputs } from "./inputs";
import {
    bindingIdentityNamePartProblem,
    classicCredentialKey,
    credentialNameClashes,
    federatedCredentialBudgetProblem,
    sameServiceAccount,
    serviceAccountRefProblems,
    type ServiceAccountRef,
} from "./identity-binding-rules";
import { serviceAccountSubject } from "./names";
import { assignRole } from "./role-assignment";
import { resolveRole } from "./roles";
import { formatProblems, identityBindingPrincipalProblem, known, resolvedRoleAssignmentProblems, validateWorkloadIdentityArgs } from "./validation";
import {
    allowedServiceAccounts,
    createPrincipal,
    createQuickstartJobs,
    createServiceAccounts,
    mountKeyVault,
    serviceAccountAnnotations,
    sortedClusters,
    writeTrustChain,
} from "./workload-identity-parts";

/** The component's type token, as the schema names it. */
export const WORKLOAD_IDENTITY_TYPE = "aks-workload-identity:index:WorkloadIdentity";

/** Role assignment keys the `keyVault` argument uses; the quick-start's image and scripts. */
export {
    KEY_VAULT_CERTIFICATES_GRANT,
    KEY_VAULT_SECRETS_GRANT,
    QUICKSTART_IMAGE,
    quickstartBindingScript,
    quickstartScript,
} from "./workload-identity-parts";

/**
 * Grants of Azure roles to a workload identity's principal. Every grant, from config or code,
 * goes through one helper: deterministic name, `principalType: ServicePrincipal`, and the
 * broad-scope guard.
 */
export class WorkloadIdentityGrants {
    private readonly assignments = new Map<string, authorization.RoleAssignment>();

    constructor(
        private readonly owner: WorkloadIdentity,
        private readonly ownerName: string,
        private readonly principalId: pulumi.Output<string>,
    ) {}

    /** Assigns `role` at `scope`; `key` names the assignment (stable: a new key is a new assignment). */
    public assign(key: string, args: RoleAssignmentArgs): authorization.RoleAssignment {
        if (this.assignments.has(key)) {
            throw new pulumi.ResourceError(`Role assignment key "${key}" is used twice on workload identity ${this.ownerName}.`, this.owner, true);
        }
        // The role is resolved once; a scope given as a value is checked now, one that comes from
        // another resource when it is known, by the same rule.
        const role = resolveRole(args.role);
        const allowBroadScope = args.allowBroadScope ?? false;
        const found = "error" in role ? { role: role.error } : resolvedRoleAssignmentProblems(role, known(args.scope), allowBroadScope);
        const problems = [found.role, found.scope].filter((p): p is string => p !== undefined);
        if ("error" in role || problems.length > 0) {
            throw new pulumi.ResourceError(formatProblems(`Invalid role assignment "${key}" of ${this.ownerName}`, problems), this.owner, true);
        }
        const assignment = assignRole(
            {
                resourceName: `${this.ownerName}-ra-${key}`,
                role,
                scope: args.scope,
                principalId: this.principalId,
                principalType: "ServicePrincipal",
                description: args.description ?? `${role.name ?? role.guid} for workload ${this.ownerName} (${key}).`,
                condition: args.condition,
                lateScopeProblem: (value) => {
                    const late = resolvedRoleAssignmentProblems(role, value, allowBroadScope);
                    const message = late.role ?? late.scope;
                    return message === undefined ? undefined : `Role assignment "${key}" of ${this.ownerName}: ${message}`;
                },
            },
            { parent: this.owner },
        );
        this.assignments.set(key, assignment);
        return assignment;
    }

    /** "Key Vault Secrets User" on a vault. */
    public readSecrets(key: string, keyVaultResourceId: pulumi.Input<string>): authorization.RoleAssignment {
        return this.assign(key, { role: "Key Vault Secrets User", scope: keyVaultResourceId });
    }

    /** "AcrPull" on a container registry. */
    public pullImages(key: string, registryResourceId: pulumi.Input<string>): authorization.RoleAssignment {
        return this.assign(key, { role: "AcrPull", scope: registryResourceId });
    }

    /** "Storage Blob Data Reader" on a storage account or container. */
    public readBlobs(key: string, storageResourceId: pulumi.Input<string>): authorization.RoleAssignment {
        return this.assign(key, { role: "Storage Blob Data Reader", scope: storageResourceId });
    }

    /** The assignments made so far, keyed as given. */
    public get all(): ReadonlyMap<string, authorization.RoleAssignment> {
        return this.assignments;
    }
}

/** The TypeScript-only members of a WorkloadIdentity, read through its getters. */
interface WorkloadIdentityExtras {
    allowedServiceAccounts: readonly ServiceAccountRef[];
    identityBindings: Readonly<Record<string, pulumi.CustomResource>>;
    identityBindingRoleBindings: Readonly<Record<string, pulumi.CustomResource>>;
    federatedCredentials: Readonly<Record<string, pulumi.CustomResource>>;
    serviceAccounts: Readonly<Record<string, pulumi.CustomResource>>;
    grants: WorkloadIdentityGrants;
    secretProviderClasses: Readonly<Record<string, pulumi.CustomResource>>;
    secretsVolume: k8sInputs.core.v1.Volume | undefined;
    secretsVolumeMount: k8sInputs.core.v1.VolumeMount | undefined;
    quickstartJobs: Readonly<Record<string, pulumi.CustomResource>>;
}
const EXTRAS = new WeakMap<WorkloadIdentity, WorkloadIdentityExtras>();
function extrasOf(identity: WorkloadIdentity): WorkloadIdentityExtras {
    return EXTRAS.get(identity) as WorkloadIdentityExtras;
}

/**
 * A workload's Entra ID principal federated with the OIDC issuers of the clusters it runs on,
 * its Azure role assignments, and the annotated ServiceAccount in every one of those clusters.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
    /** Client ID of the principal: the ServiceAccount's `azure.workload.identity/client-id`. */
    public readonly clientId: pulumi.Output<string>;
    /** Object ID of the principal (service principal), the role assignments' `principalId`. */
    public readonly principalId: pulumi.Output<string>;
    /** Tenant of the principal. */
    public readonly tenantId: pulumi.Output<string>;
    /** ARM ID of the managed identity, or `/applications/<object-id>` of the app registration. */
    public readonly resourceId: pulumi.Output<string>;
    /** Kubernetes namespace of the ServiceAccount (undefined for an identity without clusters). */
    public readonly namespace: string | undefined;
    /** Name of the ServiceAccount in every cluster. */
    public readonly serviceAccount: string;
    /** The FIC subject of the clusters: `system:serviceaccount:<namespace>:<serviceAccount>`. */
    public readonly subject: string | undefined;
    /** Labels the workload's pods must carry for the webhook to inject the token. */
    public readonly podLabels: Readonly<Record<string, string>>;
    /** Annotations the workload's pods must carry: `azure.workload.identity/use-identity-binding: "true"` in identity binding mode, none otherwise. */
    public readonly podAnnotations: Readonly<Record<string, string>>;
    /** Whether the workload uses AKS identity bindings. */
    public readonly identityBinding: boolean;
    /**
     * The OIDC issuer AKS keeps for this identity's bindings (`properties.oidcIssuer.oidcIssuerUrl`,
     * the same on every cluster): the issuer Entra ID sees. Undefined in classic mode and until
     * Azure reports it.
     */
    public readonly identityBindingIssuerUrl: pulumi.Output<string | undefined>;
    /** The ServiceAccount annotations (client ID, tenant, token lifetime): what a chart's `serviceAccount.annotations` takes. */
    public readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;

    // TypeScript-only members are getters: the analyzer makes every field a schema output, and
    // resources, maps of resources and helper classes are not outputs another language can use.

    /** The ServiceAccounts allowed to use the identity (`serviceAccounts`, or the workload's own). */
    public get allowedServiceAccounts(): readonly ServiceAccountRef[] {
        return extrasOf(this).allowedServiceAccounts;
    }
    /** Identity bindings keyed by cluster key (identity binding mode). */
    public get identityBindings(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).identityBindings;
    }
    /** The ClusterRoleBindings that let the allowed ServiceAccounts use the identity, keyed by cluster key (identity binding mode). */
    public get identityBindingRoleBindings(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).identityBindingRoleBindings;
    }
    /** Federated credentials keyed by cluster key and federation key, written one after another. */
    public get federatedCredentials(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).federatedCredentials;
    }
    /** ServiceAccounts (or, with `annotateExistingServiceAccount`, patches) keyed by cluster key; none with `createServiceAccount: false`. */
    public get serviceAccounts(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).serviceAccounts;
    }
    /** Role grants of the principal; `grants.assign(key, { role, scope })` adds one. */
    public get grants(): WorkloadIdentityGrants {
        return extrasOf(this).grants;
    }
    /** SecretProviderClasses keyed by cluster key (with `keyVault`). */
    public get secretProviderClasses(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).secretProviderClasses;
    }
    /** The pod volume that mounts the Key Vault objects (with `keyVault`). */
    public get secretsVolume(): k8sInputs.core.v1.Volume | undefined {
        return extrasOf(this).secretsVolume;
    }
    /** The container volume mount for `secretsVolume`, at /mnt/secrets-store (with `keyVault`). */
    public get secretsVolumeMount(): k8sInputs.core.v1.VolumeMount | undefined {
        return extrasOf(this).secretsVolumeMount;
    }
    /** Quick-start Jobs keyed by cluster key (with `quickstart`). */
    public get quickstartJobs(): Readonly<Record<string, pulumi.CustomResource>> {
        return extrasOf(this).quickstartJobs;
    }

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super(WORKLOAD_IDENTITY_TYPE, name, {}, opts);
        requirePlainInputs(this, WORKLOAD_IDENTITY_TYPE, name, args);

        const problems = workloadIdentityProblems(name, args);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(formatProblems(`Invalid WorkloadIdentity "${name}"`, problems), this, true);
        }

        this.namespace = args.namespace;
        this.serviceAccount = args.serviceAccount ?? name;
        this.subject = this.namespace === undefined ? undefined : serviceAccountSubject(this.namespace, this.serviceAccount);
        this.podLabels = WORKLOAD_IDENTITY_POD_LABELS;
        this.identityBinding = args.identityBinding === true;
        this.podAnnotations = this.identityBinding ? IDENTITY_BINDING_POD_ANNOTATIONS : {};
        const own: ServiceAccountRef | undefined = this.namespace === undefined ? undefined : { namespace: this.namespace, name: this.serviceAccount };
        const allowed = allowedServiceAccounts(args, own);
        const scope = { name, parent: this, clusters: sortedClusters(args) };

        const principal = createPrincipal(scope, args);
        this.clientId = principal.clientId;
        this.principalId = principal.principalId;
        this.tenantId = principal.tenantId;
        this.resourceId = principal.resourceId;
        const trust = writeTrustChain(scope, principal, { allowed, own }, args);
        this.identityBindingIssuerUrl = trust.identityBindingIssuerUrl;

        const annotations = serviceAccountAnnotations(principal, args);
        this.serviceAccountAnnotations = pulumi.output(annotations);
        const serviceAccounts = createServiceAccounts(scope, { namespace: this.namespace, name: this.serviceAccount, annotations }, args);

        const grants = new WorkloadIdentityGrants(this, name, this.principalId);
        for (const [key, assignment] of Object.entries(args.roleAssignments ?? {})) {
            grants.assign(key, assignment);
        }
        const workload = { clientId: this.clientId, tenantId: this.tenantId, namespace: this.namespace, identityBinding: this.identityBinding };
        const keyVault = args.keyVault === undefined ? undefined : mountKeyVault(scope, grants, args.keyVault, workload);
        const secret = args.keyVault?.secrets?.[0];
        const quickstartJobs =
            args.quickstart === true && keyVault !== undefined && secret !== undefined
                ? createQuickstartJobs(scope, {
                      secret,
                      keyVault,
                      trust,
                      serviceAccounts,
                      namespace: this.namespace as string,
                      serviceAccount: this.serviceAccount,
                      podAnnotations: this.podAnnotations,
                  })
                : {};

        EXTRAS.set(this, {
            allowedServiceAccounts: allowed,
            identityBindings: trust.identityBindings,
            identityBindingRoleBindings: trust.identityBindingRoleBindings,
            federatedCredentials: trust.federatedCredentials,
            serviceAccounts,
            grants,
            secretProviderClasses: keyVault?.secretProviderClasses ?? {},
            secretsVolume: keyVault?.volume,
            secretsVolumeMount: keyVault?.volumeMount,
            quickstartJobs,
        });

        this.registerOutputs({
            clientId: this.clientId,
            principalId: this.principalId,
            tenantId: this.tenantId,
            resourceId: this.resourceId,
            namespace: this.namespace,
            serviceAccount: this.serviceAccount,
            subject: this.subject,
            podLabels: this.podLabels,
            podAnnotations: this.podAnnotations,
            identityBinding: this.identityBinding,
            identityBindingIssuerUrl: this.identityBindingIssuerUrl,
            serviceAccountAnnotations: this.serviceAccountAnnotations,
        });
    }
}

/**
 * Why a `kubernetesProvider` is not a kubernetes Provider resource. The argument is untyped in
 * the schema (see `KubernetesProviderReference`), so another language can pass anything.
 */
export function kubernetesProviderProblem(value: unknown): string | undefined {
    // getPackage() is on every ProviderResource (@pulumi/pulumi resource.js), though not in its typings.
    const getPackage = pulumi.CustomResource.isInstance(value) ? (value as { getPackage?: () => string }).getPackage : undefined;
    if (typeof getPackage === "function") {
        const pkg = getPackage.call(value);
        return pkg === "kubernetes" ? undefined : `expected a kubernetes Provider, got a provider of package ${pkg}.`;
    }
    if (typeof value === "string") {
        return `expected a kubernetes Provider resource, got the string ${JSON.stringify(value)}: pass the Provider object itself, not its ID or URN.`;
    }
    return `expected a kubernetes Provider resource (one per cluster, shared by its workloads), got ${value === undefined ? "nothing" : describeValue(value)}.`;
}

function describeValue(value: unknown): string {
    return pulumi.Output.isInstance(value) ? "a value known only at deploy time" : JSON.stringify(value);
}

/**
 * Every problem of a WorkloadIdentity's args: the shared rules of `validateWorkloadIdentityArgs`,
 * with its mode-blind count of one FIC per cluster replaced by the count of the mode in use, and
 * the rules of identity binding mode and `serviceAccounts`.
 */
export function workloadIdentityProblems(name: string, args: WorkloadIdentityArgs): string[] {
    const clusters = Object.entries(args.clusters ?? {});
    const federationKeys = Object.keys(args.federations ?? {});
    const problems = validateWorkloadIdentityArgs(name, args);

    for (const flag of ["identityBinding", "keepClassicCredentials"] as const) {
        const value: unknown = args[flag];
        if (value !== undefined && typeof value !== "boolean") {
            problems.push(`${flag}: invalid value ${describeValue(value)}. Allowed values are true and false, known before deployment (it decides which resources exist).`);
        }
    }
    const identityBinding = args.identityBinding === true;
    const keepClassic = identityBinding && args.keepClassicCredentials === true;
    problems.push(...prefixedProblem("identityBinding", identityBindingPrincipalProblem(identityBinding, args.principal)));
    if (args.keepClassicCredentials === true && !identityBinding) {
        problems.push("keepClassicCredentials: only with identityBinding: true (it keeps the per-cluster federated credentials while the pods move to the binding).");
    }

    const own: ServiceAccountRef | undefined = args.namespace === undefined ? undefined : { namespace: args.namespace, name: args.serviceAccount ?? name };
    const given: unknown = args.serviceAccounts;
    let accounts: ServiceAccountRef[] = own === undefined ? [] : [own];
    if (given !== undefined) {
        if (!Array.isArray(given)) {
            problems.push(`serviceAccounts: expected a list of { namespace, name }, got ${describeValue(given)}.`);
        } else {
            const found = serviceAccountRefProblems("serviceAccounts", given);
            problems.push(...found);
            accounts = found.length === 0 ? (given as ServiceAccountRef[]) : [];
            if (given.length === 0 && clusters.length > 0) {
                problems.push("serviceAccounts: empty. List the ServiceAccounts allowed to use the identity, or leave serviceAccounts out for the workload's own.");
            }
            const usesOwn = [
                args.createServiceAccount !== false ? "creates" : undefined,
                args.annotateExistingServiceAccount === true ? "annotates" : undefined,
                args.quickstart === true ? "runs the quick-start as" : undefined,
            ].filter((use): use is string => use !== undefined);
            if (own !== undefined && found.length === 0 && usesOwn.length > 0 && !accounts.some((account) => sameServiceAccount(account, own))) {
                problems.push(
                    `serviceAccounts: does not list the workload's own ServiceAccount ${own.namespace}/${own.name}, which this component ${usesOwn.join(" and ")}. Add { namespace: "${own.namespace}", name: "${own.name}" }, or set createServiceAccount: false.`,
                );
            }
        }
    }

    if (!identityBinding || keepClassic) {
        // Further ServiceAccounts get FICs `fic-<cluster>-<namespace>-<name>`: no two may share a name.
        const keys = [
            ...clusters.map(([key]) => ({ key, path: `clusters.${key}` })),
            ...federationKeys.map((key) => ({ key, path: `federations.${key}` })),
            ...clusters.flatMap(([key]) =>
                accounts
                    .map((account, index) => ({ account, index }))
                    .filter(({ account }) => own === undefined || !sameServiceAccount(account, own))
                    .map(({ account, index }) => ({
                        key: classicCredentialKey(key, account, own),
                        path: `serviceAccounts[${index}] (${account.namespace}/${account.name}) on cluster ${key}`,
                    })),
            ),
        ];
        problems.push(...credentialNameClashes(keys).filter((problem) => problem.startsWith("serviceAccounts[")));
    }

    for (const [key, target] of clusters) {
        problems.push(...prefixedProblem(`clusters.${key}.kubernetesProvider`, kubernetesProviderProblem(target.kubernetesProvider)));
    }
    if (identityBinding) {
        for (const [key, target] of clusters) {
            if (target.clusterResourceGroupName === undefined || target.clusterName === undefined) {
                problems.push(
                    `clusters.${key}: identityBinding needs the cluster's resource group and name (clusterResourceGroupName, clusterName): the identity binding is a child of the managed cluster.`,
                );
            }
        }
        const group = known(args.resourceGroupName);
        if (group !== undefined && args.principal !== "application") {
            problems.push(...prefixedProblem("resourceGroupName", bindingIdentityNamePartProblem("resource group", group)));
        }
        const identityName = args.identityName === undefined ? name : known(args.identityName);
        if (identityName !== undefined && args.principal !== "application") {
            problems.push(...prefixedProblem(args.identityName === undefined ? "identityName (the component name)" : "identityName", bindingIdentityNamePartProblem("identity", identityName)));
        }
    }
    problems.push(
        ...prefixedProblem(
            "federatedCredentials",
            federatedCredentialBudgetProblem({
                clusters: clusters.length,
                serviceAccounts: accounts.length,
                federations: federationKeys.length,
                identityBinding,
                keepClassicCredentials: keepClassic,
            }),
        ),
    );
    return problems;
}

function prefixedProblem(path: string, message: string | undefined): string[] {
    return message === undefined ? [] : [`${path}: ${message}`];
}
