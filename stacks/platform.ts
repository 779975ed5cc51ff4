import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import {
    AdoptedCluster,
    WorkloadIdentity,
    WorkloadIdentityCluster,
    adoptedClusterProblems,
    withLookedUpCluster,
    type ExistingManagedCluster,
    type KubernetesClusterComponent,
    type NodePoolArgs,
    type WorkloadClusterBinding,
    normalizeNamePart,
} from "../components";
import type { ClusterConfig, NodePoolConfig, StackConfig } from "./config";

/** What the composition built, keyed as configured. */
export interface Platform {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly clusters: Readonly<Record<string, KubernetesClusterComponent>>;
    readonly workloads: Readonly<Record<string, WorkloadIdentity>>;
    readonly config: StackConfig;
}

type PoolConfig = NonNullable<ClusterConfig["systemPool"]> | NodePoolConfig;

function pool(p: PoolConfig): NodePoolArgs {
    return {
        vmSize: p.vmSize,
        minCount: p.minCount,
        maxCount: p.maxCount,
        zones: p.zones,
        osDiskSizeGB: p.osDiskSizeGB,
        labels: p.labels,
        taints: p.taints,
        mode: "mode" in p ? p.mode : undefined,
    };
}

function buildCluster(stack: StackConfig, cluster: ClusterConfig, resourceGroupName: pulumi.Input<string>, lookedUp: ExistingManagedCluster | undefined): KubernetesClusterComponent {
    if (cluster.existing !== undefined) {
        const args = {
            clusterName: cluster.existing.name,
            resourceGroupName: cluster.existing.resourceGroupName,
            clusterAdmins: cluster.clusterAdmins,
            namespaces: [...cluster.namespaces],
            requireKeyVaultSecretsProvider: cluster.keyVaultSecretsProvider,
        };
        // The preflight's lookup, so that Azure is asked once per cluster.
        return new AdoptedCluster(cluster.key, lookedUp === undefined ? args : withLookedUpCluster(args, lookedUp));
    }
    return new WorkloadIdentityCluster(cluster.key, {
        resourceGroupName,
        location: stack.location,
        clusterName: cluster.azureName,
        kubernetesVersion: cluster.kubernetesVersion,
        sku: cluster.sku,
        upgradeChannel: cluster.upgradeChannel,
        nodeOsUpgradeChannel: cluster.nodeOsUpgradeChannel,
        // The config guarantees a system pool for every cluster it creates.
        systemPool: pool(cluster.systemPool as PoolConfig),
        nodePools: Object.fromEntries(Object.entries(cluster.nodePools).map(([name, p]) => [name, pool(p)])),
        adminGroupObjectIds: cluster.adminGroupObjectIds,
        clusterAdmins: cluster.clusterAdmins,
        authorizedIpRanges: cluster.authorizedIpRanges,
        private: cluster.private,
        allowPublicApiServer: cluster.allowPublicApiServer,
        disableLocalAccounts: cluster.disableLocalAccounts,
        networkPolicy: cluster.networkPolicy,
        keyVaultSecretsProvider: cluster.keyVaultSecretsProvider,
        azurePolicy: cluster.azurePolicy,
        imageCleaner: cluster.imageCleaner,
        defender: cluster.defender,
        network: cluster.network,
        namespaces: [...cluster.namespaces],
        protect: stack.protect,
        tags: stack.tags,
    });
}

/**
 * Looks up every existing cluster the config adopts and refuses, before any resource is
 * registered, one that lacks the OIDC issuer, workload identity or a needed add-on, with the `az`
 * command that fixes each.
 */
export async function checkAdoptedClusters(stack: StackConfig): Promise<ReadonlyMap<string, ExistingManagedCluster>> {
    const adopted = Object.values(stack.clusters).filter((cluster) => cluster.existing !== undefined);
    const lookedUp = new Map<string, ExistingManagedCluster>();
    const problems = await Promise.all(
        adopted.map(async (cluster) => {
            const existing = cluster.existing as NonNullable<ClusterConfig["existing"]>;
            const found = await containerservice.getManagedCluster({ resourceGroupName: existing.resourceGroupName, resourceName: existing.name });
            lookedUp.set(cluster.key, found);
            return adoptedClusterProblems(cluster.key, existing.resourceGroupName, existing.name, found, cluster.keyVaultSecretsProvider);
        }),
    );
    const all = problems.flat();
    if (all.length > 0) {
        throw new pulumi.RunError(`Cannot adopt the existing clusters as they are; nothing was created:\n${all.map((p) => `  - ${p}`).join("\n")}`);
    }
    return lookedUp;
}

/** Builds the resource group, the clusters and the workload identities of a validated config. */
export function buildPlatform(stack: StackConfig, lookedUp: ReadonlyMap<string, ExistingManagedCluster> = new Map()): Platform {
    const resourceGroupName = stack.resourceGroup.existing
        ? pulumi.output(stack.resourceGroup.name)
        : new resources.ResourceGroup(
              "resource-group",
              { resourceGroupName: stack.resourceGroup.name, location: stack.location, tags: stack.tags },
              { protect: stack.protect },
          ).name;

    const clusters: Record<string, KubernetesClusterComponent> = {};
    for (const cluster of Object.values(stack.clusters)) {
        clusters[cluster.key] = buildCluster(stack, cluster, resourceGroupName, lookedUp.get(cluster.key));
    }

    const workloads: Record<string, WorkloadIdentity> = {};
    for (const workload of Object.values(stack.workloads)) {
        const bindings: Record<string, WorkloadClusterBinding> = {};
        // The config guarantees a namespace whenever the workload runs on a cluster.
        for (const clusterKey of workload.namespace === undefined ? [] : workload.clusters) {
            bindings[clusterKey] = clusters[clusterKey].bindWorkload(workload.namespace as string);
        }
        workloads[workload.key] = new WorkloadIdentity(workload.key, {
            resourceGroupName,
            location: stack.location,
            identityName: workload.identityName,
            principal: workload.principal,
            namespace: workload.namespace,
            serviceAccount: workload.serviceAccount,
            createServiceAccount: workload.createServiceAccount,
            annotateExistingServiceAccount: workload.annotateExistingServiceAccount,
            identityBinding: workload.identityBinding,
            keepClassicCredentials: workload.keepClassicCredentials,
            serviceAccounts: workload.serviceAccounts?.map((account) => ({ namespace: account.namespace, name: account.name })),
            applicationOwners: workload.principal === "application" ? [...stack.applicationOwners] : undefined,
            tokenExpirationSeconds: workload.tokenExpirationSeconds,
            clusters: bindings,
            roleAssignments: workload.roleAssignments,
            federations: workload.federations,
            keyVault: workload.keyVault,
            quickstart: workload.quickstart,
            tags: stack.tags,
        });
    }
    return { resourceGroupName, clusters, workloads, config: stack };
}

/** How to see the quick-start read its secret: one command per workload and cluster. */
function quickstartChecks(platform: Platform): Record<string, Record<string, pulumi.Output<string>>> {
    const checks: Record<string, Record<string, pulumi.Output<string>>> = {};
    for (const [key, workload] of Object.entries(platform.workloads)) {
        const jobs = Object.entries(workload.quickstartJobs);
        if (jobs.length === 0) {
            continue;
        }
        checks[key] = {};
        for (const [clusterKey] of jobs) {
            const cluster = platform.config.clusters[clusterKey];
            const group = cluster.existing?.resourceGroupName ?? platform.resourceGroupName;
            checks[key][clusterKey] = pulumi.interpolate`az aks get-credentials --resource-group ${group} --name ${cluster.azureName} --overwrite-existing && kubelogin convert-kubeconfig -l azurecli && kubectl logs --namespace ${workload.namespace ?? ""} job/${normalizeNamePart(key)}-quickstart`;
        }
    }
    return checks;
}

/** The stack outputs: names and IDs in the clear, kubeconfigs as secrets. */
export function stackOutputs(platform: Platform) {
    return {
        resourceGroupName: platform.resourceGroupName,
        clusters: Object.fromEntries(
            Object.entries(platform.clusters).map(([key, cluster]) => [
                key,
                { name: cluster.name, resourceId: cluster.resourceId, oidcIssuerUrl: cluster.oidcIssuerUrl },
            ]),
        ),
        workloads: Object.fromEntries(
            Object.entries(platform.workloads).map(([key, workload]) => [
                key,
                {
                    clientId: workload.clientId,
                    principalId: workload.principalId,
                    tenantId: workload.tenantId,
                    namespace: workload.namespace,
                    serviceAccount: workload.namespace === undefined ? undefined : workload.serviceAccount,
                    podLabels: workload.podLabels,
                    serviceAccountAnnotations: workload.namespace === undefined ? undefined : workload.serviceAccountAnnotations,
                    podAnnotations: workload.podAnnotations,
                    ...(platform.config.workloads[key].identityBinding ? { identityBindingIssuerUrl: workload.identityBindingIssuerUrl } : {}),
                },
            ]),
        ),
        quickstart: quickstartChecks(platform),
        kubeconfigs: pulumi.secret(Object.fromEntries(Object.entries(platform.clusters).map(([key, cluster]) => [key, cluster.kubeconfig]))),
    };
}

export type StackOutputs = ReturnType<typeof stackOutputs>;
