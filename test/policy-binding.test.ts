import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    bindingResourcePolicies,
    bindingStackPolicies,
    identityBindingClusterSupported,
    identityBindingRbacSubjects,
    identityBindingUniqueNames,
    identityBindingWellFormed,
} from "../policy/binding";
import { apiServerVnetIntegrationProblem } from "../components/identity-binding-rules";
import { ficCountPerIdentity, ficWritesSerialized } from "../policy/identity";
import { serviceAccountClientId } from "../policy/kubernetes";
import { UNKNOWN_AT_PREVIEW, resourceArgs, stackArgs, stackViolationsOf, violationsOf, type StackResourceSpec } from "../policy/testing";
import { TYPES } from "../policy/resource-types";

const GENERIC: string = TYPES.genericResource;
const TYPED: string = TYPES.identityBinding;
const IDENTITY: string = TYPES.userAssignedIdentity;
const FIC: string = TYPES.federatedIdentityCredential;
const CLUSTER: string = TYPES.managedCluster;
const PROVIDER: string = TYPES.kubernetesProvider;
const SA: string = TYPES.serviceAccount;
const CLUSTER_ROLE: string = TYPES.clusterRole;
const CLUSTER_ROLE_BINDING: string = TYPES.clusterRoleBinding;
const ROLE: string = TYPES.role;
const ROLE_BINDING: string = TYPES.roleBinding;
const SUB = "00000000-0000-0000-0000-000000000000";
const IDENTITY_ID = `/subscriptions/${SUB}/resourceGroups/rg-apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-api-prod`;
const CLIENT_ID = "5a7e9c1d-2b3f-4e6a-8c0d-1f2e3d4c5b6a";

function bindingProps(changes: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    return {
        apiVersion: "2026-05-01",
        resourceProviderNamespace: "Microsoft.ContainerService",
        resourceGroupName: "rg-apps",
        parentResourcePath: "managedClusters/aks-blue-prod",
        resourceType: "identityBindings",
        resourceName: "ordersapi117d1648",
        properties: { managedIdentity: { resourceId: IDENTITY_ID } },
        ...changes,
    };
}

const wellFormed = (props: Record<string, unknown>, type = GENERIC): string[] => violationsOf(identityBindingWellFormed, resourceArgs({ type, name: "orders-api-ib-blue", props }));

describe("identity binding policies: names and levels", () => {
    it("are the documented ones", () => {
        assert.deepEqual(
            [...bindingResourcePolicies, ...bindingStackPolicies].map((p) => [p.name, p.enforcementLevel]),
            [
                ["identity-binding-well-formed", "mandatory"],
                ["identity-binding-rbac-subjects", "mandatory"],
                ["identity-binding-unique-names", "mandatory"],
                ["identity-binding-cluster-supported", "mandatory"],
            ],
        );
    });
});

describe("identity-binding-well-formed", () => {
    it("passes the binding the components write, also while its identity is unknown at preview", () => {
        assert.deepEqual(wellFormed(bindingProps()), []);
        assert.deepEqual(wellFormed(bindingProps({ properties: { managedIdentity: { resourceId: UNKNOWN_AT_PREVIEW } } })), []);
        assert.deepEqual(wellFormed({ identityBindingName: "ordersapi", resourceGroupName: "rg-apps", resourceName: "aks-blue-prod", properties: { managedIdentity: { resourceId: IDENTITY_ID } } }, TYPED), []);
    });

    it("leaves other generic resources alone", () => {
        assert.deepEqual(wellFormed(bindingProps({ resourceProviderNamespace: "Microsoft.Storage", resourceType: "storageAccounts", resourceName: "has-hyphens" })), []);
    });

    it("fires on a name with a hyphen and an identity in a resource group the API refuses", () => {
        const badId = IDENTITY_ID.replace("rg-apps", "rg_apps");
        assert.deepEqual(wellFormed(bindingProps({ resourceName: "orders-api-ib", properties: { managedIdentity: { resourceId: badId } } })), [
            'IdentityBinding "orders-api-ib-blue": invalid identity binding name "orders-api-ib". Allowed values are 1 to 63 lower-case letters and digits, starting with a letter (no "-"). Azure refuses the binding.',
            `IdentityBinding "orders-api-ib-blue": the identity's resource ID "${badId}" cannot be bound: identity bindings accept /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> with only letters, digits and "-" in the resource group and identity names.`,
        ]);
        assert.deepEqual(wellFormed({ identityBindingName: "Orders", resourceGroupName: "rg-apps", resourceName: "aks-blue-prod" }, TYPED), [
            'IdentityBinding "orders-api-ib-blue": invalid identity binding name "Orders". Allowed values are 1 to 63 lower-case letters and digits, starting with a letter (no "-"). Azure refuses the binding.',
            'IdentityBinding "orders-api-ib-blue": no properties.managedIdentity.resourceId. A binding maps exactly one user-assigned managed identity: set it from the identity\'s id output.',
        ]);
    });
});

/** A cluster with its provider, and a ClusterRole granting use-managed-identity on `resources`. */
function rbac(subjects: readonly Record<string, unknown>[], rule: Record<string, unknown> = {}): StackResourceSpec[] {
    return [
        { type: CLUSTER, name: "blue-aks", props: {} },
        { type: PROVIDER, name: "blue-k8s", props: { kubeconfig: UNKNOWN_AT_PREVIEW }, propertyDependencies: { kubeconfig: ["blue-aks"] } },
        {
            type: CLUSTER_ROLE,
            name: "orders-api-ib-role-blue",
            provider: "blue-k8s",
            props: {
                metadata: { name: "use-managed-identity-orders-api" },
                rules: [{ apiGroups: ["cid.wi.aks.azure.com"], resources: [CLIENT_ID], verbs: ["use-managed-identity"], ...rule }],
            },
        },
        {
            type: CLUSTER_ROLE_BINDING,
            name: "orders-api-ib-rolebinding-blue",
            provider: "blue-k8s",
            props: {
                metadata: { name: "use-managed-identity-orders-api" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "use-managed-identity-orders-api" },
                subjects,
            },
        },
    ];
}

const rbacViolations = (specs: readonly StackResourceSpec[]) => stackViolationsOf(identityBindingRbacSubjects, stackArgs(specs));

describe("identity-binding-rbac-subjects", () => {
    it("passes ServiceAccounts named one by one, as the components write them", () => {
        assert.deepEqual(
            rbacViolations(
                rbac([
                    { kind: "ServiceAccount", name: "orders-api", namespace: "orders" },
                    { kind: "ServiceAccount", name: "orders-api", namespace: "tenant-a" },
                ]),
            ),
            [],
        );
    });

    it("fires on the group of all ServiceAccounts and on that of a namespace", () => {
        assert.deepEqual(rbacViolations(rbac([{ kind: "Group", name: "system:serviceaccounts", apiGroup: "rbac.authorization.k8s.io" }, { kind: "Group", name: "system:serviceaccounts:orders" }])), [
            {
                resource: "orders-api-ib-rolebinding-blue",
                message: `ClusterRoleBinding "orders-api-ib-rolebinding-blue" grants use-managed-identity on client ID "${CLIENT_ID}" (ClusterRole "orders-api-ib-role-blue") to group "system:serviceaccounts", every ServiceAccount of the cluster: any pod there could use the managed identity through the identity binding. List each allowed ServiceAccount as a subject { kind: ServiceAccount, namespace, name } instead (the workload's serviceAccounts).`,
            },
            {
                resource: "orders-api-ib-rolebinding-blue",
                message: `ClusterRoleBinding "orders-api-ib-rolebinding-blue" grants use-managed-identity on client ID "${CLIENT_ID}" (ClusterRole "orders-api-ib-role-blue") to group "system:serviceaccounts:orders", every ServiceAccount of namespace "orders": any pod there could use the managed identity through the identity binding. List each allowed ServiceAccount as a subject { kind: ServiceAccount, namespace, name } instead (the workload's serviceAccounts).`,
            },
        ]);
    });

    it("fires on a wildcard role bound to system:authenticated, also with the client ID unknown at preview", () => {
        const found = rbacViolations(rbac([{ kind: "Group", name: "system:authenticated" }], { apiGroups: ["*"], verbs: ["*"], resources: ["*"] }));
        assert.deepEqual(
            found.map((v) => v.message),
            [
                'ClusterRoleBinding "orders-api-ib-rolebinding-blue" grants use-managed-identity on every identity bound to the cluster (resources: *) (ClusterRole "orders-api-ib-role-blue") to group "system:authenticated", every authenticated user and ServiceAccount of the cluster: any pod there could use the managed identity through the identity binding. List each allowed ServiceAccount as a subject { kind: ServiceAccount, namespace, name } instead (the workload\'s serviceAccounts).',
            ],
        );
        const preview = rbacViolations(rbac([{ kind: "Group", name: "system:serviceaccounts" }], { resources: [UNKNOWN_AT_PREVIEW] }));
        assert.equal(preview.length, 1, "the group is a literal: known at preview");
        assert.match(preview[0].message, /grants use-managed-identity on the identity's client ID \(ClusterRole/);
    });

    it("fires on a RoleBinding to a Role of the namespace", () => {
        const specs: StackResourceSpec[] = [
            ...rbac([]).slice(0, 2),
            { type: ROLE, name: "orders-use-mi", provider: "blue-k8s", props: { metadata: { name: "use-mi", namespace: "orders" }, rules: [{ apiGroups: ["cid.wi.aks.azure.com"], resources: [CLIENT_ID], verbs: ["use-managed-identity"] }] } },
            {
                type: ROLE_BINDING,
                name: "orders-use-mi-all",
                provider: "blue-k8s",
                props: { metadata: { name: "use-mi", namespace: "orders" }, roleRef: { kind: "Role", name: "use-mi", apiGroup: "rbac.authorization.k8s.io" }, subjects: [{ kind: "Group", name: "system:serviceaccounts:orders" }] },
            },
        ];
        assert.deepEqual(
            rbacViolations(specs).map((v) => v.resource),
            ["orders-use-mi-all"],
        );
    });

    it("leaves groups alone when the role grants no use-managed-identity, or is not in the stack, or is another cluster's", () => {
        assert.deepEqual(rbacViolations(rbac([{ kind: "Group", name: "system:serviceaccounts" }], { apiGroups: [""], verbs: ["get"], resources: ["pods"] })), []);
        const elsewhere = rbac([{ kind: "Group", name: "system:serviceaccounts" }]);
        const moved: StackResourceSpec[] = [
            ...elsewhere,
            { type: CLUSTER, name: "green-aks", props: {} },
            { type: PROVIDER, name: "green-k8s", props: {}, propertyDependencies: { kubeconfig: ["green-aks"] } },
        ].map((spec) => (spec.name === "orders-api-ib-role-blue" ? { ...spec, provider: "green-k8s" } : spec));
        assert.deepEqual(rbacViolations(moved), [], "the ClusterRole of that name is green's; blue's is not in the stack");
        assert.deepEqual(rbacViolations(rbac([{ kind: "Group", name: "system:serviceaccounts" }]).filter((s) => s.type !== CLUSTER_ROLE)), []);
    });
});

describe("identity-binding-unique-names", () => {
    it("fires on two bindings with one name on one cluster, and passes them on two clusters", () => {
        const specs = (secondCluster: string): StackResourceSpec[] => [
            { type: GENERIC, name: "orders-api-ib-blue", props: bindingProps() },
            { type: GENERIC, name: "ordersapi-ib-blue", props: bindingProps({ parentResourcePath: `managedClusters/${secondCluster}` }) },
        ];
        assert.deepEqual(stackViolationsOf(identityBindingUniqueNames, stackArgs(specs("AKS-blue-prod"))), [
            {
                resource: "ordersapi-ib-blue",
                message:
                    'IdentityBinding "ordersapi-ib-blue" and IdentityBinding "orders-api-ib-blue" both write identity binding "ordersapi117d1648" of cluster aks-blue-prod in resource group "rg-apps": the second would take over the first. Give the workloads keys whose identity binding names differ.',
            },
        ]);
        assert.deepEqual(stackViolationsOf(identityBindingUniqueNames, stackArgs(specs("aks-green-prod"))), []);
        assert.deepEqual(stackViolationsOf(identityBindingUniqueNames, stackArgs(specs(UNKNOWN_AT_PREVIEW))), [], "a cluster name unknown at preview is not judged");
    });
});

/** A binding-mode identity: its bindings on two clusters, `federations` FICs of its own, and its ServiceAccount. */
function boundIdentity(federations: number): StackResourceSpec[] {
    const specs: StackResourceSpec[] = [
        { type: IDENTITY, name: "orders-api-id", props: { resourceName: "id-orders-api-prod", clientId: CLIENT_ID } },
        ...["blue", "green"].map((cluster, i) => ({
            type: GENERIC,
            name: `orders-api-ib-${cluster}`,
            props: bindingProps({ parentResourcePath: `managedClusters/aks-${cluster}-prod`, properties: { managedIdentity: { resourceId: UNKNOWN_AT_PREVIEW } } }),
            propertyDependencies: { properties: ["orders-api-id"] },
            dependsOn: i === 0 ? [] : ["orders-api-ib-blue"],
        })),
        { type: SA, name: "orders-api-sa-blue", props: { metadata: { name: "orders-api", namespace: "orders", annotations: { "azure.workload.identity/client-id": CLIENT_ID } } } },
    ];
    for (let i = 0; i < federations; i++) {
        specs.push({
            type: FIC,
            name: `orders-api-fic-f${i}`,
            props: { resourceGroupName: "rg-apps", resourceName: UNKNOWN_AT_PREVIEW, issuer: `https://issuer-${i}.example.com/`, subject: `repo:contoso/orders:environment:e${i}`, audiences: ["api://AzureADTokenExchange"] },
            propertyDependencies: { resourceName: ["orders-api-id"] },
            dependsOn: [i === 0 ? "orders-api-ib-green" : `orders-api-fic-f${i - 1}`],
        });
    }
    return specs;
}

describe("the FIC rules and a binding-mode identity", () => {
    it("do not fire on an identity that has bindings and no per-cluster FIC", () => {
        for (const policy of [ficCountPerIdentity, ficWritesSerialized, serviceAccountClientId]) {
            assert.deepEqual(stackViolationsOf(policy, stackArgs(boundIdentity(0))), [], policy.name);
        }
    });

    it("count the FIC AKS creates for the bindings: 19 federations pass, 20 make 21", () => {
        assert.deepEqual(stackViolationsOf(ficCountPerIdentity, stackArgs(boundIdentity(19))), []);
        assert.deepEqual(stackViolationsOf(ficCountPerIdentity, stackArgs(boundIdentity(20))), [
            {
                resource: "orders-api-id",
                message:
                    'UserAssignedIdentity "orders-api-id" has 21 federated credentials (20 declared + aks-identity-binding, which AKS creates for its identity bindings); Entra ID allows at most 20 per identity. Give further clusters or issuers an identity of their own, or remove credentials no longer used.',
            },
        ]);
    });

    it("find the identity of a binding with a literal resource ID by its resource group and name", () => {
        const specs: StackResourceSpec[] = [
            { type: GENERIC, name: "shared-ib-blue", props: bindingProps() },
            ...Array.from({ length: 20 }, (_, i) => ({
                type: FIC,
                name: `shared-fic-${i}`,
                props: { resourceGroupName: "RG-apps", resourceName: "id-orders-api-prod", issuer: `https://issuer-${i}.example.com/`, subject: "system:serviceaccount:orders:orders-api", audiences: ["api://AzureADTokenExchange"] },
            })),
        ];
        assert.deepEqual(
            stackViolationsOf(ficCountPerIdentity, stackArgs(specs)).map((v) => v.message),
            [
                'user-assigned identity "id-orders-api-prod" (resource group "RG-apps") has 21 federated credentials (20 declared + aks-identity-binding, which AKS creates for its identity bindings); Entra ID allows at most 20 per identity. Give further clusters or issuers an identity of their own, or remove credentials no longer used.',
            ],
        );
    });
});

describe("identity-binding-cluster-supported", () => {
    const specs = (vnetIntegration: boolean | undefined, byName = false): StackResourceSpec[] => [
        { type: CLUSTER, name: "blue-aks", props: { resourceName: "aks-blue-prod", apiServerAccessProfile: { enableVnetIntegration: vnetIntegration } } },
        {
            type: GENERIC,
            name: "orders-api-ib-blue",
            props: bindingProps(byName ? {} : { parentResourcePath: UNKNOWN_AT_PREVIEW }),
            propertyDependencies: byName ? {} : { parentResourcePath: ["blue-aks"] },
        },
    ];

    it("fires on a binding on a cluster with API server VNet integration, found by graph or by name", () => {
        const expected = [
            {
                resource: "orders-api-ib-blue",
                message:
                    'IdentityBinding "orders-api-ib-blue" is made on ManagedCluster "blue-aks", which uses API server VNet integration (apiServerAccessProfile.enableVnetIntegration); AKS identity bindings are not supported there. Keep the workload in classic mode on that cluster (identityBinding: false).',
            },
        ];
        assert.deepEqual(stackViolationsOf(identityBindingClusterSupported, stackArgs(specs(true))), expected);
        assert.deepEqual(stackViolationsOf(identityBindingClusterSupported, stackArgs(specs(true, true))), expected);
    });

    it("passes clusters without it", () => {
        assert.deepEqual(stackViolationsOf(identityBindingClusterSupported, stackArgs(specs(false))), []);
        assert.deepEqual(stackViolationsOf(identityBindingClusterSupported, stackArgs(specs(undefined, true))), []);
    });

    it("has a pure check for an adopted cluster", () => {
        assert.equal(
            apiServerVnetIntegrationProblem("legacy", { apiServerAccessProfile: { enableVnetIntegration: true } }),
            "cluster legacy uses API server VNet integration, which AKS identity bindings do not support; keep the workloads on it in classic mode (identityBinding: false).",
        );
        assert.equal(apiServerVnetIntegrationProblem("legacy", {}), undefined);
    });
});
