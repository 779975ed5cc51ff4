import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as azuread from "@pulumi/azuread";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as appsv1 from "@pulumi/kubernetes/apps/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import type { WorkloadClusterBinding } from "./cluster-access";
import {
    CLIENT_ID_ANNOTATION,
    ENTRA_TOKEN_EXCHANGE_AUDIENCE,
    TENANT_ID_ANNOTATION,
    TOKEN_EXPIRATION_ANNOTATION,
    WORKLOAD_IDENTITY_POD_LABELS,
} from "./constants";
import { SECRET_PROVIDER_CLASS_API_VERSION, keyVaultObjects, secretsVolume, secretsVolumeMount } from "./key-vault";
import { federatedCredentialName, normalizeNamePart, roleAssignmentName, serviceAccountSubject } from "./names";
import { resolveRole, roleDefinitionIdAt } from "./roles";
import { formatProblems, keyVaultIdProblem, keyVaultName, known, roleAssignmentProblems, validateWorkloadIdentityArgs } from "./validation";

/** Role assignment keys the `keyVault` argument uses. */
export const KEY_VAULT_SECRETS_GRANT = "keyvault-secrets";
export const KEY_VAULT_CERTIFICATES_GRANT = "keyvault-certificates";

export type PrincipalKind = "managedIdentity" | "application";

/** An Azure role for the workload's principal at one scope. */
export interface RoleAssignmentArgs {
    /** A built-in role name (case-insensitive), a role definition GUID, or a full role definition ID. */
    role: string;
    /** ARM ID of the subscription, resource group or resource the role applies to. */
    scope: pulumi.Input<string>;
    /**
     * Allow Owner, Contributor, User Access Administrator or Role Based Access Control
     * Administrator at subscription or management-group scope. @default false (refused)
     */
    allowBroadScope?: boolean;
    /** Description on the role assignment. @default names the workload and the assignment key */
    description?: pulumi.Input<string>;
    /**
     * An ABAC condition that narrows the assignment (`condition`, version 2.0), e.g. which roles a
     * Role Based Access Control Administrator may assign. @default none
     */
    condition?: pulumi.Input<string>;
}

/** A federated credential for an issuer outside the stack's clusters. */
export interface FederationArgs {
    /** The issuer URL exactly as it appears in the tokens' `iss` claim (GitHub's has no trailing slash). */
    issuer: pulumi.Input<string>;
    /** The subject exactly as in the tokens' `sub` claim, e.g. `repo:<owner>/<repo>:environment:prod`. */
    subject: pulumi.Input<string>;
    /** @default ["api://AzureADTokenExchange"] */
    audiences?: pulumi.Input<pulumi.Input<string>[]>;
    /** Accept an audience other than Entra ID's public-cloud one (sovereign clouds). @default false */
    allowCustomAudience?: boolean;
}

/** Key Vault objects the workload mounts through the Secrets Store CSI driver. */
export interface KeyVaultArgs {
    /** ARM ID of the vault. */
    resourceId: pulumi.Input<string>;
    /** Secret names to mount. @default none */
    secrets?: string[];
    /** Certificate names to mount (adds "Key Vault Certificate User"). @default none */
    certificates?: string[];
}

/** The image of the azure-workload-identity project's quick-start, pinned by version. */
export const QUICKSTART_IMAGE = "ghcr.io/azure/azure-workload-identity/msal-go:v1.3.0";

export interface WorkloadIdentityArgs {
    /** Resource group of the managed identity (unused for `principal: application`). */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region of the managed identity. @default the provider's `azure-native:location` */
    location?: pulumi.Input<string>;
    /** Azure name of the managed identity, or display name of the app registration. @default the component name */
    identityName?: pulumi.Input<string>;
    /**
     * The Entra ID principal: a user-assigned managed identity, or an app registration with its
     * service principal. Neither ever gets a password or certificate. @default "managedIdentity"
     */
    principal?: PrincipalKind;
    /** Kubernetes namespace of the ServiceAccount; required when `clusters` is not empty. @default none (no Kubernetes) */
    namespace?: string;
    /** ServiceAccount name, set explicitly (autonaming would break the FIC subject). @default the component name */
    serviceAccount?: string;
    /**
     * Create the ServiceAccount. When false, the ServiceAccount an application ships (a Helm
     * chart) is annotated in place with a ServiceAccountPatch. @default true
     */
    createServiceAccount?: boolean;
    /** Projected token lifetime in seconds, 3600..86400, as a ServiceAccount annotation. @default the webhook's 3600 */
    tokenExpirationSeconds?: number;
    /**
     * The clusters the workload runs on, keyed by cluster key: one federated credential and one
     * ServiceAccount each. Get a binding from `WorkloadIdentityCluster.bindWorkload`. @default none
     */
    clusters?: Record<string, WorkloadClusterBinding>;
    /**
     * Further issuers the principal trusts, keyed by a stable key: a GitHub workflow, another
     * cluster, any OIDC issuer. Each becomes a federated credential `fic-<key>` in the same chain
     * as the clusters'. @default none
     */
    federations?: Record<string, FederationArgs>;
    /** Azure role assignments of the principal, keyed by a stable key. @default none */
    roleAssignments?: Record<string, RoleAssignmentArgs>;
    /**
     * Key Vault secrets and certificates to mount: "Key Vault Secrets User" on the vault (and
     * "Key Vault Certificate User" for certificates), and a SecretProviderClass in the namespace of
     * every cluster. The clusters need the Key Vault secrets provider add-on. @default none
     */
    keyVault?: KeyVaultArgs;
    /**
     * Deploy the quick-start Deployment that reads the first Key Vault secret with the federated
     * token, to prove the chain end to end. Needs `keyVault` with a secret. @default false
     */
    quickstart?: boolean;
    /** Tags on the managed identity. @default none */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

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
        const found = roleAssignmentProblems(args.role, known(args.scope), args.allowBroadScope ?? false);
        const problems = [found.role, found.scope].filter((p): p is string => p !== undefined);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(formatProblems(`Invalid role assignment "${key}" of ${this.ownerName}`, problems), this.owner, true);
        }
        const role = resolveRole(args.role);
        if ("error" in role) {
            throw new pulumi.ResourceError(role.error, this.owner, true);
        }
        const allowBroadScope = args.allowBroadScope ?? false;
        const knownScope = known(args.scope);
        let scope: pulumi.Input<string>;
        let roleDefinitionId: pulumi.Input<string>;
        let name: pulumi.Input<string>;
        if (knownScope !== undefined) {
            // Checked above already: one apply, for the principal, is all a known scope needs.
            scope = knownScope;
            roleDefinitionId = roleDefinitionIdAt(role, knownScope);
            const definition = roleDefinitionId;
            name = this.principalId.apply((principal) => roleAssignmentName(knownScope, principal, definition));
        } else {
            const lateScope = pulumi.output(args.scope).apply((value) => {
                // A scope from another resource is only known now; apply the same guard.
                const late = roleAssignmentProblems(args.role, value, allowBroadScope);
                const message = late.role ?? late.scope;
                if (message !== undefined) {
                    throw new Error(`Role assignment "${key}" of ${this.ownerName}: ${message}`);
                }
                return value;
            });
            const lateDefinition = lateScope.apply((value) => roleDefinitionIdAt(role, value));
            scope = lateScope;
            roleDefinitionId = lateDefinition;
            name = pulumi.all([lateScope, this.principalId, lateDefinition]).apply(([s, p, r]) => roleAssignmentName(s, p, r));
        }
        const assignment = new authorization.RoleAssignment(
            `${this.ownerName}-ra-${key}`,
            {
                scope,
                principalId: this.principalId,
                // Without it Azure looks the principal up as a User and fails on replication delay.
                principalType: "ServicePrincipal",
                roleDefinitionId,
                roleAssignmentName: name,
                description: args.description ?? `${role.name ?? role.guid} for workload ${this.ownerName} (${key}).`,
                ...(args.condition === undefined ? {} : { condition: args.condition, conditionVersion: "2.0" }),
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
    /** Federated credentials keyed by cluster key and federation key, written one after another. */
    public readonly federatedCredentials: Readonly<Record<string, pulumi.CustomResource>>;
    /** ServiceAccounts (or patches of existing ones) keyed by cluster key. */
    public readonly serviceAccounts: Readonly<Record<string, pulumi.CustomResource>>;
    /** Role grants of the principal; `grants.assign(key, { role, scope })` adds one. */
    public readonly grants: WorkloadIdentityGrants;
    /** SecretProviderClasses keyed by cluster key (with `keyVault`). */
    public readonly secretProviderClasses: Readonly<Record<string, pulumi.CustomResource>>;
    /** The pod volume that mounts the Key Vault objects (with `keyVault`). */
    public readonly secretsVolume: k8sInputs.core.v1.Volume | undefined;
    /** The container volume mount for `secretsVolume`, at /mnt/secrets-store (with `keyVault`). */
    public readonly secretsVolumeMount: k8sInputs.core.v1.VolumeMount | undefined;
    /** Quick-start Deployments keyed by cluster key (with `quickstart`). */
    public readonly quickstartDeployments: Readonly<Record<string, pulumi.CustomResource>>;

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-workload-identity:index:WorkloadIdentity", name, {}, opts);

        const problems = validateWorkloadIdentityArgs(name, args);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(formatProblems(`Invalid WorkloadIdentity "${name}"`, problems), this, true);
        }

        this.namespace = args.namespace;
        this.serviceAccount = args.serviceAccount ?? name;
        this.subject = this.namespace === undefined ? undefined : serviceAccountSubject(this.namespace, this.serviceAccount);
        this.podLabels = WORKLOAD_IDENTITY_POD_LABELS;
        const clusters = Object.entries(args.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b));
        const identityName = args.identityName ?? name;

        // One credential per cluster, then one per extra federation, in a stable order.
        const credentials = [
            ...clusters.map(([key, binding]) => ({
                key,
                issuer: binding.oidcIssuerUrl,
                subject: this.subject as string,
                audiences: [ENTRA_TOKEN_EXCHANGE_AUDIENCE] as pulumi.Input<pulumi.Input<string>[]>,
                description: `Cluster ${key}: ${this.subject as string}`,
            })),
            ...Object.entries(args.federations ?? {})
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([key, federation]) => ({
                    key,
                    issuer: federation.issuer,
                    subject: federation.subject,
                    audiences: federation.audiences ?? [ENTRA_TOKEN_EXCHANGE_AUDIENCE],
                    description: `Federation ${key}`,
                })),
        ];
        // Azure rejects concurrent FIC writes under one identity (409
        // ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): chain them.
        const federatedCredentials: Record<string, pulumi.CustomResource> = {};
        let previous: pulumi.CustomResource | undefined;
        if ((args.principal ?? "managedIdentity") === "application") {
            const application = new azuread.Application(
                `${name}-app`,
                { displayName: identityName, description: `Workload identity ${name} (federated, no secrets).`, signInAudience: "AzureADMyOrg" },
                { parent: this },
            );
            const servicePrincipal = new azuread.ServicePrincipal(`${name}-sp`, { clientId: application.clientId }, { parent: this });
            for (const credential of credentials) {
                previous = new azuread.ApplicationFederatedIdentityCredential(
                    `${name}-fic-${credential.key}`,
                    {
                        applicationId: application.id,
                        displayName: federatedCredentialName(credential.key),
                        description: credential.description,
                        issuer: credential.issuer,
                        subject: credential.subject,
                        audiences: credential.audiences,
                    },
                    { parent: this, deleteBeforeReplace: true, dependsOn: previous ? [previous] : [] },
                );
                federatedCredentials[credential.key] = previous;
            }
            this.clientId = application.clientId;
            this.principalId = servicePrincipal.objectId;
            this.tenantId = servicePrincipal.applicationTenantId;
            this.resourceId = application.id;
        } else {
            const identity = new managedidentity.UserAssignedIdentity(
                `${name}-id`,
                { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: identityName, tags: args.tags },
                { parent: this },
            );
            for (const credential of credentials) {
                previous = new managedidentity.FederatedIdentityCredential(
                    `${name}-fic-${credential.key}`,
                    {
                        resourceGroupName: args.resourceGroupName,
                        resourceName: identity.name,
                        federatedIdentityCredentialResourceName: federatedCredentialName(credential.key),
                        issuer: credential.issuer,
                        subject: credential.subject,
                        audiences: credential.audiences,
                    },
                    { parent: this, deleteBeforeReplace: true, dependsOn: previous ? [previous] : [] },
                );
                federatedCredentials[credential.key] = previous;
            }
            this.clientId = identity.clientId;
            this.principalId = identity.principalId;
            this.tenantId = identity.tenantId;
            this.resourceId = identity.id;
        }
        this.federatedCredentials = federatedCredentials;

        const annotations: Record<string, pulumi.Input<string>> = {
            [CLIENT_ID_ANNOTATION]: this.clientId,
            [TENANT_ID_ANNOTATION]: this.tenantId,
        };
        if (args.tokenExpirationSeconds !== undefined) {
            annotations[TOKEN_EXPIRATION_ANNOTATION] = String(args.tokenExpirationSeconds);
        }
        const serviceAccounts: Record<string, pulumi.CustomResource> = {};
        for (const [key, binding] of clusters) {
            // metadata.name is explicit: an autonamed ServiceAccount would not match the FIC subject.
            const metadata = { name: this.serviceAccount, namespace: this.namespace as string, annotations };
            const options = { parent: this, provider: binding.kubernetesProvider, dependsOn: binding.dependsOn };
            serviceAccounts[key] =
                args.createServiceAccount === false
                    ? new corev1.ServiceAccountPatch(`${name}-sa-${key}`, { metadata }, options)
                    : new corev1.ServiceAccount(`${name}-sa-${key}`, { metadata }, options);
        }
        this.serviceAccounts = serviceAccounts;

        this.grants = new WorkloadIdentityGrants(this, name, this.principalId);
        for (const [key, assignment] of Object.entries(args.roleAssignments ?? {})) {
            this.grants.assign(key, assignment);
        }

        const keyVault = args.keyVault;
        const secretProviderClasses: Record<string, pulumi.CustomResource> = {};
        const quickstartDeployments: Record<string, pulumi.CustomResource> = {};
        const baseName = normalizeNamePart(name);
        if (keyVault !== undefined) {
            this.grants.assign(KEY_VAULT_SECRETS_GRANT, { role: "Key Vault Secrets User", scope: keyVault.resourceId });
            if ((keyVault.certificates ?? []).length > 0) {
                this.grants.assign(KEY_VAULT_CERTIFICATES_GRANT, { role: "Key Vault Certificate User", scope: keyVault.resourceId });
            }
            const vaultName = pulumi.output(keyVault.resourceId).apply((id) => {
                const vault = keyVaultName(id);
                if (vault === undefined) {
                    throw new Error(`Workload identity ${name}: ${keyVaultIdProblem(id) ?? id}`);
                }
                return vault;
            });
            const className = `${baseName}-keyvault`;
            for (const [key, binding] of clusters) {
                secretProviderClasses[key] = new apiextensions.CustomResource(
                    `${name}-spc-${key}`,
                    {
                        apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
                        kind: "SecretProviderClass",
                        metadata: { name: className, namespace: this.namespace },
                        spec: {
                            provider: "azure",
                            parameters: {
                                usePodIdentity: "false",
                                clientID: this.clientId,
                                tenantId: this.tenantId,
                                keyvaultName: vaultName,
                                objects: keyVaultObjects(keyVault.secrets ?? [], keyVault.certificates ?? []),
                            },
                        },
                    },
                    { parent: this, provider: binding.kubernetesProvider, dependsOn: binding.dependsOn },
                );
            }
            this.secretsVolume = secretsVolume("keyvault", className);
            this.secretsVolumeMount = secretsVolumeMount("keyvault");

            const firstSecret = (keyVault.secrets ?? [])[0];
            if (args.quickstart === true && firstSecret !== undefined) {
                const labels = { app: `${baseName}-quickstart`, ...WORKLOAD_IDENTITY_POD_LABELS };
                for (const [key, binding] of clusters) {
                    quickstartDeployments[key] = new appsv1.Deployment(
                        `${name}-quickstart-${key}`,
                        {
                            metadata: { name: `${baseName}-quickstart`, namespace: this.namespace, labels: { app: labels.app } },
                            spec: {
                                replicas: 1,
                                selector: { matchLabels: { app: labels.app } },
                                template: {
                                    metadata: { labels },
                                    spec: {
                                        serviceAccountName: this.serviceAccount,
                                        containers: [
                                            {
                                                name: "quickstart",
                                                image: QUICKSTART_IMAGE,
                                                env: [
                                                    { name: "KEYVAULT_URL", value: pulumi.interpolate`https://${vaultName}.vault.azure.net/` },
                                                    { name: "SECRET_NAME", value: firstSecret },
                                                ],
                                                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                                                securityContext: {
                                                    allowPrivilegeEscalation: false,
                                                    capabilities: { drop: ["ALL"] },
                                                    seccompProfile: { type: "RuntimeDefault" },
                                                },
                                            },
                                        ],
                                    },
                                },
                            },
                        },
                        // The ServiceAccount must carry its annotations before the pod starts.
                        { parent: this, provider: binding.kubernetesProvider, dependsOn: [...binding.dependsOn, serviceAccounts[key]] },
                    );
                }
            }
        } else {
            this.secretsVolume = undefined;
            this.secretsVolumeMount = undefined;
        }
        this.secretProviderClasses = secretProviderClasses;
        this.quickstartDeployments = quickstartDeployments;

        this.registerOutputs({
            clientId: this.clientId,
            principalId: this.principalId,
            tenantId: this.tenantId,
            resourceId: this.resourceId,
            namespace: this.namespace,
            serviceAccount: this.serviceAccount,
            podLabels: this.podLabels,
        });
    }
}
