import { parse as parseYaml } from "yaml";
import { TYPES } from "../policy/resource-types";

/**
 * The providers' replace-on-change rules for every resource type this project registers, in one
 * table, each entry with the source it was read from. The offline diff (`plan/diff.ts`) uses it to
 * tell an update from a replacement, and whether the old resource goes before its replacement exists.
 *
 * Paths are Pulumi property paths over the resource's inputs (`networkProfile.networkPolicy`,
 * `agentPoolProfiles[].vmSize`, with `[]` for any array index). A change at a rule's path or under
 * it forces a replacement.
 *
 * Sources, read 2026-12 (the provider versions are those in package-lock.json):
 * - pulumi-azure-native: `provider/pkg/provider/diff.go` (calculateDetailedDiff: every PUT path
 *   parameter forces a replacement, as do properties marked ForceNew, at the top level and one
 *   level into objects and array items), `provider/pkg/gen/replacement.go` (forceNewMap, the
 *   properties marked ForceNew by hand; networkProfile per leaf since pulumi-azure-native#4771,
 *   2026-07, after v3.20.0: @pulumi/azure-native 3.28.0 is later), and `x-ms-mutability` without
 *   "update" in the REST specs (/work/shared/reference/azure-rest-api-specs, the API versions
 *   azure-native 3.28.0 uses). `provider/pkg/provider/provider.go` (Diff): every replacement is
 *   delete-before-replace unless the name was generated at random; this project names everything.
 * - pulumi-azuread 6.9.1 bridges terraform-provider-azuread v3.8.0 (38d1993a1): ForceNew fields of
 *   `azuread_application`, `azuread_service_principal` and
 *   `azuread_application_federated_identity_credential`; the bridge sets no DeleteBeforeReplace for
 *   them (pulumi-azuread `provider/resources.go`), so Pulumi creates the replacement first unless the
 *   resource option `deleteBeforeReplace` says otherwise.
 * - pulumi-kubernetes `provider/pkg/provider/diff.go` (forceNewProperties: `.metadata.name` and
 *   `.metadata.namespace` for every kind, plus per-kind immutable fields) and `provider.go` (Diff:
 *   Patch resources replace only on name and namespace; delete-before-replace when the replacement
 *   keeps the name and namespace; DiffConfig: the provider is replaced when its kubeconfig is
 *   unknown or points at another cluster, and then every object it manages is replaced with it).
 */

export interface ReplaceRule {
    /** Pulumi property path; `[]` stands for any array index. */
    readonly path: string;
    /** Where the rule comes from. */
    readonly source: string;
}

/** When the provider deletes the old resource before it creates the replacement. */
export type DeleteFirst =
    /** Always (azure-native: names are fixed, the new one cannot exist beside the old one). */
    | "always"
    /** When the replacement keeps the old name and namespace (pulumi-kubernetes). */
    | "same-name"
    /** Only when the resource option `deleteBeforeReplace` is set (the engine's default is create first). */
    | "option";

export interface ResourceRules {
    readonly type: string;
    readonly replaceOn: readonly ReplaceRule[];
    readonly deleteFirst: DeleteFirst;
    readonly deleteFirstSource: string;
}

const AZURE_NATIVE_DIFF = "pulumi-azure-native provider/pkg/provider/diff.go: a PUT path parameter";
const AZURE_NATIVE_FORCE_NEW = "pulumi-azure-native provider/pkg/gen/replacement.go forceNewMap";
const AZURE_NATIVE_DELETE_FIRST = "pulumi-azure-native provider/pkg/provider/provider.go Diff: deleteBeforeReplace := len(replaces) > 0 (explicit names)";
const MUTABILITY = "x-ms-mutability [read, create]";
const AZUREAD = "terraform-provider-azuread v3.8.0 ForceNew";
const AZUREAD_DELETE_FIRST = "pulumi-azuread provider/resources.go sets no DeleteBeforeReplace: the engine creates first";
const KUBERNETES_DIFF = "pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties";
const KUBERNETES_DELETE_FIRST = "pulumi-kubernetes provider/pkg/provider/provider.go Diff: delete first when the new object keeps its name and namespace";

function rules(source: string, ...paths: string[]): ReplaceRule[] {
    return paths.map((path) => ({ path, source }));
}

const MANAGED_CLUSTER_NETWORK = [
    // Create-only: AKS has no update path.
    "serviceCidr",
    "serviceCidrs",
    "dnsServiceIP",
    "networkMode",
    // Updatable only along one-way migrations; azure-native forces a replacement to stay safe.
    "networkPlugin",
    "networkPluginMode",
    "podCidr",
    "networkDataplane",
    "networkPolicy",
    "outboundType",
].map((leaf) => `networkProfile.${leaf}`);

export const REPLACE_RULES: readonly ResourceRules[] = [
    {
        type: TYPES.resourceGroup,
        replaceOn: [
            ...rules(`${AZURE_NATIVE_DIFF} of /subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}`, "resourceGroupName"),
            ...rules(`${AZURE_NATIVE_FORCE_NEW} Resources.ResourceGroup`, "location"),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.managedCluster,
        replaceOn: [
            ...rules(`${AZURE_NATIVE_DIFF} of .../managedClusters/{resourceName}`, "resourceGroupName", "resourceName"),
            ...rules(
                `${AZURE_NATIVE_FORCE_NEW} ContainerService.ManagedCluster`,
                "diskEncryptionSetID",
                "dnsPrefix",
                "fqdnSubdomain",
                "linuxProfile",
                "location",
                "nodeResourceGroup",
                "windowsProfile",
                ...MANAGED_CLUSTER_NETWORK,
            ),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.agentPool,
        replaceOn: [
            ...rules(`${AZURE_NATIVE_DIFF} of .../managedClusters/{resourceName}/agentPools/{agentPoolName}`, "resourceGroupName", "resourceName", "agentPoolName"),
            ...rules(`${AZURE_NATIVE_FORCE_NEW} ContainerService.AgentPool`, "gpuInstanceProfile", "vmSize", "networkProfile.nodePublicIPTags"),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.userAssignedIdentity,
        replaceOn: [
            ...rules(`${AZURE_NATIVE_DIFF} of .../userAssignedIdentities/{resourceName}`, "resourceGroupName", "resourceName"),
            ...rules(`${MUTABILITY}: TrackedResource.location (common-types v5 types.json, ManagedIdentity.json 2023-01-31)`, "location"),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.federatedIdentityCredential,
        // issuer, subject and audiences are updatable in place (no x-ms-mutability, not in forceNewMap).
        replaceOn: rules(
            `${AZURE_NATIVE_DIFF} of .../userAssignedIdentities/{resourceName}/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}`,
            "resourceGroupName",
            "resourceName",
            "federatedIdentityCredentialResourceName",
        ),
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.roleAssignment,
        replaceOn: [
            ...rules(`${AZURE_NATIVE_DIFF} of /{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}`, "scope", "roleAssignmentName"),
            ...rules(`${AZURE_NATIVE_FORCE_NEW} Authorization.RoleAssignment`, "principalId"),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.application,
        // display_name, owners, identifier URIs and the rest update in place.
        replaceOn: rules(`${AZUREAD} of azuread_application (template_id)`, "templateId"),
        deleteFirst: "option",
        deleteFirstSource: AZUREAD_DELETE_FIRST,
    },
    {
        type: TYPES.servicePrincipal,
        replaceOn: rules(`${AZUREAD} of azuread_service_principal (client_id)`, "clientId"),
        deleteFirst: "option",
        deleteFirstSource: AZUREAD_DELETE_FIRST,
    },
    {
        type: TYPES.applicationFederatedIdentityCredential,
        // issuer, subject, audiences and description update in place.
        replaceOn: rules(`${AZUREAD} of azuread_application_federated_identity_credential (application_id, display_name)`, "applicationId", "displayName"),
        deleteFirst: "option",
        deleteFirstSource: AZUREAD_DELETE_FIRST,
    },
    {
        // The generic resource this stack uses for AKS identity bindings (API 2026-05-01).
        type: TYPES.genericResource,
        replaceOn: [
            ...rules(
                `${AZURE_NATIVE_DIFF} of /{resourceGroupName}/providers/{resourceProviderNamespace}/{parentResourcePath}/{resourceType}/{resourceName}`,
                "resourceGroupName",
                "resourceProviderNamespace",
                "parentResourcePath",
                "resourceType",
                "resourceName",
            ),
            ...rules(`${MUTABILITY}: IdentityBinding.properties.managedIdentity is create-only (IdentityBinding.tsp, 2026-04-01)`, "properties.managedIdentity"),
        ],
        deleteFirst: "always",
        deleteFirstSource: AZURE_NATIVE_DELETE_FIRST,
    },
    {
        type: TYPES.kubernetesRbacReadiness,
        // Its provider's diff (components/rbac-readiness-provider.ts) reports changes, never
        // replaces: a new kubeconfig or grant waits again in place.
        replaceOn: [],
        deleteFirst: "option",
        deleteFirstSource: "components/rbac-readiness-provider.ts diff: no replaces, so no delete",
    },
    {
        type: TYPES.kubernetesProvider,
        // Replaced only when the kubeconfig is unknown or selects another cluster: see kubeconfigForcesReplacement.
        replaceOn: rules("pulumi-kubernetes provider/pkg/provider/provider.go DiffConfig (unknown kubeconfig, or another active cluster)", "kubeconfig"),
        deleteFirst: "option",
        deleteFirstSource: "the engine creates a replaced provider first",
    },
];

/** Per Kubernetes kind (`<group>/<version>:<Kind>` as in the type token), the immutable fields besides metadata. */
const KUBERNETES_KIND_RULES: Readonly<Record<string, readonly string[]>> = {
    "batch/v1:Job": ["spec.completions", "spec.parallelism", "spec.selector", "spec.template"],
    "apps/v1:Deployment": ["spec.selector"],
    "apps/v1:DaemonSet": ["spec.selector"],
    "apps/v1:StatefulSet": ["spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
    "core/v1:Secret": ["type"],
    "core/v1:Service": ["spec.clusterIP"],
    "core/v1:PersistentVolumeClaim": ["spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"],
    "rbac.authorization.k8s.io/v1:RoleBinding": ["roleRef"],
    "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ["roleRef"],
    "storage.k8s.io/v1:StorageClass": ["parameters", "provisioner"],
};

const KUBERNETES_TYPE = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/;

/** The rules of a Kubernetes object type (`kubernetes:core/v1:ServiceAccount`, a `...Patch` type too). */
function kubernetesRules(type: string): ResourceRules | undefined {
    const match = KUBERNETES_TYPE.exec(type);
    if (match === null) {
        return undefined;
    }
    const [, groupVersion, kind] = match;
    const patch = kind.endsWith("Patch");
    const kindKey = `${groupVersion}:${patch ? kind.slice(0, -"Patch".length) : kind}`;
    return {
        type,
        replaceOn: [
            ...rules(`${KUBERNETES_DIFF} (metadataForceNewProperties)`, "metadata.name", "metadata.namespace"),
            // Patch resources update every other field in place.
            ...(patch ? [] : rules(`${KUBERNETES_DIFF} (${kindKey})`, ...(KUBERNETES_KIND_RULES[kindKey] ?? []))),
        ],
        deleteFirst: "same-name",
        deleteFirstSource: KUBERNETES_DELETE_FIRST,
    };
}

/** The rules for a resource type, or undefined for a type the table does not know (a change is then an update). */
export function rulesFor(type: string): ResourceRules | undefined {
    return REPLACE_RULES.find((r) => r.type === type) ?? kubernetesRules(type);
}

/** `agentPoolProfiles[0].vmSize` -> `agentPoolProfiles[].vmSize`. */
export function normalizePath(path: string): string {
    return path.replace(/\[\d+\]/g, "[]");
}

function under(path: string, prefix: string): boolean {
    return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/**
 * The rule a changed path hits, if any. `unknown`: the new value is known only after deploy (it
 * comes from a resource that is replaced), so a rule under the path may change too.
 */
export function ruleForPath(type: string, path: string, unknown = false): ReplaceRule | undefined {
    const normalized = normalizePath(path);
    return rulesFor(type)?.replaceOn.find((rule) => under(normalized, rule.path) || (unknown && under(rule.path, normalized)));
}

/** The active cluster of a kubeconfig (its server and CA), what pulumi-kubernetes compares in DiffConfig. */
export function kubeconfigCluster(kubeconfig: string): string | undefined {
    try {
        const config = parseYaml(kubeconfig) as {
            "current-context"?: string;
            contexts?: { name: string; context?: { cluster?: string } }[];
            clusters?: { name: string; cluster?: { server?: string; "certificate-authority-data"?: string } }[];
        };
        const context = config.contexts?.find((c) => c.name === config["current-context"]);
        const cluster = config.clusters?.find((c) => c.name === context?.context?.cluster);
        return cluster?.cluster === undefined ? undefined : JSON.stringify([cluster.cluster.server, cluster.cluster["certificate-authority-data"]]);
    } catch {
        return undefined;
    }
}

/** Whether a Kubernetes provider's kubeconfig change replaces it (and every object it manages). */
export function kubeconfigForcesReplacement(before: unknown, after: unknown, unknown: boolean): boolean {
    if (unknown) {
        return true;
    }
    if (typeof before !== "string" || typeof after !== "string") {
        return before !== after;
    }
    const old = kubeconfigCluster(before);
    return old === undefined || old !== kubeconfigCluster(after);
}

/**
 * Whether the old resource is deleted before its replacement is created: always for azure-native;
 * for Kubernetes when the replacement keeps its name and namespace; otherwise only with the
 * `deleteBeforeReplace` resource option.
 */
export function deletesFirst(type: string, replacePaths: readonly string[], deleteBeforeReplaceOption: boolean): boolean {
    if (deleteBeforeReplaceOption) {
        return true;
    }
    const entry = rulesFor(type);
    switch (entry?.deleteFirst) {
        case "always":
            return true;
        case "same-name":
            return !replacePaths.some((path) => under(path, "metadata.name") || under(path, "metadata.namespace") || path === "metadata");
        default:
            return false;
    }
}
