import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as azuread from "@pulumi/azuread";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as appsv1 from "@pulumi/kubernetes/apps/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { unwrapSecret } from "../offline/graph";
import type { RecordedResource } from "../offline/mock-runner";
import { TYPES } from "../policy/resource-types";

/**
 * The SDK floor for the scaling bench: it registers exactly the resources a recorded run of the
 * program registered (same classes, names, parents and input values) but with plain values, no
 * components' logic, no validation, no applies. The difference to the program is our code's cost.
 * BENCH_FLOOR_GRAPH names the JSON file of the recorded resources (bench/host.cjs writes it).
 */

type Constructor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.Resource;

const CLASSES: Readonly<Record<string, Constructor>> = {
    [TYPES.resourceGroup]: resources.ResourceGroup,
    [TYPES.managedCluster]: containerservice.ManagedCluster,
    [TYPES.agentPool]: containerservice.AgentPool,
    [TYPES.userAssignedIdentity]: managedidentity.UserAssignedIdentity,
    [TYPES.federatedIdentityCredential]: managedidentity.FederatedIdentityCredential,
    [TYPES.roleAssignment]: authorization.RoleAssignment,
    [TYPES.application]: azuread.Application,
    [TYPES.servicePrincipal]: azuread.ServicePrincipal,
    [TYPES.applicationFederatedIdentityCredential]: azuread.ApplicationFederatedIdentityCredential,
    [TYPES.kubernetesProvider]: KubernetesProvider,
    [TYPES.namespace]: corev1.Namespace,
    [TYPES.serviceAccount]: corev1.ServiceAccount,
    [TYPES.serviceAccountPatch]: corev1.ServiceAccountPatch,
    [TYPES.deployment]: appsv1.Deployment,
};

/** A custom resource of a recorded type token with no class of its own (a dynamic provider's resource). */
class RecordedCustomResource extends pulumi.CustomResource {
    public constructor(type: string, name: string, inputs: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
        super(type, name, inputs, opts);
    }
}

function plain(inputs: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(inputs).map(([key, value]) => [key, unwrapSecret(value)]));
}

export = (): Record<string, never> => {
    const recorded = JSON.parse(fs.readFileSync(process.env.BENCH_FLOOR_GRAPH as string, "utf8")) as RecordedResource[];
    const created = new Map<string, pulumi.Resource>();
    for (const resource of recorded) {
        if (resource.type === TYPES.stack) {
            continue;
        }
        const parent = resource.parent === undefined ? undefined : created.get(resource.parent);
        const opts = { parent };
        let instance: pulumi.Resource;
        if (!resource.custom) {
            instance = new pulumi.ComponentResource(resource.type, resource.name, {}, opts);
        } else if (resource.type === TYPES.secretProviderClass) {
            instance = new apiextensions.CustomResource(resource.name, plain(resource.inputs) as never, opts);
        } else if (resource.type.startsWith("pulumi-nodejs:dynamic")) {
            instance = new RecordedCustomResource(resource.type, resource.name, plain(resource.inputs), opts);
        } else {
            const Class = CLASSES[resource.type];
            if (Class === undefined) {
                throw new Error(`The floor has no class for ${resource.type}.`);
            }
            instance = new Class(resource.name, plain(resource.inputs) as never, opts);
        }
        created.set(resource.urn, instance);
    }
    return {};
};
