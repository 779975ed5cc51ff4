import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runStack } from "../testing/mock-runner";
import { named } from "../testing/graph";
import { WorkloadIdentity, WorkloadIdentityCluster } from "../components";

describe("the Kubernetes side of a cluster waits until the deployer's grants work", () => {
    it("gates the provider, the namespaces and the ServiceAccounts on an RBAC readiness check after the admin grants", async () => {
        const run = await runStack({
            stack: "code",
            program: () => {
                const cluster = new WorkloadIdentityCluster("main", {
                    resourceGroupName: "rg-code",
                    location: "westeurope",
                    clusterName: "aks-code",
                    systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
                    clusterAdmins: { pipeline: { objectId: "3c9e7a1b-2d4f-4e6a-8b0c-1d2e3f4a5b6c", principalType: "ServicePrincipal" } },
                    authorizedIpRanges: ["198.18.0.0/24"],
                    namespaces: ["api"],
                });
                new WorkloadIdentity("api", { resourceGroupName: "rg-code", namespace: "api", clusters: { main: cluster.bindWorkload("api") } });
            },
        });
        const grant = named(run.resources, "azure-native:authorization:RoleAssignment", "main-admin-pipeline");
        const ready = named(run.resources, "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness", "main-rbac-ready");
        assert.equal(ready.parent, named(run.resources, "aks-workload-identity:index:WorkloadIdentityCluster", "main").urn);
        assert.ok(ready.dependencies.includes(grant.urn), "the check starts after the admin grant exists");
        for (const [type, name] of [
            ["pulumi:providers:kubernetes", "main-k8s"],
            ["kubernetes:core/v1:Namespace", "main-ns-api"],
            ["kubernetes:core/v1:ServiceAccount", "api-sa-main"],
        ] as const) {
            assert.ok(named(run.resources, type, name).dependencies.includes(ready.urn), `${name} waits for the readiness check`);
        }
    });
});
