import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    kubernetesResourcePolicies,
    kubernetesStackPolicies,
    podServiceAccountClientId,
    serviceAccountClientId,
    workloadIdentityAnnotationPlacement,
    workloadIdentityUseLabelPlacement,
} from "../policy/kubernetes";
import { UNKNOWN_AT_PREVIEW, resourceArgs, stackArgs, stackViolationsOf, violationsOf, type StackResourceSpec } from "../policy/testing";
import { TYPES } from "../policy/resource-types";

const DEPLOYMENT: string = TYPES.deployment;
const CRON_JOB = "kubernetes:batch/v1:CronJob";
const POD: string = TYPES.pod;
const SA: string = TYPES.serviceAccount;
const SA_PATCH: string = TYPES.serviceAccountPatch;
const CLUSTER: string = TYPES.managedCluster;
const PROVIDER: string = TYPES.kubernetesProvider;
const IDENTITY: string = TYPES.userAssignedIdentity;
const FIC: string = TYPES.federatedIdentityCredential;
const APPLICATION: string = TYPES.application;
const SERVICE_PRINCIPAL: string = TYPES.servicePrincipal;
const APP_FIC: string = TYPES.applicationFederatedIdentityCredential;
const CLIENT_ID = "azure.workload.identity/client-id";
const TENANT_ID = "azure.workload.identity/tenant-id";
const USE = "azure.workload.identity/use";

function deployment(template: { labels?: Record<string, string>; annotations?: Record<string, string>; serviceAccountName?: string }, own: Record<string, unknown> = {}) {
    return {
        metadata: { name: "orders-api", namespace: "orders", ...own },
        spec: {
            selector: { matchLabels: { app: "orders-api" } },
            template: {
                metadata: { labels: { app: "orders-api", ...template.labels }, ...(template.annotations ? { annotations: template.annotations } : {}) },
                spec: { ...(template.serviceAccountName ? { serviceAccountName: template.serviceAccountName } : {}), containers: [{ name: "api", image: "orders-api:1" }] },
            },
        },
    };
}

const check = (policy: (typeof kubernetesResourcePolicies)[number], type: string, name: string, props: Record<string, unknown>) =>
    violationsOf(policy, resourceArgs({ type, name, props }));

describe("Kubernetes policies: names and levels", () => {
    it("are the documented ones", () => {
        assert.deepEqual(
            [...kubernetesResourcePolicies, ...kubernetesStackPolicies].map((p) => [p.name, p.enforcementLevel]),
            [
                ["workload-identity-annotation-placement", "mandatory"],
                ["workload-identity-use-label-placement", "mandatory"],
                ["service-account-client-id", "mandatory"],
                ["pod-service-account-client-id", "mandatory"],
            ],
        );
    });
});

describe("workload-identity-annotation-placement", () => {
    it("fires on the client ID in a pod template's annotations", () => {
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, DEPLOYMENT, "orders-api", deployment({ labels: { [USE]: "true" }, annotations: { [CLIENT_ID]: "c" } })), [
            'Deployment "orders-api": annotation azure.workload.identity/client-id in spec.template.metadata.annotations does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount\'s metadata.annotations.',
        ]);
    });

    it("fires on the tenant ID of a Deployment itself, of a Pod, and in a CronJob's template", () => {
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, DEPLOYMENT, "orders-api", deployment({}, { annotations: { [TENANT_ID]: "t" } })), [
            'Deployment "orders-api": annotation azure.workload.identity/tenant-id in metadata.annotations does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount\'s metadata.annotations.',
        ]);
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, POD, "debug", { metadata: { name: "debug", annotations: { [CLIENT_ID]: "c", [TENANT_ID]: "t" } }, spec: {} }), [
            'Pod "debug": annotation azure.workload.identity/client-id in metadata.annotations does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount\'s metadata.annotations.',
            'Pod "debug": annotation azure.workload.identity/tenant-id in metadata.annotations does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount\'s metadata.annotations.',
        ]);
        const cronJob = { metadata: { name: "reports" }, spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { metadata: { annotations: { [CLIENT_ID]: "c" } }, spec: {} } } } } };
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, CRON_JOB, "reports", cronJob), [
            'CronJob "reports": annotation azure.workload.identity/client-id in spec.jobTemplate.spec.template.metadata.annotations does nothing there; the webhook reads it only from the ServiceAccount the pod runs as. Move it to that ServiceAccount\'s metadata.annotations.',
        ]);
    });

    it("passes the annotations the webhook reads on pods, and client and tenant ID on ServiceAccounts", () => {
        const podAnnotations = {
            "azure.workload.identity/service-account-token-expiration": "7200",
            "azure.workload.identity/skip-containers": "sidecar",
            "azure.workload.identity/inject-proxy-sidecar": "true",
            "azure.workload.identity/proxy-sidecar-port": "8000",
        };
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, DEPLOYMENT, "orders-api", deployment({ labels: { [USE]: "true" }, annotations: podAnnotations })), []);
        const account = { metadata: { name: "orders-api", namespace: "orders", annotations: { [CLIENT_ID]: "c", [TENANT_ID]: "t" } } };
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, SA, "orders-api-sa-main", account), []);
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, SA_PATCH, "ingest-sa-main", account), []);
    });

    it("does not judge annotations unknown at preview", () => {
        assert.deepEqual(check(workloadIdentityAnnotationPlacement, DEPLOYMENT, "orders-api", deployment({}, { annotations: UNKNOWN_AT_PREVIEW })), []);
    });
});

describe("workload-identity-use-label-placement", () => {
    it("fires on use written as a pod template annotation", () => {
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, DEPLOYMENT, "orders-api", deployment({ annotations: { [USE]: "true" } })), [
            'Deployment "orders-api": azure.workload.identity/use is written as an annotation (spec.template.metadata.annotations), which the webhook ignores. Make it a pod label: spec.template.metadata.labels: { "azure.workload.identity/use": "true" }.',
        ]);
    });

    it("fires on use as an annotation of a Pod", () => {
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, POD, "debug", { metadata: { name: "debug", annotations: { [USE]: "true" } }, spec: {} }), [
            'Pod "debug": azure.workload.identity/use is written as an annotation (metadata.annotations), which the webhook ignores. Make it a pod label: metadata.labels: { "azure.workload.identity/use": "true" }.',
        ]);
    });

    it("fires on use as a ServiceAccount label or annotation", () => {
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, SA, "orders-api-sa-main", { metadata: { name: "orders-api", labels: { [USE]: "true" }, annotations: { [CLIENT_ID]: "c" } } }), [
            'ServiceAccount "orders-api-sa-main": azure.workload.identity/use is a label of the ServiceAccount, where it does nothing (since workload identity v1.0 the webhook reads it from pods). Remove it here and label the pods that run as this ServiceAccount: spec.template.metadata.labels: { "azure.workload.identity/use": "true" }.',
        ]);
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, SA_PATCH, "ingest-sa-main", { metadata: { name: "ingest", annotations: { [USE]: "true" } } }), [
            'ServiceAccountPatch "ingest-sa-main": azure.workload.identity/use is an annotation of the ServiceAccount, where the webhook ignores it. Remove it and label the pods that run as this ServiceAccount: spec.template.metadata.labels: { "azure.workload.identity/use": "true" }.',
        ]);
    });

    it("fires on use as a label of the Deployment but not of its pods", () => {
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, DEPLOYMENT, "orders-api", deployment({}, { labels: { [USE]: "true" } })), [
            'Deployment "orders-api": azure.workload.identity/use is a label of the Deployment itself, not of its pods, so the webhook never sees it. Move it to spec.template.metadata.labels.',
        ]);
    });

    it("passes the pod label, on a template and on a Pod", () => {
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, DEPLOYMENT, "orders-api", deployment({ labels: { [USE]: "true" } }, { labels: { [USE]: "true" } })), []);
        assert.deepEqual(check(workloadIdentityUseLabelPlacement, POD, "debug", { metadata: { name: "debug", labels: { [USE]: "true" } }, spec: {} }), []);
    });
});

/** A cluster, its Kubernetes provider, an identity and its FIC for orders/orders-api, and that ServiceAccount. */
function trustChain(options: {
    clientId?: string;
    annotations?: Record<string, string> | string;
    accountSources?: string[];
    accountType?: string;
    extra?: StackResourceSpec[];
}): StackResourceSpec[] {
    return [
        { type: CLUSTER, name: "main-aks", props: { oidcIssuerProfile: { enabled: true, issuerURL: UNKNOWN_AT_PREVIEW } } },
        { type: PROVIDER, name: "main-k8s", props: { kubeconfig: UNKNOWN_AT_PREVIEW }, propertyDependencies: { kubeconfig: ["main-aks"] } },
        { type: IDENTITY, name: "orders-api-id", props: { resourceName: "id-orders-api-dev", clientId: options.clientId ?? UNKNOWN_AT_PREVIEW } },
        { type: IDENTITY, name: "reports-id", props: { resourceName: "id-reports-dev", clientId: UNKNOWN_AT_PREVIEW } },
        {
            type: FIC,
            name: "orders-api-fic-main",
            props: { resourceName: UNKNOWN_AT_PREVIEW, issuer: UNKNOWN_AT_PREVIEW, subject: "system:serviceaccount:orders:orders-api", audiences: ["api://AzureADTokenExchange"] },
            propertyDependencies: { resourceName: ["orders-api-id"], issuer: ["main-aks"] },
        },
        {
            type: options.accountType ?? SA,
            name: "orders-api-sa-main",
            provider: "main-k8s",
            props: { metadata: { name: "orders-api", namespace: "orders", annotations: options.annotations ?? { [CLIENT_ID]: UNKNOWN_AT_PREVIEW, [TENANT_ID]: UNKNOWN_AT_PREVIEW } } },
            propertyDependencies: { metadata: options.accountSources ?? ["orders-api-id"] },
        },
        ...(options.extra ?? []),
    ];
}

const saCheck = (specs: StackResourceSpec[]) => stackViolationsOf(serviceAccountClientId, stackArgs(specs));

describe("service-account-client-id", () => {
    it("passes at preview when the annotation comes from the identity whose FIC names the ServiceAccount", () => {
        assert.deepEqual(saCheck(trustChain({})), []);
        assert.deepEqual(saCheck(trustChain({ accountType: SA_PATCH })), []);
    });

    it("passes known values that agree", () => {
        assert.deepEqual(saCheck(trustChain({ clientId: "40de8b5e-3a26-5012-895b-2dc5073c9422", annotations: { [CLIENT_ID]: "40DE8B5E-3A26-5012-895B-2DC5073C9422" }, accountSources: [] })), []);
    });

    it("fires on a named ServiceAccount without the annotation", () => {
        assert.deepEqual(saCheck(trustChain({ annotations: { [TENANT_ID]: "t" } })), [
            {
                resource: "orders-api-sa-main",
                message:
                    'ServiceAccount "orders-api-sa-main" (orders/orders-api) has no azure.workload.identity/client-id annotation, but FederatedIdentityCredential "orders-api-fic-main" of UserAssignedIdentity "orders-api-id" trusts it, so its pods get a token but no AZURE_CLIENT_ID. Annotate it with the client ID of UserAssignedIdentity "orders-api-id" (its clientId output).',
            },
        ]);
    });

    it("fires on another identity's client ID when the values are known", () => {
        assert.deepEqual(saCheck(trustChain({ clientId: "40de8b5e-3a26-5012-895b-2dc5073c9422", annotations: { [CLIENT_ID]: "55cacc7f-59f1-5d17-9bbe-511af46c74c9" } })), [
            {
                resource: "orders-api-sa-main",
                message:
                    'ServiceAccount "orders-api-sa-main" (orders/orders-api) is annotated with client ID "55cacc7f-59f1-5d17-9bbe-511af46c74c9", which is not the client ID of UserAssignedIdentity "orders-api-id", whose FederatedIdentityCredential "orders-api-fic-main" trusts it; the token exchange would ask for another identity and fail with AADSTS70021. Set azure.workload.identity/client-id from UserAssignedIdentity "orders-api-id"\'s clientId output.',
            },
        ]);
    });

    it("fires at preview when the annotation comes from another identity, by the resource graph", () => {
        assert.deepEqual(saCheck(trustChain({ accountSources: ["reports-id"] })), [
            {
                resource: "orders-api-sa-main",
                message:
                    'ServiceAccount "orders-api-sa-main" (orders/orders-api): its azure.workload.identity/client-id annotation does not come from UserAssignedIdentity "orders-api-id", whose FederatedIdentityCredential "orders-api-fic-main" trusts it (the ServiceAccount\'s metadata comes from UserAssignedIdentity "reports-id"). Set the annotation from UserAssignedIdentity "orders-api-id"\'s clientId output, so the two cannot drift apart.',
            },
        ]);
    });

    it("fires at preview on a literal client ID for an identity not created yet", () => {
        assert.deepEqual(saCheck(trustChain({ annotations: { [CLIENT_ID]: "55cacc7f-59f1-5d17-9bbe-511af46c74c9" }, accountSources: [] })).map((v) => v.message), [
            'ServiceAccount "orders-api-sa-main" (orders/orders-api): its azure.workload.identity/client-id annotation does not come from UserAssignedIdentity "orders-api-id", whose FederatedIdentityCredential "orders-api-fic-main" trusts it (the ServiceAccount\'s metadata comes from no resource). Set the annotation from UserAssignedIdentity "orders-api-id"\'s clientId output, so the two cannot drift apart.',
        ]);
    });

    it("ignores a ServiceAccount of the same name in another cluster, and ServiceAccounts no FIC names", () => {
        const otherCluster: StackResourceSpec[] = [
            { type: CLUSTER, name: "other-aks", props: {} },
            { type: PROVIDER, name: "other-k8s", propertyDependencies: { kubeconfig: ["other-aks"] } },
            { type: SA, name: "orders-api-sa-other", provider: "other-k8s", props: { metadata: { name: "orders-api", namespace: "orders" } } },
            { type: SA, name: "unrelated-sa", provider: "main-k8s", props: { metadata: { name: "unrelated", namespace: "orders" } } },
        ];
        assert.deepEqual(saCheck(trustChain({ extra: otherCluster })), []);
    });

    it("follows an app registration to its application and service principal", () => {
        const specs: StackResourceSpec[] = [
            { type: APPLICATION, name: "payments-app", props: { displayName: "app-payments-dev", clientId: UNKNOWN_AT_PREVIEW } },
            { type: SERVICE_PRINCIPAL, name: "payments-sp", props: { clientId: UNKNOWN_AT_PREVIEW }, propertyDependencies: { clientId: ["payments-app"] } },
            {
                type: APP_FIC,
                name: "payments-fic-main",
                props: { applicationId: UNKNOWN_AT_PREVIEW, issuer: "https://issuer.example.com/", subject: "system:serviceaccount:payments:payments" },
                propertyDependencies: { applicationId: ["payments-app"] },
            },
            {
                type: SA,
                name: "payments-sa-main",
                props: { metadata: { name: "payments", namespace: "payments", annotations: UNKNOWN_AT_PREVIEW } },
                propertyDependencies: { metadata: ["payments-app", "payments-sp"] },
            },
        ];
        assert.deepEqual(saCheck(specs), []);
        const wrong = specs.map((s) => (s.name === "payments-sa-main" ? { ...s, propertyDependencies: { metadata: ["orders-api-id"] } } : s));
        assert.deepEqual(saCheck([{ type: IDENTITY, name: "orders-api-id", props: {} }, ...wrong]).map((v) => v.message), [
            'ServiceAccount "payments-sa-main" (payments/payments): its azure.workload.identity/client-id annotation does not come from Application "payments-app", whose ApplicationFederatedIdentityCredential "payments-fic-main" trusts it (the ServiceAccount\'s metadata comes from UserAssignedIdentity "orders-api-id"). Set the annotation from Application "payments-app"\'s clientId output, so the two cannot drift apart.',
        ]);
    });
});

/** The trust chain plus a Deployment in the same cluster. */
function withDeployment(props: Record<string, unknown>, chain: Parameters<typeof trustChain>[0] = {}): StackResourceSpec[] {
    return [...trustChain(chain), { type: DEPLOYMENT, name: "orders-api", provider: "main-k8s", props }];
}

const podCheck = (specs: StackResourceSpec[]) => stackViolationsOf(podServiceAccountClientId, stackArgs(specs));

describe("pod-service-account-client-id", () => {
    it("passes pods labelled use that run as the annotated ServiceAccount", () => {
        assert.deepEqual(podCheck(withDeployment(deployment({ labels: { [USE]: "true" }, serviceAccountName: "orders-api" }))), []);
    });

    it("fires when the ServiceAccount they run as has no client ID", () => {
        assert.deepEqual(podCheck(withDeployment(deployment({ labels: { [USE]: "true" }, serviceAccountName: "orders-api" }), { annotations: {}, accountSources: [] })), [
            {
                resource: "orders-api",
                message:
                    'Deployment "orders-api": its pods are labelled azure.workload.identity/use: "true" but run as ServiceAccount orders/orders-api (ServiceAccount "orders-api-sa-main"), which has no azure.workload.identity/client-id annotation, so they get a token but no AZURE_CLIENT_ID. Annotate that ServiceAccount with the client ID of the identity the pods use, or set spec.template.spec.serviceAccountName to the workload\'s annotated ServiceAccount.',
            },
        ]);
    });

    it("fires when they run as the namespace's default ServiceAccount", () => {
        assert.deepEqual(podCheck(withDeployment(deployment({ labels: { [USE]: "true" } }))), [
            {
                resource: "orders-api",
                message:
                    'Deployment "orders-api": its pods are labelled azure.workload.identity/use: "true" but run as the default ServiceAccount of namespace "orders", which carries no azure.workload.identity/client-id annotation in this stack, so they get a token but no AZURE_CLIENT_ID. Set spec.template.spec.serviceAccountName to the workload\'s annotated ServiceAccount.',
            },
        ]);
    });

    it("fires on a CronJob whose ServiceAccount in its own cluster lacks the client ID", () => {
        const otherCluster: StackResourceSpec[] = [
            { type: CLUSTER, name: "other-aks", props: {} },
            { type: PROVIDER, name: "other-k8s", propertyDependencies: { kubeconfig: ["other-aks"] } },
            { type: SA, name: "orders-api-sa-other", provider: "other-k8s", props: { metadata: { name: "orders-api", namespace: "orders" } } },
        ];
        const cronJob = {
            metadata: { name: "reports", namespace: "orders" },
            spec: { jobTemplate: { spec: { template: { metadata: { labels: { [USE]: "true" } }, spec: { serviceAccountName: "orders-api" } } } } },
        };
        assert.deepEqual(podCheck([...trustChain({ extra: otherCluster }), { type: CRON_JOB, name: "reports", provider: "other-k8s", props: cronJob }]).map((v) => v.message), [
            'CronJob "reports": its pods are labelled azure.workload.identity/use: "true" but run as ServiceAccount orders/orders-api (ServiceAccount "orders-api-sa-other"), which has no azure.workload.identity/client-id annotation, so they get a token but no AZURE_CLIENT_ID. Annotate that ServiceAccount with the client ID of the identity the pods use, or set spec.jobTemplate.spec.template.spec.serviceAccountName to the workload\'s annotated ServiceAccount.',
        ]);
    });

    it("leaves alone pods without the label, and ServiceAccounts this stack does not declare", () => {
        assert.deepEqual(podCheck(withDeployment(deployment({}))), []);
        assert.deepEqual(podCheck(withDeployment(deployment({ labels: { [USE]: "true" }, serviceAccountName: "from-a-chart" }))), []);
    });

    it("passes at preview when the ServiceAccount's annotations come from an identity", () => {
        assert.deepEqual(podCheck(withDeployment(deployment({ labels: { [USE]: "true" }, serviceAccountName: "orders-api" }), { annotations: UNKNOWN_AT_PREVIEW })), []);
    });
});
