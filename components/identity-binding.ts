import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import * as rbacv1 from "@pulumi/kubernetes/rbac/v1";
import {
    IDENTITY_BINDING_API_VERSION,
    IDENTITY_BINDING_PROVIDER_NAMESPACE,
    IDENTITY_BINDING_RESOURCE_TYPE,
    bindingIdentityResourceIdProblem,
    identityBindingIssuerUrl,
    identityBindingName,
    serviceAccountSubjects,
    useManagedIdentityRbacName,
    useManagedIdentityRule,
    type ServiceAccountRef,
} from "./identity-binding-rules";

/**
 * The resources of identity binding mode on one cluster: the AKS identity binding that maps the
 * managed identity to the cluster, and the Kubernetes RBAC that lets the allowed ServiceAccounts
 * use it. No federated credential: AKS creates (or reuses) `aks-identity-binding` on the identity
 * itself, and this program never declares, changes or deletes it.
 */

/** Where a binding goes and what it waits for. */
export interface IdentityBindingTarget {
    /** The cluster key: the suffix of every child's name. */
    readonly key: string;
    readonly clusterResourceGroupName: pulumi.Input<string>;
    readonly clusterName: pulumi.Input<string>;
    readonly kubernetesProvider: pulumi.ProviderResource;
    /** What the Kubernetes objects wait for (the cluster's admin grants). */
    readonly kubernetesDependsOn: readonly pulumi.Resource[];
}

export interface IdentityBindingChildren {
    readonly binding: resources.Resource;
    readonly clusterRole: rbacv1.ClusterRole;
    readonly clusterRoleBinding: rbacv1.ClusterRoleBinding;
    /** `properties.oidcIssuer.oidcIssuerUrl` of the binding, once Azure reports it. */
    readonly issuerUrl: pulumi.Output<string | undefined>;
}

interface IdentityBindingOptions {
    readonly ownerName: string;
    readonly parent: pulumi.Resource;
    readonly identityResourceId: pulumi.Output<string>;
    readonly clientId: pulumi.Output<string>;
    readonly serviceAccounts: readonly ServiceAccountRef[];
    /** The previous write under the same identity (a FIC or a binding): AKS writes a FIC for each binding. */
    readonly after: pulumi.Resource | undefined;
}

/**
 * The binding and its RBAC on one cluster.
 *
 * The binding is a generic `resources.Resource` with the stable API (see
 * `IDENTITY_BINDING_API_VERSION`): ARM path `managedClusters/<cluster>/identityBindings/<name>`.
 * `managedIdentity` is create-only in the spec (`@visibility(Read, Create)`), so a new identity
 * replaces the binding, deleting the old one first (its name is fixed); the replace rule names
 * that one path, so read-only fields a refresh adds to `properties` never replace it.
 *
 * Bindings of one identity are written one after another: each makes AKS write the identity's
 * `aks-identity-binding` FIC, and Azure refuses concurrent FIC writes under one identity (409
 * ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity).
 */
export function identityBindingOnCluster(target: IdentityBindingTarget, options: IdentityBindingOptions): IdentityBindingChildren {
    const { ownerName, parent } = options;
    const resourceId = options.identityResourceId.apply((id) => {
        // The stack's resource group name is often only known at deploy time: check it here too.
        const problem = bindingIdentityResourceIdProblem(id);
        if (problem !== undefined) {
            throw new Error(`Workload identity ${ownerName}, cluster ${target.key}: ${problem}`);
        }
        return id;
    });
    const binding = new resources.Resource(
        `${ownerName}-ib-${target.key}`,
        {
            apiVersion: IDENTITY_BINDING_API_VERSION,
            resourceProviderNamespace: IDENTITY_BINDING_PROVIDER_NAMESPACE,
            resourceGroupName: target.clusterResourceGroupName,
            parentResourcePath: pulumi.interpolate`managedClusters/${target.clusterName}`,
            resourceType: IDENTITY_BINDING_RESOURCE_TYPE,
            resourceName: identityBindingName(ownerName),
            properties: { managedIdentity: { resourceId } },
        },
        {
            parent,
            dependsOn: options.after === undefined ? [] : [options.after],
            deleteBeforeReplace: true,
            replaceOnChanges: ["properties.managedIdentity.resourceId"],
        },
    );
    const rbacName = useManagedIdentityRbacName(ownerName);
    const kubernetes = { parent, provider: target.kubernetesProvider };
    const clusterRole = new rbacv1.ClusterRole(
        `${ownerName}-ib-role-${target.key}`,
        { metadata: { name: rbacName }, rules: [useManagedIdentityRule(options.clientId)] },
        { ...kubernetes, dependsOn: [...target.kubernetesDependsOn] },
    );
    const clusterRoleBinding = new rbacv1.ClusterRoleBinding(
        `${ownerName}-ib-rolebinding-${target.key}`,
        {
            metadata: { name: rbacName },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: rbacName },
            subjects: serviceAccountSubjects(options.serviceAccounts),
        },
        { ...kubernetes, dependsOn: [...target.kubernetesDependsOn, clusterRole] },
    );
    const issuerUrl = (binding.properties as pulumi.Output<unknown>).apply((properties) => identityBindingIssuerUrl(properties));
    return { binding, clusterRole, clusterRoleBinding, issuerUrl };
}
