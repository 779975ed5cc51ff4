/**
 * The children of a WorkloadIdentity, one free function per part, as pulumi-eks' Cluster hands
 * off to `createCore(name, args, parent)` (nodejs/eks/cluster/cluster.ts): the principal and the
 * one chain of federated credential writes. Each takes the component as `scope.parent` and names
 * its children from `scope.name`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as azuread from "@pulumi/azuread";
import type { WorkloadClusterBinding, WorkloadIdentityArgs } from "./args";
import { bindingDependsOn } from "./cluster-access";
import { ENTRA_TOKEN_EXCHANGE_AUDIENCE } from "./constants";
import { identityBindingOnCluster, type IdentityBindingChildren } from "./identity-binding";
import { classicCredentialKey, type ServiceAccountRef } from "./identity-binding-rules";
import { federatedCredentialName, serviceAccountSubject } from "./names";

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

/** A binding's provider, typed (`workloadIdentityProblems` has checked it). */
export function kubernetesProviderOf(binding: WorkloadClusterBinding): pulumi.ProviderResource {
    return binding.kubernetesProvider as pulumi.ProviderResource;
}
