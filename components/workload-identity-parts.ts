/**
 * The children of a WorkloadIdentity, one free function per part, as pulumi-eks' Cluster hands
 * off to `createCore(name, args, parent)` (nodejs/eks/cluster/cluster.ts): the principal, the one
 * chain of federated credential writes, the ServiceAccounts, the Key Vault mount and the
 * quick-start Jobs. The constructor calls them in that order; each takes the component as
 * `scope.parent` and names its children from `scope.name`.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as azuread from "@pulumi/azuread";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import type { KeyVaultArgs, RoleAssignmentArgs, WorkloadClusterBinding, WorkloadIdentityArgs } from "./args";
import { bindingDependsOn } from "./cluster-access";
import { CLIENT_ID_ANNOTATION, ENTRA_TOKEN_EXCHANGE_AUDIENCE, TENANT_ID_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION, WORKLOAD_IDENTITY_POD_LABELS } from "./constants";
import { identityBindingOnCluster, type IdentityBindingChildren } from "./identity-binding";
import { classicCredentialKey, type ServiceAccountRef } from "./identity-binding-rules";
import { SECRET_PROVIDER_CLASS_API_VERSION, keyVaultObjects, secretProviderClassParameters, secretsVolume, secretsVolumeMount } from "./key-vault";
import { federatedCredentialName, normalizeNamePart, serviceAccountSubject } from "./names";
import { keyVaultIdProblem, keyVaultName, KEY_VAULT_GRANT_KEYS } from "./validation";

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

/** What every part of a WorkloadIdentity builds on: its name, the component as parent, its clusters. */
export interface WorkloadIdentityScope {
    /** The component's name: the prefix of every child's logical name. */
    readonly name: string;
    /** The component: every child's parent. */
    readonly parent: pulumi.Resource;
    /** The `clusters` argument's entries, sorted by cluster key (the order children are written in). */
    readonly clusters: readonly (readonly [string, WorkloadClusterBinding])[];
}

/** The entries of `clusters`, sorted by cluster key. */
export function sortedClusters(args: Pick<WorkloadIdentityArgs, "clusters">): [string, WorkloadClusterBinding][] {
    return Object.entries(args.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** `serviceAccounts` as given, or the workload's own ServiceAccount (none without a namespace). */
export function allowedServiceAccounts(args: Pick<WorkloadIdentityArgs, "serviceAccounts">, own: ServiceAccountRef | undefined): ServiceAccountRef[] {
    if (args.serviceAccounts !== undefined) {
        return args.serviceAccounts.map((account) => ({ namespace: account.namespace, name: account.name }));
    }
    return own === undefined ? [] : [own];
}

/** One federated credential to write: a cluster's (classic mode) or a federation's. */
export interface FederatedCredentialSpec {
    readonly key: string;
    readonly issuer: pulumi.Input<string>;
    readonly subject: pulumi.Input<string>;
    readonly audiences: pulumi.Input<pulumi.Input<string>[]>;
    readonly description: string;
}

/** The workload's Entra ID principal: a user-assigned managed identity, or an app registration and its service principal. */
export interface WorkloadPrincipal {
    readonly clientId: pulumi.Output<string>;
    readonly principalId: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;
    /** ARM ID of the managed identity, or `/applications/<object-id>` of the app registration. */
    readonly resourceId: pulumi.Output<string>;
    /** ARM ID of the managed identity, which identity bindings name; undefined for an app registration. */
    readonly identityResourceId?: pulumi.Output<string>;
    /**
     * Writes one federated credential on the principal (a managed identity's FIC or an
     * application's), after `after`: `writeTrustChain` is the one caller, and chains the writes.
     */
    readonly writeCredential: (credential: FederatedCredentialSpec, after: pulumi.Resource | undefined) => pulumi.CustomResource;
}

/** The principal: `${name}-id`, or `${name}-app` and `${name}-sp` with `principal: application`. */
export function createPrincipal(
    scope: WorkloadIdentityScope,
    args: Pick<WorkloadIdentityArgs, "principal" | "identityName" | "applicationOwners" | "resourceGroupName" | "location" | "tags">,
): WorkloadPrincipal {
    const { name, parent } = scope;
    const identityName = args.identityName ?? name;
    if ((args.principal ?? "managedIdentity") === "application") {
        // owners on both: azuread removes the caller from an application's owners unless it is
        // listed, and a deployer with Application.ReadWrite.OwnedBy then gets 403 on the service
        // principal, the FICs and every later update (azuread docs, azuread_application `owners`).
        const owners = args.applicationOwners as pulumi.Input<pulumi.Input<string>[]>;
        const application = new azuread.Application(
            `${name}-app`,
            { displayName: identityName, description: `Workload identity ${name} (federated, no secrets).`, signInAudience: "AzureADMyOrg", owners },
            { parent },
        );
        const servicePrincipal = new azuread.ServicePrincipal(`${name}-sp`, { clientId: application.clientId, owners }, { parent });
        return {
            clientId: application.clientId,
            principalId: servicePrincipal.objectId,
            tenantId: servicePrincipal.applicationTenantId,
            resourceId: application.id,
            writeCredential: (credential, after) =>
                new azuread.ApplicationFederatedIdentityCredential(
                    `${name}-fic-${credential.key}`,
                    {
                        applicationId: application.id,
                        displayName: federatedCredentialName(credential.key),
                        description: credential.description,
                        issuer: credential.issuer,
                        subject: credential.subject,
                        audiences: credential.audiences,
                    },
                    { parent, deleteBeforeReplace: true, dependsOn: after ? [after] : [] },
                ),
        };
    }
    const identity = new managedidentity.UserAssignedIdentity(
        `${name}-id`,
        { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: identityName, tags: args.tags },
        { parent },
    );
    return {
        clientId: identity.clientId,
        principalId: identity.principalId,
        tenantId: identity.tenantId,
        resourceId: identity.id,
        identityResourceId: identity.id,
        writeCredential: (credential, after) =>
            new managedidentity.FederatedIdentityCredential(
                `${name}-fic-${credential.key}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    resourceName: identity.name,
                    federatedIdentityCredentialResourceName: federatedCredentialName(credential.key),
                    issuer: credential.issuer,
                    subject: credential.subject,
                    audiences: credential.audiences,
                },
                { parent, deleteBeforeReplace: true, dependsOn: after ? [after] : [] },
            ),
    };
}

/** The ServiceAccounts the trust is for. */
export interface WorkloadServiceAccounts {
    /** The ServiceAccounts allowed to use the identity (`allowedServiceAccounts`). */
    readonly allowed: readonly ServiceAccountRef[];
    /** The workload's own ServiceAccount (none without a namespace). */
    readonly own: ServiceAccountRef | undefined;
}

/** Everything that makes a cluster's or a federation's tokens count for the principal. */
export interface TrustChain {
    /** Federated credentials keyed by cluster key and federation key. */
    readonly federatedCredentials: Record<string, pulumi.CustomResource>;
    /** Identity binding mode's children keyed by cluster key (none in classic mode). */
    readonly bindingChildren: Record<string, IdentityBindingChildren>;
    /** The identity bindings keyed by cluster key. */
    readonly identityBindings: Record<string, pulumi.CustomResource>;
    /** The ClusterRoleBindings of identity binding mode keyed by cluster key. */
    readonly identityBindingRoleBindings: Record<string, pulumi.CustomResource>;
    /** The issuer AKS keeps for the bindings (the first binding's); undefined in classic mode. */
    readonly identityBindingIssuerUrl: pulumi.Output<string | undefined>;
}

/**
 * The one chain of writes under the principal: the clusters' federated credentials, the identity
 * bindings, then the federations' credentials, each after the previous one.
 *
 * Classic mode: one credential per cluster and allowed ServiceAccount (the workload's own keeps
 * the name `fic-<cluster>` it always had); none in identity binding mode, whose one credential AKS
 * writes. Then one per extra federation, in a stable order.
 */
export function writeTrustChain(
    scope: WorkloadIdentityScope,
    principal: WorkloadPrincipal,
    accounts: WorkloadServiceAccounts,
    args: Pick<WorkloadIdentityArgs, "identityBinding" | "keepClassicCredentials" | "federations">,
): TrustChain {
    const { name, parent, clusters } = scope;
    const { allowed, own } = accounts;
    const identityBinding = args.identityBinding === true;
    const keepClassic = identityBinding && args.keepClassicCredentials === true;
    const clusterCredentials: FederatedCredentialSpec[] =
        identityBinding && !keepClassic
            ? []
            : clusters.flatMap(([key, binding]) =>
                  allowed.map((account) => {
                      const subject = serviceAccountSubject(account.namespace, account.name);
                      return {
                          key: classicCredentialKey(key, account, own),
                          issuer: binding.oidcIssuerUrl,
                          subject,
                          audiences: [ENTRA_TOKEN_EXCHANGE_AUDIENCE] as pulumi.Input<pulumi.Input<string>[]>,
                          description: `Cluster ${key}: ${subject}`,
                      };
                  }),
              );
    const federationCredentials: FederatedCredentialSpec[] = Object.entries(args.federations ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, federation]) => ({
            key,
            issuer: federation.issuer,
            subject: federation.subject,
            audiences: federation.audiences ?? [ENTRA_TOKEN_EXCHANGE_AUDIENCE],
            description: `Federation ${key}`,
        }));
    // Azure rejects concurrent FIC writes under one identity (409
    // ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): chain them, and
    // the identity bindings (each makes AKS write the identity's FIC) with them.
    const federatedCredentials: Record<string, pulumi.CustomResource> = {};
    let previous: pulumi.Resource | undefined;
    for (const credential of clusterCredentials) {
        previous = federatedCredentials[credential.key] = principal.writeCredential(credential, previous);
    }
    // Identity binding mode (validated: a managed identity, and every cluster's group and name).
    const bindingChildren: Record<string, IdentityBindingChildren> = {};
    if (identityBinding && principal.identityResourceId !== undefined) {
        for (const [key, target] of clusters) {
            bindingChildren[key] = identityBindingOnCluster(
                {
                    key,
                    clusterResourceGroupName: target.clusterResourceGroupName as pulumi.Input<string>,
                    clusterName: target.clusterName as pulumi.Input<string>,
                    kubernetesProvider: kubernetesProviderOf(target),
                    kubernetesDependsOn: bindingDependsOn(target),
                },
                {
                    ownerName: name,
                    parent,
                    identityResourceId: principal.identityResourceId,
                    clientId: principal.clientId,
                    serviceAccounts: allowed,
                    after: previous,
                },
            );
            previous = bindingChildren[key].binding;
        }
    }
    for (const credential of federationCredentials) {
        previous = federatedCredentials[credential.key] = principal.writeCredential(credential, previous);
    }
    const firstBinding = Object.values(bindingChildren)[0];
    return {
        federatedCredentials,
        bindingChildren,
        identityBindings: Object.fromEntries(Object.entries(bindingChildren).map(([key, children]) => [key, children.binding])),
        identityBindingRoleBindings: Object.fromEntries(Object.entries(bindingChildren).map(([key, children]) => [key, children.clusterRoleBinding])),
        identityBindingIssuerUrl: firstBinding === undefined ? pulumi.output(undefined) : firstBinding.issuerUrl,
    };
}

/** The ServiceAccount annotations: client ID, tenant, and the token lifetime when given. */
export function serviceAccountAnnotations(
    principal: Pick<WorkloadPrincipal, "clientId" | "tenantId">,
    args: Pick<WorkloadIdentityArgs, "tokenExpirationSeconds">,
): Record<string, pulumi.Input<string>> {
    const annotations: Record<string, pulumi.Input<string>> = {
        [CLIENT_ID_ANNOTATION]: principal.clientId,
        [TENANT_ID_ANNOTATION]: principal.tenantId,
    };
    if (args.tokenExpirationSeconds !== undefined) {
        annotations[TOKEN_EXPIRATION_ANNOTATION] = String(args.tokenExpirationSeconds);
    }
    return annotations;
}

/** The workload's own ServiceAccount, as every cluster gets it. */
export interface WorkloadServiceAccount {
    readonly namespace: string | undefined;
    readonly name: string;
    readonly annotations: Record<string, pulumi.Input<string>>;
}

/**
 * The annotated ServiceAccount `${name}-sa-<cluster>` in every cluster: created (the default), a
 * server-side apply patch of an existing one (`annotateExistingServiceAccount`), or none
 * (`createServiceAccount: false` alone).
 */
export function createServiceAccounts(
    scope: WorkloadIdentityScope,
    account: WorkloadServiceAccount,
    args: Pick<WorkloadIdentityArgs, "createServiceAccount" | "annotateExistingServiceAccount">,
): Record<string, pulumi.CustomResource> {
    const { name, parent, clusters } = scope;
    const serviceAccounts: Record<string, pulumi.CustomResource> = {};
    const createServiceAccount = args.createServiceAccount ?? true;
    const annotateExisting = args.annotateExistingServiceAccount ?? false;
    for (const [key, binding] of clusters) {
        // metadata.name is explicit: an autonamed ServiceAccount would not match the FIC subject.
        const metadata = { name: account.name, namespace: account.namespace as string, annotations: account.annotations };
        const options = { parent, provider: kubernetesProviderOf(binding), dependsOn: bindingDependsOn(binding) };
        if (createServiceAccount) {
            serviceAccounts[key] = new corev1.ServiceAccount(`${name}-sa-${key}`, { metadata }, options);
        } else if (annotateExisting) {
            // A server-side apply patch needs the object to exist: opt-in only.
            serviceAccounts[key] = new corev1.ServiceAccountPatch(`${name}-sa-${key}`, { metadata }, options);
        }
    }
    return serviceAccounts;
}

/** What `mountKeyVault` grants through: `WorkloadIdentityGrants`. */
export interface RoleGrants {
    assign(key: string, args: RoleAssignmentArgs): authorization.RoleAssignment;
}

/** The workload as its SecretProviderClasses name it. */
export interface KeyVaultWorkload {
    readonly clientId: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;
    readonly namespace: string | undefined;
    readonly identityBinding: boolean;
}

/** What `mountKeyVault` made. */
export interface KeyVaultMount {
    /** The "Key Vault Secrets User" assignment (`KEY_VAULT_SECRETS_GRANT`). */
    readonly secretsGrant: authorization.RoleAssignment;
    /** The vault's name, read from its resource ID when known. */
    readonly vaultName: pulumi.Output<string>;
    /** SecretProviderClasses keyed by cluster key. */
    readonly secretProviderClasses: Record<string, pulumi.CustomResource>;
    readonly volume: k8sInputs.core.v1.Volume;
    readonly volumeMount: k8sInputs.core.v1.VolumeMount;
}

/**
 * The `keyVault` argument: the Key Vault roles (secrets, and certificates when listed), the
 * SecretProviderClass `${name}-spc-<cluster>` in every cluster, and the pod volume and mount.
 */
export function mountKeyVault(scope: WorkloadIdentityScope, grants: RoleGrants, keyVault: KeyVaultArgs, workload: KeyVaultWorkload): KeyVaultMount {
    const { name, parent, clusters } = scope;
    const secretsGrant = grants.assign(KEY_VAULT_SECRETS_GRANT, { role: "Key Vault Secrets User", scope: keyVault.resourceId });
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
    const className = `${normalizeNamePart(name)}-keyvault`;
    const secretProviderClasses: Record<string, pulumi.CustomResource> = {};
    for (const [key, binding] of clusters) {
        secretProviderClasses[key] = new apiextensions.CustomResource(
            `${name}-spc-${key}`,
            {
                apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
                kind: "SecretProviderClass",
                metadata: { name: className, namespace: workload.namespace },
                spec: {
                    provider: "azure",
                    parameters: secretProviderClassParameters<pulumi.Input<string>>({
                        clientId: workload.clientId,
                        tenantId: workload.tenantId,
                        vaultName,
                        objects: keyVaultObjects(keyVault.secrets ?? [], keyVault.certificates ?? []),
                        identityBinding: workload.identityBinding,
                    }),
                },
            },
            { parent, provider: kubernetesProviderOf(binding), dependsOn: bindingDependsOn(binding) },
        );
    }
    return { secretsGrant, vaultName, secretProviderClasses, volume: secretsVolume("keyvault", className), volumeMount: secretsVolumeMount("keyvault") };
}

/** What the quick-start Jobs run as and wait for. */
export interface QuickstartInputs {
    /** The secret whose metadata the Job reads: the first of `keyVault.secrets`. */
    readonly secret: string;
    readonly keyVault: KeyVaultMount;
    readonly trust: TrustChain;
    readonly serviceAccounts: Readonly<Record<string, pulumi.CustomResource>>;
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly podAnnotations: Readonly<Record<string, string>>;
}

/** The quick-start Job `${name}-quickstart-<cluster>` in every cluster (`quickstart` with `keyVault`). */
export function createQuickstartJobs(scope: WorkloadIdentityScope, inputs: QuickstartInputs): Record<string, pulumi.CustomResource> {
    const { name, parent, clusters } = scope;
    const { federatedCredentials, bindingChildren } = inputs.trust;
    const baseName = normalizeNamePart(name);
    const quickstartJobs: Record<string, pulumi.CustomResource> = {};
    for (const [key, binding] of clusters) {
        const viaBinding = bindingChildren[key];
        // The Job proves the chain, so it starts once the chain exists: its cluster's FIC
        // (or identity binding and RBAC), the Key Vault role and the annotated
        // ServiceAccount. Propagation after that is what its backoff waits out.
        const trust = viaBinding === undefined ? [federatedCredentials[key]] : [viaBinding.binding, viaBinding.clusterRoleBinding];
        const serviceAccount = inputs.serviceAccounts[key];
        quickstartJobs[key] = quickstartJob(`${name}-quickstart-${key}`, {
            name: `${baseName}-quickstart`,
            namespace: inputs.namespace,
            serviceAccount: inputs.serviceAccount,
            script: inputs.keyVault.vaultName.apply((vault) =>
                viaBinding === undefined ? quickstartScript(vault, inputs.secret) : quickstartBindingScript(vault, inputs.secret),
            ),
            podAnnotations: inputs.podAnnotations,
            dependsOn: [...bindingDependsOn(binding), ...trust, inputs.keyVault.secretsGrant, ...(serviceAccount ? [serviceAccount] : [])],
            parent,
            provider: kubernetesProviderOf(binding),
        });
    }
    return quickstartJobs;
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

/** A binding's provider, typed (`workloadIdentityProblems` has checked it). */
function kubernetesProviderOf(binding: WorkloadClusterBinding): pulumi.ProviderResource {
    return binding.kubernetesProvider as pulumi.ProviderResource;
}
