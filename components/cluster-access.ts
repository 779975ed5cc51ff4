import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { toKubeloginKubeconfig } from "./kubeconfig";
import { roleAssignmentName } from "./names";
import { reservedNamespaceProblem } from "./validation";
import { KubernetesRbacReadiness } from "./rbac-readiness-provider";
import { BUILT_IN_ROLES, roleDefinitionIdAt } from "./roles";

export type AdminPrincipalType = "User" | "Group" | "ServicePrincipal";

/** An extra principal granted "Azure Kubernetes Service RBAC Cluster Admin" on the cluster. */
export interface ClusterAdminArgs {
    /** Entra ID object ID of the user, group or service principal. */
    objectId: pulumi.Input<string>;
    /** The principal's type; Azure rejects an assignment whose type does not match the principal. */
    principalType: AdminPrincipalType;
}

/** What a WorkloadIdentity needs to federate with a cluster and annotate a ServiceAccount in it. */
export interface WorkloadClusterBinding {
    /** The cluster's OIDC issuer URL, the issuer of the federated credential. */
    oidcIssuerUrl: pulumi.Input<string>;
    /** The Kubernetes provider the ServiceAccount is created with. */
    kubernetesProvider: KubernetesProvider;
    /** Resources the ServiceAccount waits for: the admin grants and, when declared, the namespace. */
    dependsOn: pulumi.Resource[];
    /** Resource group of the managed cluster, where its identity bindings live (identity binding mode). */
    clusterResourceGroupName?: pulumi.Input<string>;
    /** Azure name of the managed cluster, the parent of its identity bindings (identity binding mode). */
    clusterName?: pulumi.Input<string>;
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
            const roleDefinitionId = args.clusterId.apply((id) => roleDefinitionIdAt(CLUSTER_ADMIN_ROLE, id));
            adminGrants[key] = new authorization.RoleAssignment(
                `${name}-admin-${key}`,
                {
                    scope: args.clusterId,
                    principalId: admin.objectId,
                    principalType: admin.principalType,
                    roleDefinitionId,
                    roleAssignmentName: pulumi
                        .all([args.clusterId, admin.objectId, roleDefinitionId])
                        .apply(([scope, principalId, roleId]) => roleAssignmentName(scope, principalId, roleId)),
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
        return { oidcIssuerUrl, kubernetesProvider: this.provider, dependsOn, clusterResourceGroupName: this.clusterResourceGroupName, clusterName: this.clusterName };
    }
}

/** What workloads need of a cluster, whether this stack created it or adopted it. */
export abstract class KubernetesClusterComponent extends pulumi.ComponentResource {
    /** Azure name of the managed cluster. */
    public abstract readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    public abstract readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`). */
    public abstract readonly oidcIssuerUrl: pulumi.Output<string>;
    protected abstract readonly access: ClusterAccess;

    /** User kubeconfig with the kubelogin exec plugin (secret). */
    public get kubeconfig(): pulumi.Output<string> {
        return this.access.kubeconfig;
    }

    /** Kubernetes provider for this cluster; it waits for the admin grants. */
    public get provider(): KubernetesProvider {
        return this.access.provider;
    }

    /** The role assignments of `clusterAdmins`, keyed as configured. */
    public get adminGrants(): Readonly<Record<string, authorization.RoleAssignment>> {
        return this.access.adminGrants;
    }

    /** The Namespace `namespace` in this cluster, created once however many workloads share it. */
    public namespace(namespace: string): corev1.Namespace {
        return this.access.namespace(namespace);
    }

    /**
     * The binding a WorkloadIdentity takes for this cluster. The namespace is not created here:
     * declare it in the cluster's `namespaces` (or call `namespace()`) so it outlives any workload.
     */
    public bindWorkload(namespace: string): WorkloadClusterBinding {
        return this.access.binding(this.oidcIssuerUrl, namespace);
    }
}
