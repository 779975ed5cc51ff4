/**
 * The exact strings Azure Workload Identity matches on. A typo in any of them fails silently
 * (no AZURE_* variables in the pod, or AADSTS70021 at token exchange), so every component and
 * tool uses these constants instead of literals.
 */

/** ServiceAccount annotation: client ID of the managed identity or app registration. */
export const CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";

/** ServiceAccount annotation: tenant of the principal (defaults to the cluster's tenant). */
export const TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id";

/** ServiceAccount annotation: projected token lifetime in seconds (3600..86400). */
export const TOKEN_EXPIRATION_ANNOTATION = "azure.workload.identity/service-account-token-expiration";

/** Pod label (on the pod, not the ServiceAccount) that makes the webhook inject the token. */
export const USE_LABEL = "azure.workload.identity/use";

/** The only audience Entra ID accepts for a federated token exchange. */
export const ENTRA_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** GitHub Actions' OIDC issuer: no trailing slash, unlike an AKS issuer. */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

/** Bounds of the projected token lifetime the webhook accepts. */
export const MIN_TOKEN_EXPIRATION_SECONDS = 3600;
export const MAX_TOKEN_EXPIRATION_SECONDS = 86400;

/** Entra ID allows at most this many federated credentials per identity or app registration. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** Application ID of the AKS AAD server application, the audience of kubelogin tokens. */
export const AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** The labels a pod must carry to receive the federated token. */
export const WORKLOAD_IDENTITY_POD_LABELS: Readonly<Record<string, string>> = Object.freeze({
    [USE_LABEL]: "true",
});

/** Namespaces no component may create or delete: Kubernetes and AKS own them. */
export const RESERVED_NAMESPACES: readonly string[] = Object.freeze(["default", "kube-system", "kube-public", "kube-node-lease"]);

/*
 * AKS identity bindings (AKS docs "Identity bindings for Azure Kubernetes Service" and "Set up
 * identity bindings", azure-aks-docs 2026-08; REST spec Microsoft.ContainerService 2026-04-01 and
 * later, `IdentityBinding.tsp`).
 */

/** Pod annotation that makes the webhook project the identity binding token and the proxy variables. */
export const USE_IDENTITY_BINDING_ANNOTATION = "azure.workload.identity/use-identity-binding";

/** The audience of the token the webhook projects for a pod in identity binding mode; only the AKS proxy accepts it. */
export const IDENTITY_BINDING_AUDIENCE = "api://AKSIdentityBinding";

/** The federated credential AKS creates (or reuses) on an identity for all of its bindings; AKS's, never ours. */
export const AKS_IDENTITY_BINDING_CREDENTIAL = "aks-identity-binding";

/** The Kubernetes RBAC verb and API group the AKS proxy checks before it uses an identity for a ServiceAccount. */
export const USE_MANAGED_IDENTITY_VERB = "use-managed-identity";
export const IDENTITY_BINDING_API_GROUP = "cid.wi.aks.azure.com";

/** The Secrets Store CSI provider parameter that sends the token exchange through the AKS proxy. */
export const USE_AZURE_TOKEN_PROXY_PARAMETER = "useAzureTokenProxy";

/** The pod annotations of identity binding mode. */
export const IDENTITY_BINDING_POD_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({
    [USE_IDENTITY_BINDING_ANNOTATION]: "true",
});
