import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { WorkloadIdentity, WorkloadIdentityCluster, type WorkloadClusterBinding } from "../components";
import type { ClusterConfig, StackConfig } from "./config";

/** What the composition built, keyed as configured. */
export interface Platform {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly clusters: Readonly<Record<string, WorkloadIdentityCluster>>;
    readonly workloads: Readonly<Record<string, WorkloadIdentity>>;
}

function buildCluster(stack: StackConfig, cluster: ClusterConfig, resourceGroupName: pulumi.Input<string>): WorkloadIdentityCluster {
    const pool = (p: ClusterConfig["systemPool"]) => ({
        vmSize: p.vmSize,
        minCount: p.minCount,
        maxCount: p.maxCount,
        availabilityZones: p.zones,
        osDiskSizeGB: p.osDiskSizeGB,
        nodeLabels: p.labels,
        nodeTaints: p.taints,
    });
    return new WorkloadIdentityCluster(cluster.key, {
        resourceGroupName,
        location: stack.location,
        clusterName: cluster.azureName,
        kubernetesVersion: cluster.kubernetesVersion,
        skuTier: cluster.sku,
        upgradeChannel: cluster.upgradeChannel,
        nodeOsUpgradeChannel: cluster.nodeOsUpgradeChannel,
        systemPool: pool(cluster.systemPool),
        nodePools: Object.fromEntries(Object.entries(cluster.nodePools).map(([name, p]) => [name, pool(p)])),
        adminGroupObjectIds: cluster.adminGroupObjectIds,
        clusterAdmins: cluster.clusterAdmins,
        authorizedIpRanges: cluster.authorizedIpRanges,
        privateCluster: cluster.private,
        allowPublicApiServer: cluster.allowPublicApiServer,
        disableLocalAccounts: cluster.disableLocalAccounts,
        networkPolicy: cluster.networkPolicy,
        kubeloginMode: stack.kubeloginMode,
        protect: stack.protect,
        tags: stack.tags,
    });
}

/** Builds the resource group, the clusters and the workload identities of a validated config. */
export function buildPlatform(stack: StackConfig): Platform {
    const resourceGroupName = stack.resourceGroup.existing
        ? pulumi.output(stack.resourceGroup.name)
        : new resources.ResourceGroup(
              "resource-group",
              { resourceGroupName: stack.resourceGroup.name, location: stack.location, tags: stack.tags },
              { protect: stack.protect },
          ).name;

    const clusters: Record<string, WorkloadIdentityCluster> = {};
    for (const cluster of Object.values(stack.clusters)) {
        clusters[cluster.key] = buildCluster(stack, cluster, resourceGroupName);
    }

    const workloads: Record<string, WorkloadIdentity> = {};
    for (const workload of Object.values(stack.workloads)) {
        const bindings: Record<string, WorkloadClusterBinding> = {};
        // The config guarantees a namespace whenever the workload runs on a cluster.
        for (const clusterKey of workload.namespace === undefined ? [] : workload.clusters) {
            bindings[clusterKey] = clusters[clusterKey].bindWorkload(workload.namespace as string, workload.createNamespace);
        }
        workloads[workload.key] = new WorkloadIdentity(workload.key, {
            resourceGroupName,
            location: stack.location,
            identityName: workload.identityName,
            principal: workload.principal,
            namespace: workload.namespace,
            serviceAccount: workload.serviceAccount,
            createServiceAccount: workload.createServiceAccount,
            tokenExpirationSeconds: workload.tokenExpirationSeconds,
            clusters: bindings,
            roleAssignments: workload.roleAssignments,
            federations: workload.federations,
            tags: stack.tags,
        });
    }
    return { resourceGroupName, clusters, workloads };
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
                },
            ]),
        ),
        kubeconfigs: pulumi.secret(Object.fromEntries(Object.entries(platform.clusters).map(([key, cluster]) => [key, cluster.kubeconfig]))),
    };
}

export type StackOutputs = ReturnType<typeof stackOutputs>;
