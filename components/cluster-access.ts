import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import type { ClusterAdminArgs, WorkloadClusterBinding } from "./args";
import { toKubeloginKubeconfig } from "./kubeconfig";
import { assignRole } from "./role-assignment";
import { reservedNamespaceProblem } from "./validation";
import { KubernetesRbacReadiness } from "./rbac-readiness-provider";
import { BUILT_IN_ROLES } from "./roles";


/**
 * What the Kubernetes objects of a TypeScript `bindWorkload()` binding wait for: the admin grants,
 * the RBAC readiness check and, when declared, the namespace. Kept beside the binding, not in it:
 * component args cross languages and carry no resource arrays. A binding from another language
 * has none; its provider's kubeconfig carries the same waits.
 */
const BINDING_DEPENDS_ON = new WeakMap<object, readonly pulumi.Resource[]>();

/** The resources a binding's Kubernetes objects wait for (none for a binding built by hand). */
export function bindingDependsOn(binding: WorkloadClusterBinding): pulumi.Resource[] {
    return [...(BINDING_DEPENDS_ON.get(binding) ?? [])];
}

const CLUSTER_ADMIN_ROLE = { name: "Azure Kubernetes Service RBAC Cluster Admin", guid: BUILT_IN_ROLES["Azure Kubernetes Service RBAC Cluster Admin"] } as const;

interface ClusterAccessArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly clusterName: pulumi.Output<string>;
    readonly clusterId: pulumi.Output<string>;
    readonly clusterAdmins?: Record<string, ClusterAdminArgs>;
    /** The namespaces the cluster owns, created once each. */
    readonly namespaces?: readonly string[];
}

/**
 * The Kubernetes side of a cluster, the same for a cluster this stack creates and one it adopts:
 * the admin grants, the kubelogin user kubeconfig, the provider, and the namespaces. Its children
 * are parented to the cluster component and named after it.
 */
export class ClusterAccess {
    public readonly adminGrants: Readonly<Record<string, authorization.RoleAssignment>>;
    /** The kubelogin user kubeconfig, as Azure returns it (the provider's and the readiness check's). */
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly provider: KubernetesProvider;
    /**
     * Waits at deploy time until the deployer may create ServiceAccounts: Azure RBAC for
     * Kubernetes takes up to five minutes to propagate, and pulumi-kubernetes does not retry a 403
     * (provider/pkg/await/await.go retries only NotFound and NoMatch). Every Kubernetes object of
     * the cluster waits for it through the provider.
     */
    public readonly rbacReadiness: KubernetesRbacReadiness;
    private readonly namespaces = new Map<string, corev1.Namespace>();
    private readonly clusterResourceGroupName: pulumi.Input<string>;
    private readonly clusterName: pulumi.Output<string>;

    constructor(
        private readonly component: pulumi.ComponentResource,
        private readonly name: string,
        args: ClusterAccessArgs,
    ) {
        this.clusterResourceGroupName = args.resourceGroupName;
        this.clusterName = args.clusterName;
        const adminGrants: Record<string, authorization.RoleAssignment> = {};
        for (const [key, admin] of Object.entries(args.clusterAdmins ?? {})) {
            adminGrants[key] = assignRole(
                {
                    resourceName: `${name}-admin-${key}`,
                    role: CLUSTER_ADMIN_ROLE,
                    scope: args.clusterId,
                    principalId: admin.objectId,
                    principalType: admin.principalType,
                    description: `Cluster admin "${key}" of ${name}, declared in clusterAdmins.`,
                },
                { parent: component },
            );
        }
        this.adminGrants = adminGrants;

        const credentials = containerservice.listManagedClusterUserCredentialsOutput(
            { resourceGroupName: args.resourceGroupName, resourceName: args.clusterName, format: "exec" },
            { parent: component },
        );
        this.kubeconfig = pulumi.secret(
            credentials.kubeconfigs.apply((kubeconfigs) => {
                const first = kubeconfigs[0];
                if (first === undefined) {
                    throw new Error(`Azure returned no user kubeconfig for cluster ${name}.`);
                }
                return toKubeloginKubeconfig(Buffer.from(first.value, "base64").toString("utf8"));
            }),
        );
        this.rbacReadiness = new KubernetesRbacReadiness(
            `${name}-rbac-ready`,
            { kubeconfig: this.kubeconfig, triggers: Object.values(adminGrants).map((grant) => grant.id) },
            { parent: component, dependsOn: Object.values(adminGrants) },
        );
        this.provider = new KubernetesProvider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig },
            { parent: component, dependsOn: [...Object.values(adminGrants), this.rbacReadiness] },
        );

        // Declared on the cluster, not by a workload: removing any one workload leaves them be.
        // The logical name `<cluster>-ns-<namespace>` and parent are the ones the earlier
        // per-workload `createNamespace` used, so existing namespaces keep their URN.
        for (const namespace of [...new Set(args.namespaces ?? [])].sort()) {
            this.namespace(namespace);
        }
    }

    /**
     * The kubeconfig a component publishes: the same value, resolved only once the RBAC readiness
     * check and the declared namespaces exist. A provider another program builds from it (the
     * cross-language path) then waits for what `bindingDependsOn` gives the TypeScript path.
     */
    public publishedKubeconfig(): pulumi.Output<string> {
        const waits = [this.rbacReadiness.id, ...[...this.namespaces.values()].map((namespace) => namespace.id)];
        return pulumi.all([this.kubeconfig, ...waits]).apply(([kubeconfig]) => kubeconfig);
    }

    /** The Namespace, created once however many workloads share it; it waits for the admin grants. */
    public namespace(namespace: string): corev1.Namespace {
        const reserved = reservedNamespaceProblem(namespace);
        if (reserved !== undefined) {
            throw new pulumi.ResourceError(`Cluster ${this.name}: ${reserved}`, this.component, true);
        }
        let resource = this.namespaces.get(namespace);
        if (resource === undefined) {
            resource = new corev1.Namespace(
                `${this.name}-ns-${namespace}`,
                { metadata: { name: namespace } },
                { parent: this.component, provider: this.provider, dependsOn: [...Object.values(this.adminGrants), this.rbacReadiness] },
            );
            this.namespaces.set(namespace, resource);
        }
        return resource;
    }

    /** What a workload needs of this cluster; it waits for the namespace when the cluster declares it. */
    public binding(oidcIssuerUrl: pulumi.Output<string>, namespace: string): WorkloadClusterBinding {
        const dependsOn: pulumi.Resource[] = [...Object.values(this.adminGrants), this.rbacReadiness];
        const declared = this.namespaces.get(namespace);
        if (declared !== undefined) {
            dependsOn.push(declared);
        }
        const binding: WorkloadClusterBinding = {
            oidcIssuerUrl,
            kubernetesProvider: this.provider,
            clusterResourceGroupName: this.clusterResourceGroupName,
            clusterName: this.clusterName,
        };
        BINDING_DEPENDS_ON.set(binding, dependsOn);
        return binding;
    }
}

/**
 * What workloads need of a cluster, whether this stack created it or adopted it. An interface,
 * not a base class: Pulumi's component analyzer accepts only classes that extend
 * `ComponentResource` directly, and reads their outputs from the class's own fields.
 */
export interface KubernetesClusterComponent extends pulumi.ComponentResource {
    /** Azure name of the managed cluster. */
    readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`). */
    readonly oidcIssuerUrl: pulumi.Output<string>;
    /** User kubeconfig with the kubelogin exec plugin (secret), once the deployer may use it. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for this cluster; it waits for the admin grants and the RBAC readiness check. */
    readonly provider: KubernetesProvider;
    /** The role assignments of `clusterAdmins`, keyed as configured. */
    readonly adminGrants: Readonly<Record<string, authorization.RoleAssignment>>;
    /** The Namespace `namespace` in this cluster, created once however many workloads share it. */
    namespace(namespace: string): corev1.Namespace;
    /**
     * The binding a WorkloadIdentity takes for this cluster. The namespace is not created here:
     * declare it in the cluster's `namespaces` (or call `namespace()`) so it outlives any workload.
     */
    bindWorkload(namespace: string): WorkloadClusterBinding;
}

/**
 * The ClusterAccess of each cluster component, kept off its fields: the analyzer turns every
 * field of a component class, private ones too, into a schema output.
 */
const ACCESS = new WeakMap<pulumi.ComponentResource, ClusterAccess>();

/** Records the ClusterAccess of a cluster component. */
export function attachClusterAccess(component: pulumi.ComponentResource, access: ClusterAccess): ClusterAccess {
    ACCESS.set(component, access);
    return access;
}

/** The ClusterAccess of a cluster component. */
export function clusterAccessOf(component: pulumi.ComponentResource): ClusterAccess {
    const access = ACCESS.get(component);
    if (access === undefined) {
        throw new Error(`${component.constructor.name} has no cluster access yet: it is created in the constructor.`);
    }
    return access;
}
