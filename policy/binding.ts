import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { IDENTITY_BINDING_API_GROUP, USE_MANAGED_IDENTITY_VERB } from "../components/constants";
import { bindingIdentityResourceIdProblem, identityBindingNameProblem } from "../components/identity-binding-rules";
import { resourcePolicy, stackPolicy, type StackProblem } from "./define";
import { TYPES } from "./resource-types";
import {
    UNKNOWN,
    arrayAt,
    at,
    identityBindingNameOf,
    isIdentityBinding,
    kubernetesPlacement,
    label,
    objectName,
    sameCluster,
    show,
    stringAt,
} from "./resources";

/**
 * AKS identity bindings. A binding maps one managed identity to one cluster; which ServiceAccounts
 * may use it is Kubernetes RBAC (verb `use-managed-identity` on `cid.wi.aks.azure.com/<client
 * ID>`), so the RBAC is where a binding is made too wide. A binding-mode identity has no
 * per-cluster FIC on purpose: no FIC rule expects one (`fic-count-per-identity` counts the one
 * FIC AKS creates).
 */

/** How messages name a binding, typed or generic: `IdentityBinding "<Pulumi name>"`. */
function bindingLabel(binding: { readonly name: string }): string {
    return `IdentityBinding "${binding.name}"`;
}

export const identityBindingWellFormed = resourcePolicy({
    name: "identity-binding-well-formed",
    description:
        "AKS identity bindings have a name of 1 to 63 lower-case letters and digits starting with a letter, and map a user-assigned identity whose resource group and name hold only letters, digits and \"-\" (the API's patterns).",
    enforcementLevel: "mandatory",
    remediationSteps: "Name the binding ^[a-z][a-z0-9]{0,62}$ (the components derive it from the workload key) and put the identity in a resource group whose name has no \"_\", \".\" or parentheses.",
    appliesTo: (type) => type === TYPES.identityBinding || type === TYPES.genericResource,
    check: (args) => {
        if (!isIdentityBinding(args.type, args.props)) {
            return [];
        }
        const problems: string[] = [];
        const name = identityBindingNameOf(args);
        const nameProblem = typeof name === "string" ? identityBindingNameProblem(name) : undefined;
        if (nameProblem !== undefined) {
            problems.push(`${bindingLabel(args)}: ${nameProblem} Azure refuses the binding.`);
        }
        const resourceId = stringAt(args.props, "properties", "managedIdentity", "resourceId");
        if (resourceId === undefined) {
            problems.push(`${bindingLabel(args)}: no properties.managedIdentity.resourceId. A binding maps exactly one user-assigned managed identity: set it from the identity's id output.`);
        } else if (resourceId !== UNKNOWN) {
            const idProblem = bindingIdentityResourceIdProblem(resourceId);
            if (idProblem !== undefined) {
                problems.push(`${bindingLabel(args)}: ${idProblem}`);
            }
        }
        return problems;
    },
});

/** Groups whose members are ServiceAccounts by the dozen: what a binding's RBAC must never name. */
function broadGroup(name: string): string | undefined {
    if (name === "system:serviceaccounts") {
        return "every ServiceAccount of the cluster";
    }
    if (name.startsWith("system:serviceaccounts:")) {
        return `every ServiceAccount of namespace "${name.slice("system:serviceaccounts:".length)}"`;
    }
    if (name === "system:authenticated") {
        return "every authenticated user and ServiceAccount of the cluster";
    }
    return undefined;
}

const includes = (list: unknown[] | typeof UNKNOWN | undefined, ...values: string[]): boolean =>
    Array.isArray(list) && list.some((item) => typeof item === "string" && values.includes(item));

/** The rules of a role that grant `use-managed-identity` (or every verb) on the identity binding API group (or every group). */
function useManagedIdentityRules(role: PolicyResource): unknown[] {
    const rules = arrayAt(role.props, "rules");
    if (!Array.isArray(rules)) {
        return [];
    }
    return rules.filter(
        (rule) => includes(arrayAt(rule, "apiGroups"), IDENTITY_BINDING_API_GROUP, "*") && includes(arrayAt(rule, "verbs"), USE_MANAGED_IDENTITY_VERB, "*"),
    );
}

/** What the granting rules cover: the client IDs they name, or every identity. */
function grantedIdentities(rules: readonly unknown[]): string {
    const names = rules.flatMap((rule) => {
        const resources = arrayAt(rule, "resources");
        return Array.isArray(resources) ? resources : [UNKNOWN];
    });
    if (names.includes("*")) {
        return "every identity bound to the cluster (resources: *)";
    }
    const known = names.filter((n): n is string => typeof n === "string");
    return known.length === names.length ? `client ID ${known.map((n) => `"${n}"`).join(", ")}` : "the identity's client ID";
}

/** The Role or ClusterRole in the stack a RoleBinding or ClusterRoleBinding refers to, on the same cluster. */
function roleOf(binding: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
    const kind = stringAt(binding.props, "roleRef", "kind");
    const name = stringAt(binding.props, "roleRef", "name");
    if (typeof kind !== "string" || typeof name !== "string") {
        return undefined;
    }
    const placement = kubernetesPlacement(binding, resources);
    const namespace = objectName(binding.props)?.namespace;
    return resources.find((candidate) => {
        const id = objectName(candidate.props);
        if (id === undefined || id.name !== name || !sameCluster(kubernetesPlacement(candidate, resources), placement)) {
            return false;
        }
        return kind === "ClusterRole" ? candidate.type === TYPES.clusterRole : kind === "Role" && candidate.type === TYPES.role && id.namespace === namespace;
    });
}

export const identityBindingRbacSubjects = stackPolicy({
    name: "identity-binding-rbac-subjects",
    description: `No RoleBinding or ClusterRoleBinding grants ${USE_MANAGED_IDENTITY_VERB} (on ${IDENTITY_BINDING_API_GROUP}) to a group of ServiceAccounts: system:serviceaccounts, system:serviceaccounts:<namespace> or system:authenticated.`,
    enforcementLevel: "mandatory",
    remediationSteps: "List each ServiceAccount allowed to use the identity as a subject of kind ServiceAccount (the workload's serviceAccounts).",
    check: (args) => {
        const problems: StackProblem[] = [];
        for (const binding of args.resources.filter((r) => r.type === TYPES.clusterRoleBinding || r.type === TYPES.roleBinding)) {
            const role = roleOf(binding, args.resources);
            const rules = role === undefined ? [] : useManagedIdentityRules(role);
            if (role === undefined || rules.length === 0) {
                continue;
            }
            const subjects = arrayAt(binding.props, "subjects");
            if (!Array.isArray(subjects)) {
                continue;
            }
            for (const subject of subjects) {
                const name = stringAt(subject, "name");
                const who = stringAt(subject, "kind") === "Group" && typeof name === "string" ? broadGroup(name) : undefined;
                if (who === undefined) {
                    continue;
                }
                problems.push({
                    urn: binding.urn,
                    message: `${label(binding)} grants ${USE_MANAGED_IDENTITY_VERB} on ${grantedIdentities(rules)} (${label(role)}) to group ${show(name)}, ${who}: any pod there could use the managed identity through the identity binding. List each allowed ServiceAccount as a subject { kind: ServiceAccount, namespace, name } instead (the workload's serviceAccounts).`,
                });
            }
        }
        return problems;
    },
});

export const identityBindingUniqueNames = stackPolicy({
    name: "identity-binding-unique-names",
    description: "No two identity bindings of the stack have the same name on the same cluster (the second write would take over the first binding).",
    enforcementLevel: "mandatory",
    remediationSteps: "Give the workloads keys whose identity binding names differ.",
    check: (args) => {
        const problems: StackProblem[] = [];
        const seen = new Map<string, PolicyResource>();
        for (const binding of args.resources.filter((r) => isIdentityBinding(r.type, r.props))) {
            const typed = binding.type === TYPES.identityBinding;
            const group = stringAt(binding.props, "resourceGroupName");
            const cluster = stringAt(binding.props, typed ? "resourceName" : "parentResourcePath");
            const name = identityBindingNameOf(binding);
            if (typeof group !== "string" || typeof cluster !== "string" || typeof name !== "string") {
                continue;
            }
            const clusterPath = typed ? `managedclusters/${cluster.toLowerCase()}` : cluster.toLowerCase();
            const key = `${group.toLowerCase()}/${clusterPath}/${name}`;
            const first = seen.get(key);
            if (first === undefined) {
                seen.set(key, binding);
                continue;
            }
            problems.push({
                urn: binding.urn,
                message: `${bindingLabel(binding)} and ${bindingLabel(first)} both write identity binding "${name}" of ${clusterPath.replace(/^managedclusters\//, "cluster ")} in resource group "${group}": the second would take over the first. Give the workloads keys whose identity binding names differ.`,
            });
        }
        return problems;
    },
});

/** The ManagedCluster a binding is a child of: the one its cluster name comes from, or the one of that literal name. */
function clusterOfBinding(binding: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
    const property = binding.type === TYPES.identityBinding ? "resourceName" : "parentResourcePath";
    const source = (binding.propertyDependencies[property] ?? []).find((r) => r.type === TYPES.managedCluster);
    if (source !== undefined) {
        return source;
    }
    const value = stringAt(binding.props, property);
    if (typeof value !== "string") {
        return undefined;
    }
    const name = binding.type === TYPES.identityBinding ? value : value.replace(/^managedClusters\//i, "");
    return resources.find((r) => r.type === TYPES.managedCluster && stringAt(r.props, "resourceName") === name);
}

export const identityBindingClusterSupported = stackPolicy({
    name: "identity-binding-cluster-supported",
    description: "No identity binding is made on a cluster with API server VNet integration, which AKS identity bindings do not support.",
    enforcementLevel: "mandatory",
    remediationSteps: "Keep the workloads of such a cluster in classic mode (identityBinding: false), or run them on a cluster without API server VNet integration.",
    check: (args) => {
        const problems: StackProblem[] = [];
        for (const binding of args.resources.filter((r) => isIdentityBinding(r.type, r.props))) {
            const cluster = clusterOfBinding(binding, args.resources);
            if (cluster !== undefined && at(cluster.props, "apiServerAccessProfile", "enableVnetIntegration") === true) {
                problems.push({
                    urn: binding.urn,
                    message: `${bindingLabel(binding)} is made on ${label(cluster)}, which uses API server VNet integration (apiServerAccessProfile.enableVnetIntegration); AKS identity bindings are not supported there. Keep the workload in classic mode on that cluster (identityBinding: false).`,
                });
            }
        }
        return problems;
    },
});

export const bindingResourcePolicies: readonly ResourceValidationPolicy[] = [identityBindingWellFormed];
export const bindingStackPolicies: readonly StackValidationPolicy[] = [identityBindingRbacSubjects, identityBindingUniqueNames, identityBindingClusterSupported];
