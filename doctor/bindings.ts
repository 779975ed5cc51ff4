import { IDENTITY_BINDING_PROVIDER_NAMESPACE, IDENTITY_BINDING_RESOURCE_TYPE, type ServiceAccountRef } from "../components/identity-binding-rules";
import type { RecordedResource } from "../offline/mock-runner";
import { TYPES } from "../policy/resource-types";

/**
 * The identity bindings a recorded stack declares, for the doctor (and for any view that draws
 * them, such as the plan's trust map): per workload and cluster the binding, and the
 * ServiceAccounts its ClusterRoleBinding lets use the identity. Pure: a function of the graph.
 */

/** One identity binding of a workload on one cluster. */
export interface DeclaredBinding {
    readonly workload: string;
    /** The cluster key. */
    readonly cluster: string;
    /** The binding's Azure name. */
    readonly name: string;
    /** The ServiceAccounts the binding's RBAC lets use the identity. */
    readonly serviceAccounts: readonly ServiceAccountRef[];
    /** The cluster's issuer URL, when given (known after deployment), the issuer of the tokens its pods present. */
    readonly issuer: string | undefined;
}

function isBinding(resource: RecordedResource): boolean {
    if (resource.type === TYPES.identityBinding) {
        return true;
    }
    const namespace = resource.inputs.resourceProviderNamespace;
    const type = resource.inputs.resourceType;
    return (
        resource.type === TYPES.genericResource &&
        typeof namespace === "string" &&
        namespace.toLowerCase() === IDENTITY_BINDING_PROVIDER_NAMESPACE.toLowerCase() &&
        typeof type === "string" &&
        type.toLowerCase() === IDENTITY_BINDING_RESOURCE_TYPE.toLowerCase()
    );
}

function serviceAccountsOf(roleBinding: RecordedResource | undefined): ServiceAccountRef[] {
    const subjects = roleBinding?.inputs.subjects;
    if (!Array.isArray(subjects)) {
        return [];
    }
    return subjects
        .filter((s): s is { kind: string; name: string; namespace: string } => typeof s === "object" && s !== null && (s as { kind?: unknown }).kind === "ServiceAccount")
        .map((s) => ({ namespace: s.namespace, name: s.name }));
}

/**
 * The bindings of each WorkloadIdentity component, found by the names the component gives its
 * children (`<workload>-ib-<cluster>`, `<workload>-ib-rolebinding-<cluster>`), with the cluster
 * issuers of `clusterIssuers` (by cluster key).
 */
export function declaredBindings(resources: readonly RecordedResource[], clusterIssuers: Readonly<Record<string, string>>): DeclaredBinding[] {
    return resources
        .filter((r) => r.type === TYPES.workloadIdentity)
        .flatMap((workload) => {
            const children = resources.filter((r) => r.parent === workload.urn);
            const prefix = `${workload.name}-ib-`;
            return children
                .filter((child) => isBinding(child) && child.name.startsWith(prefix))
                .map((binding): DeclaredBinding => {
                    const cluster = binding.name.slice(prefix.length);
                    const roleBinding = children.find((child) => child.type === TYPES.clusterRoleBinding && child.name === `${workload.name}-ib-rolebinding-${cluster}`);
                    const name = binding.inputs.resourceName ?? binding.inputs.identityBindingName;
                    return {
                        workload: workload.name,
                        cluster,
                        name: typeof name === "string" ? name : binding.name,
                        serviceAccounts: serviceAccountsOf(roleBinding),
                        issuer: clusterIssuers[cluster],
                    };
                });
        });
}
