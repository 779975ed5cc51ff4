import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as authorization from "@pulumi/azure-native/authorization";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import {
    ClusterAccess,
    attachClusterAccess,
    clusterAccessOf,
    type KubernetesClusterComponent,
} from "./cluster-access";
import type { AdoptedClusterArgs, WorkloadClusterBinding } from "./args";
import { requirePlainInputs } from "./inputs";
import { adoptedClusterProblems, formatProblems } from "./validation";

/** The component's type token, as the schema names it. */
export const ADOPTED_CLUSTER_TYPE = "aks-workload-identity:index:AdoptedCluster";

/** What the lookup of an existing cluster returns. */
export type ExistingManagedCluster = containerservice.GetManagedClusterResult;

/** Lookups a TypeScript caller already made, keyed by the args object they belong to. */
const LOOKED_UP = new WeakMap<object, ExistingManagedCluster>();

/**
 * `args`, marked as belonging to a cluster the caller has already looked up (the stack's
 * preflight, which refuses an unfit cluster before anything is registered): the component then
 * checks that result instead of asking Azure a second time. TypeScript only; the component's
 * arguments stay plain data for other languages.
 */
export function withLookedUpCluster<T extends AdoptedClusterArgs>(args: T, found: ExistingManagedCluster): T {
    LOOKED_UP.set(args, found);
    return args;
}

/**
 * A cluster this stack does not create: its issuer and kubeconfig come from lookups, and nothing
 * about it is changed. A cluster without the OIDC issuer or workload identity is refused with the
 * `az` command that enables them.
 */
export class AdoptedCluster extends pulumi.ComponentResource implements KubernetesClusterComponent {
    /** Azure name of the managed cluster, as the lookup found it. */
    public readonly name: pulumi.Output<string>;
    /** ARM resource ID of the managed cluster. */
    public readonly resourceId: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, exactly as AKS publishes it (with its trailing `/`). */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /**
     * User kubeconfig (secret) whose user logs in through kubelogin. It resolves once the
     * deployer may create objects in the cluster and the `namespaces` exist: build the cluster's
     * one `kubernetes.Provider` from it.
     */
    public readonly kubeconfig: pulumi.Output<string>;

    /** Kubernetes provider for this cluster; it waits for the admin grants and the RBAC readiness check. */
    public get provider(): KubernetesProvider {
        return clusterAccessOf(this).provider;
    }

    /** The role assignments of `clusterAdmins`, keyed as configured. */
    public get adminGrants(): Readonly<Record<string, authorization.RoleAssignment>> {
        return clusterAccessOf(this).adminGrants;
    }

    /** The Namespace `namespace` in this cluster, created once however many workloads share it. */
    public namespace(namespace: string): corev1.Namespace {
        return clusterAccessOf(this).namespace(namespace);
    }

    /** The binding a WorkloadIdentity takes for this cluster (declare the namespace in `namespaces`). */
    public bindWorkload(namespace: string): WorkloadClusterBinding {
        return clusterAccessOf(this).binding(this.oidcIssuerUrl, namespace);
    }

    constructor(name: string, args: AdoptedClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ADOPTED_CLUSTER_TYPE, name, {}, opts);
        requirePlainInputs(this, ADOPTED_CLUSTER_TYPE, name, args);

        const lookedUp = LOOKED_UP.get(args);
        const found =
            lookedUp !== undefined
                ? pulumi.output(lookedUp)
                : containerservice.getManagedClusterOutput({ resourceGroupName: args.resourceGroupName, resourceName: args.clusterName }, { parent: this });
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
        const access = attachClusterAccess(
            this,
            new ClusterAccess(this, name, {
                resourceGroupName: args.resourceGroupName,
                clusterName: this.name,
                clusterId: this.resourceId,
                clusterAdmins: args.clusterAdmins,
                namespaces: args.namespaces,
            }),
        );
        this.kubeconfig = access.publishedKubeconfig();

        this.registerOutputs({ name: this.name, resourceId: this.resourceId, oidcIssuerUrl: this.oidcIssuerUrl, kubeconfig: this.kubeconfig });
    }
}
