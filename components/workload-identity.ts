import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import type { RoleAssignmentArgs, WorkloadIdentityArgs } from "./args";
import { bindingDependsOn } from "./cluster-access";
import {
    CLIENT_ID_ANNOTATION,
    IDENTITY_BINDING_POD_ANNOTATIONS,
    TENANT_ID_ANNOTATION,
    TOKEN_EXPIRATION_ANNOTATION,
    WORKLOAD_IDENTITY_POD_LABELS,
} from "./constants";
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
import { SECRET_PROVIDER_CLASS_API_VERSION, keyVaultObjects, secretProviderClassParameters, secretsVolume, secretsVolumeMount } from "./key-vault";
import { normalizeNamePart, serviceAccountSubject } from "./names";
import { assignRole } from "./role-assignment";
import { resolveRole } from "./roles";
import {
    formatProblems,
    keyVaultIdProblem,
    keyVaultName,
    known,
    KEY_VAULT_GRANT_KEYS,
    resolvedRoleAssignmentProblems,
    validateWorkloadIdentityArgs,
} from "./validation";
import { allowedServiceAccounts, createPrincipal, kubernetesProviderOf, sortedClusters, writeTrustChain } from "./workload-identity-parts";

/** The component's type token, as the schema names it. */
export const WORKLOAD_IDENTITY_TYPE = "aks-workload-identity:index:WorkloadIdentity";

/** Role assignment keys the `keyVault` argument uses. */
export const KEY_VAULT_SECRETS_GRANT = KEY_VAULT_GRANT_KEYS[0];
export const KEY_VAULT_CERTIFICATES_GRANT = KEY_VAULT_GRANT_KEYS[1];

/**
 * The quick-start Job's image: the Azure CLI, pinned by version (Azure CLI 2.89.1, the release
 * GitHub marked "Latest" in August 2026; the MCR tag follows the CLI version).
 */
export const QUICKSTART_IMAGE = "mcr.microsoft.com/azure-cli:2.89.1";

/**
 * The quick-start's script: log in with the projected federated token (the webhook sets the
 * AZURE_* variables) and read only the secret's metadata, never its value. `list-versions` needs
 * `secrets/readMetadata/action`, which "Key Vault Secrets User" has; it returns no values.
 */
export function quickstartScript(vaultName: string, secretName: string): string {
    return [
        "set -eu",
        'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none',
        `az keyvault secret list-versions --vault-name ${vaultName} --name ${secretName} --maxresults 1 --query "[0].{secret: name, enabled: attributes.enabled, updated: attributes.updated}" --output json`,
        `echo "workload identity works: read the metadata of secret ${secretName} in ${vaultName} (the value was not requested)"`,
    ].join("\n");
}

/**
 * The quick-start's script in identity binding mode. The Azure CLI cannot log in through the AKS
 * proxy (`az login --federated-token` goes to Entra ID, which has no credential for the cluster's
 * issuer), so the CLI image's Python does what `WorkloadIdentityCredential` with the token proxy
 * does (azidentity `customtokenproxy`): POST the token request to `AZURE_KUBERNETES_TOKEN_PROXY`
 * + `/<tenant>/oauth2/v2.0/token`, with TLS server name `AZURE_KUBERNETES_SNI_NAME` and the CA of
 * `AZURE_KUBERNETES_CA_FILE`. It then lists the secret's versions through the Key Vault REST API:
 * metadata only, never a value (`secrets/readMetadata/action`, in "Key Vault Secrets User").
 */
export function quickstartBindingScript(vaultName: string, secretName: string): string {
    const python = [
        "import http.client, json, os, socket, ssl, sys, urllib.parse",
        "vault, secret = sys.argv[1], sys.argv[2]",
        'proxy = urllib.parse.urlsplit(os.environ["AZURE_KUBERNETES_TOKEN_PROXY"])',
        'server_name = os.environ.get("AZURE_KUBERNETES_SNI_NAME") or proxy.hostname',
        'context = ssl.create_default_context(cafile=os.environ.get("AZURE_KUBERNETES_CA_FILE") or None)',
        "class ProxyConnection(http.client.HTTPSConnection):",
        "    def connect(self):",
        "        self.sock = context.wrap_socket(socket.create_connection((self.host, self.port), self.timeout), server_hostname=server_name)",
        'with open(os.environ["AZURE_FEDERATED_TOKEN_FILE"]) as token_file:',
        "    assertion = token_file.read().strip()",
        "form = urllib.parse.urlencode({",
        '    "grant_type": "client_credentials",',
        '    "client_id": os.environ["AZURE_CLIENT_ID"],',
        '    "scope": "https://vault.azure.net/.default",',
        '    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",',
        '    "client_assertion": assertion,',
        "})",
        'path = proxy.path.rstrip("/") + "/" + os.environ["AZURE_TENANT_ID"] + "/oauth2/v2.0/token"',
        "connection = ProxyConnection(proxy.hostname, proxy.port or 443, timeout=30)",
        'connection.request("POST", path, form, {"Content-Type": "application/x-www-form-urlencoded"})',
        "response = connection.getresponse()",
        "answer = json.loads(response.read() or b'{}')",
        "if response.status != 200:",
        '    sys.exit("the identity binding proxy refused the token: HTTP %d %s %s" % (response.status, answer.get("error"), answer.get("error_description")))',
        'connection = http.client.HTTPSConnection(vault + ".vault.azure.net", timeout=30)',
        'connection.request("GET", "/secrets/" + secret + "/versions?maxresults=1&api-version=7.4", headers={"Authorization": "Bearer " + answer["access_token"]})',
        "response = connection.getresponse()",
        "listing = json.loads(response.read() or b'{}')",
        "if response.status != 200:",
        '    sys.exit("Key Vault refused: HTTP %d %s" % (response.status, listing.get("error")))',
        'versions = listing.get("value") or [{}]',
        'attributes = versions[0].get("attributes", {})',
        'print(json.dumps({"secret": secret, "enabled": attributes.get("enabled"), "updated": attributes.get("updated")}))',
    ].join("\n");
    return [
        "set -eu",
        `python3 - ${vaultName} ${secretName} <<'PYTHON'`,
        python,
        "PYTHON",
        `echo "identity binding works: read the metadata of secret ${secretName} in ${vaultName} through the AKS proxy (the value was not requested)"`,
    ].join("\n");
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
        const { clusters } = scope;

        const principal = createPrincipal(scope, args);
        this.clientId = principal.clientId;
        this.principalId = principal.principalId;
        this.tenantId = principal.tenantId;
        this.resourceId = principal.resourceId;
        const trust = writeTrustChain(scope, principal, { allowed, own }, args);
        const { federatedCredentials, bindingChildren, identityBindings, identityBindingRoleBindings } = trust;
        this.identityBindingIssuerUrl = trust.identityBindingIssuerUrl;

        const annotations: Record<string, pulumi.Input<string>> = {
            [CLIENT_ID_ANNOTATION]: this.clientId,
            [TENANT_ID_ANNOTATION]: this.tenantId,
        };
        if (args.tokenExpirationSeconds !== undefined) {
            annotations[TOKEN_EXPIRATION_ANNOTATION] = String(args.tokenExpirationSeconds);
        }
        this.serviceAccountAnnotations = pulumi.output(annotations);
        const serviceAccounts: Record<string, pulumi.CustomResource> = {};
        const createServiceAccount = args.createServiceAccount ?? true;
        const annotateExisting = args.annotateExistingServiceAccount ?? false;
        for (const [key, binding] of clusters) {
            // metadata.name is explicit: an autonamed ServiceAccount would not match the FIC subject.
            const metadata = { name: this.serviceAccount, namespace: this.namespace as string, annotations };
            const options = { parent: this, provider: kubernetesProviderOf(binding), dependsOn: bindingDependsOn(binding) };
            if (createServiceAccount) {
                serviceAccounts[key] = new corev1.ServiceAccount(`${name}-sa-${key}`, { metadata }, options);
            } else if (annotateExisting) {
                // A server-side apply patch needs the object to exist: opt-in only.
                serviceAccounts[key] = new corev1.ServiceAccountPatch(`${name}-sa-${key}`, { metadata }, options);
            }
        }

        const grants = new WorkloadIdentityGrants(this, name, this.principalId);
        for (const [key, assignment] of Object.entries(args.roleAssignments ?? {})) {
            grants.assign(key, assignment);
        }

        const keyVault = args.keyVault;
        let volume: k8sInputs.core.v1.Volume | undefined;
        let volumeMount: k8sInputs.core.v1.VolumeMount | undefined;
        const secretProviderClasses: Record<string, pulumi.CustomResource> = {};
        const quickstartJobs: Record<string, pulumi.CustomResource> = {};
        const baseName = normalizeNamePart(name);
        if (keyVault !== undefined) {
            grants.assign(KEY_VAULT_SECRETS_GRANT, { role: "Key Vault Secrets User", scope: keyVault.resourceId });
            if ((keyVault.certificates ?? []).length > 0) {
                grants.assign(KEY_VAULT_CERTIFICATES_GRANT, { role: "Key Vault Certificate User", scope: keyVault.resourceId });
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
                            parameters: secretProviderClassParameters<pulumi.Input<string>>({
                                clientId: this.clientId,
                                tenantId: this.tenantId,
                                vaultName,
                                objects: keyVaultObjects(keyVault.secrets ?? [], keyVault.certificates ?? []),
                                identityBinding: this.identityBinding,
                            }),
                        },
                    },
                    { parent: this, provider: kubernetesProviderOf(binding), dependsOn: bindingDependsOn(binding) },
                );
            }
            volume = secretsVolume("keyvault", className);
            volumeMount = secretsVolumeMount("keyvault");

            const firstSecret = (keyVault.secrets ?? [])[0];
            if (args.quickstart === true && firstSecret !== undefined) {
                const secretsGrant = grants.all.get(KEY_VAULT_SECRETS_GRANT) as authorization.RoleAssignment;
                for (const [key, binding] of clusters) {
                    const viaBinding = bindingChildren[key];
                    // The Job proves the chain, so it starts once the chain exists: its cluster's FIC
                    // (or identity binding and RBAC), the Key Vault role and the annotated
                    // ServiceAccount. Propagation after that is what its backoff waits out.
                    const trust = viaBinding === undefined ? [federatedCredentials[key]] : [viaBinding.binding, viaBinding.clusterRoleBinding];
                    quickstartJobs[key] = quickstartJob(`${name}-quickstart-${key}`, {
                        name: `${baseName}-quickstart`,
                        namespace: this.namespace as string,
                        serviceAccount: this.serviceAccount,
                        script: vaultName.apply((vault) => (viaBinding === undefined ? quickstartScript(vault, firstSecret) : quickstartBindingScript(vault, firstSecret))),
                        podAnnotations: this.podAnnotations,
                        dependsOn: [...bindingDependsOn(binding), ...trust, secretsGrant, ...(serviceAccounts[key] ? [serviceAccounts[key]] : [])],
                        parent: this,
                        provider: kubernetesProviderOf(binding),
                    });
                }
            }
        }
        EXTRAS.set(this, {
            allowedServiceAccounts: allowed,
            identityBindings,
            identityBindingRoleBindings,
            federatedCredentials,
            serviceAccounts,
            grants,
            secretProviderClasses,
            secretsVolume: volume,
            secretsVolumeMount: volumeMount,
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

interface QuickstartJobArgs {
    readonly name: string;
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly script: pulumi.Input<string>;
    readonly podAnnotations: Readonly<Record<string, string>>;
    readonly dependsOn: pulumi.Resource[];
    readonly parent: pulumi.Resource;
    readonly provider: pulumi.ProviderResource;
}

/**
 * The quick-start Job. pulumi-kubernetes waits for a Job to complete (its Job await logic), so a
 * broken chain fails the deployment instead of crash-looping unnoticed; the Job retries with
 * Kubernetes' exponential backoff (10 s, 20 s, 40 s ... capped at 6 min) up to `backoffLimit`
 * while the FIC and the role assignment propagate (Entra: minutes), within `activeDeadlineSeconds`.
 * Its pod template is immutable, so a change replaces the Job.
 */
function quickstartJob(resourceName: string, args: QuickstartJobArgs): batchv1.Job {
    const labels = { app: args.name };
    return new batchv1.Job(
        resourceName,
        {
            metadata: { name: args.name, namespace: args.namespace, labels },
            spec: {
                backoffLimit: 6,
                activeDeadlineSeconds: 1200,
                template: {
                    metadata: {
                        labels: { ...labels, ...WORKLOAD_IDENTITY_POD_LABELS },
                        ...(Object.keys(args.podAnnotations).length === 0 ? {} : { annotations: { ...args.podAnnotations } }),
                    },
                    spec: {
                        serviceAccountName: args.serviceAccount,
                        restartPolicy: "Never",
                        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "quickstart",
                                image: QUICKSTART_IMAGE,
                                command: ["/bin/sh", "-c", args.script],
                                // The CLI writes its login cache under AZURE_CONFIG_DIR; /tmp is the only writable path.
                                env: [{ name: "AZURE_CONFIG_DIR", value: "/tmp/.azure" }, { name: "HOME", value: "/tmp" }],
                                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    readOnlyRootFilesystem: true,
                                    capabilities: { drop: ["ALL"] },
                                },
                            },
                        ],
                        volumes: [{ name: "tmp", emptyDir: {} }],
                    },
                },
            },
        },
        { parent: args.parent, provider: args.provider, dependsOn: args.dependsOn, customTimeouts: { create: "25m", update: "25m" } },
    );
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
    if (identityBinding && args.principal === "application") {
        problems.push(
            "identityBinding: AKS identity bindings map a user-assigned managed identity to a cluster; an app registration (principal: application) cannot use them. Use principal: managedIdentity, or set identityBinding: false.",
        );
    }
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
