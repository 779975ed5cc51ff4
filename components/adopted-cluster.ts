import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import { ClusterAccess, KubernetesClusterComponent, type ClusterAdminArgs } from "./cluster-access";
import { adoptedClusterProblems, formatProblems } from "./validation";

export interface AdoptedClusterArgs {
    /** Azure name of the existing managed cluster. */
    clusterName: pulumi.Input<string>;
    /** Its resource group. */
    resourceGroupName: pulumi.Input<string>;
    /** Extra principals granted "Azure Kubernetes Service RBAC Cluster Admin" on it. @default none */
    clusterAdmins?: Record<string, ClusterAdminArgs>;
    /**
     * Namespaces this stack creates and owns in the cluster, declared once so that removing a
     * workload never deletes a namespace others use. @default none
     */
    namespaces?: string[];
    /**
     * Require the Key Vault secrets provider add-on with rotation (a workload on the cluster mounts
     * Key Vault secrets). @default false
     */
    requireKeyVaultSecretsProvider?: boolean;
}

/**
 * A cluster this stack does not create: its issuer and kubeconfig come from lookups, and nothing
 * about it is changed. A cluster without the OIDC issuer or workload identity is refused with the
 * `az` command that enables them.
 */
export class AdoptedCluster extends KubernetesClusterComponent {
    public readonly name: pulumi.Output<string>;
    public readonly resourceId: pulumi.Output<string>;
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    protected readonly access: ClusterAccess;

    constructor(name: string, args: AdoptedClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-workload-identity:index:AdoptedCluster", name, {}, opts);

        const found = containerservice.getManagedClusterOutput({ resourceGroupName: args.resourceGroupName, resourceName: args.clusterName }, { parent: this });
        const checked = pulumi.all([found, args.resourceGroupName, args.clusterName]).apply(([cluster, resourceGroupName, clusterName]) => {
            const problems = adoptedClusterProblems(name, resourceGroupName, clusterName, cluster, args.requireKeyVaultSecretsProvider ?? false);
            if (problems.length > 0) {
                throw new pulumi.RunError(formatProblems(`Cannot adopt cluster ${name}`, problems));
            }
            return cluster;
        });
        this.name = checked.name;
        this.resourceId = checked.id;
        this.oidcIssuerUrl = checked.apply((cluster) => cluster.oidcIssuerProfile?.issuerURL as string);
        this.access = new ClusterAccess(this, name, {
            resourceGroupName: args.resourceGroupName,
            clusterName: this.name,
            clusterId: this.resourceId,
            clusterAdmins: args.clusterAdmins,
            namespaces: args.namespaces,
        });

        this.registerOutputs({ name: this.name, resourceId: this.resourceId, oidcIssuerUrl: this.oidcIssuerUrl, kubeconfig: this.kubeconfig });
    }
}
