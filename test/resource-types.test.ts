import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as azuread from "@pulumi/azuread";
import * as appsv1 from "@pulumi/kubernetes/apps/v1";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as rbacv1 from "@pulumi/kubernetes/rbac/v1";
import { rootPulumiStackTypeName } from "@pulumi/pulumi/runtime/stack";
import { RBAC_READINESS_TOKEN } from "../components/rbac-readiness-provider";
import { runCommittedStack } from "../offline/mock-runner";
import { TYPES } from "../policy/resource-types";
import { productFiles, ROOT } from "../testing/source-files";

/**
 * policy/resource-types.ts is the one table of resource type tokens: each token checked against
 * what registers it (the provider SDK's class, this project's components, the recorded stacks),
 * and no product file spelling a token of its own.
 */

type Key = keyof typeof TYPES;

/** This project's own tokens, and the custom resource no SDK class stands for: checked against the source below. */
type OwnKey = "workloadIdentityCluster" | "adoptedCluster" | "workloadIdentity" | "kubernetesRbacReadiness" | "secretProviderClass";

/** The static type token the generated SDKs keep on every resource class (`@internal` in their typings). */
const tokenOf = (resourceClass: unknown): string => (resourceClass as { __pulumiType: string }).__pulumiType;

/** Every other entry's SDK class: a new entry does not compile until it is named here. */
const SDK_TOKENS: Record<Exclude<Key, OwnKey>, string> = {
    stack: rootPulumiStackTypeName,
    resourceGroup: tokenOf(resources.ResourceGroup),
    genericResource: tokenOf(resources.Resource),
    managedCluster: tokenOf(containerservice.ManagedCluster),
    agentPool: tokenOf(containerservice.AgentPool),
    identityBinding: tokenOf(containerservice.IdentityBinding),
    userAssignedIdentity: tokenOf(managedidentity.UserAssignedIdentity),
    federatedIdentityCredential: tokenOf(managedidentity.FederatedIdentityCredential),
    roleAssignment: tokenOf(authorization.RoleAssignment),
    application: tokenOf(azuread.Application),
    servicePrincipal: tokenOf(azuread.ServicePrincipal),
    applicationFederatedIdentityCredential: tokenOf(azuread.ApplicationFederatedIdentityCredential),
    applicationPassword: tokenOf(azuread.ApplicationPassword),
    applicationCertificate: tokenOf(azuread.ApplicationCertificate),
    servicePrincipalPassword: tokenOf(azuread.ServicePrincipalPassword),
    servicePrincipalCertificate: tokenOf(azuread.ServicePrincipalCertificate),
    // A provider's class names its package; the engine registers it as `pulumi:providers:<package>`.
    kubernetesProvider: `pulumi:providers:${tokenOf(KubernetesProvider)}`,
    namespace: tokenOf(corev1.Namespace),
    serviceAccount: tokenOf(corev1.ServiceAccount),
    serviceAccountPatch: tokenOf(corev1.ServiceAccountPatch),
    pod: tokenOf(corev1.Pod),
    deployment: tokenOf(appsv1.Deployment),
    job: tokenOf(batchv1.Job),
    clusterRole: tokenOf(rbacv1.ClusterRole),
    clusterRoleBinding: tokenOf(rbacv1.ClusterRoleBinding),
    role: tokenOf(rbacv1.Role),
    roleBinding: tokenOf(rbacv1.RoleBinding),
};

/** `super("<token>", ...)` of every class in components/, by class name. */
function componentTokens(): Map<string, string> {
    const found = new Map<string, string>();
    for (const file of productFiles().filter((f) => f.startsWith("components/") && f.endsWith(".ts"))) {
        const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
        // A token passed as a constant of the same file (`super(WORKLOAD_IDENTITY_TYPE, ...)`).
        const constants = new Map<string, string>();
        for (const statement of source.statements) {
            if (ts.isVariableStatement(statement)) {
                for (const declaration of statement.declarationList.declarations) {
                    if (ts.isIdentifier(declaration.name) && declaration.initializer !== undefined && ts.isStringLiteral(declaration.initializer)) {
                        constants.set(declaration.name.text, declaration.initializer.text);
                    }
                }
            }
        }
        const visit = (node: ts.Node, className: string | undefined): void => {
            const name = ts.isClassDeclaration(node) ? node.name?.text : className;
            if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword && name !== undefined) {
                const first = node.arguments[0];
                if (first !== undefined && ts.isStringLiteral(first)) {
                    found.set(name, first.text);
                } else if (first !== undefined && ts.isIdentifier(first) && constants.has(first.text)) {
                    found.set(name, constants.get(first.text) as string);
                }
            }
            ts.forEachChild(node, (child) => visit(child, name));
        };
        visit(source, undefined);
    }
    return found;
}

describe("the resource type table (policy/resource-types.ts)", () => {
    it("names each entry after its class, first letter lower-case, but for the generic resource and the Kubernetes provider", () => {
        const misnamed = Object.entries(TYPES)
            .filter(([key]) => key !== "genericResource" && key !== "kubernetesProvider")
            .filter(([key, token]) => {
                const className = token.split(":").pop() as string;
                return key !== className.charAt(0).toLowerCase() + className.slice(1);
            });
        assert.deepEqual(misnamed, []);
        assert.equal(TYPES.genericResource.split(":").pop(), "Resource");
        assert.equal(new Set(Object.values(TYPES)).size, Object.keys(TYPES).length, "a token is listed twice");
    });

    it("holds the token each provider SDK class registers", () => {
        for (const [key, token] of Object.entries(SDK_TOKENS)) {
            assert.equal(TYPES[key as Key], token, `TYPES.${key}`);
        }
    });

    it("holds the tokens components/ registers its components and its dynamic resource with", () => {
        const components = componentTokens();
        assert.deepEqual(
            Object.fromEntries([...components].filter(([, token]) => token.startsWith("aks-workload-identity:"))),
            { WorkloadIdentityCluster: TYPES.workloadIdentityCluster, AdoptedCluster: TYPES.adoptedCluster, WorkloadIdentity: TYPES.workloadIdentity },
            "the components' super() tokens",
        );
        assert.equal(TYPES.kubernetesRbacReadiness, RBAC_READINESS_TOKEN);
    });

    it("holds every type the committed stacks register", async () => {
        const recorded = new Set<string>();
        for (const stack of ["dev", "staging", "prod"]) {
            for (const resource of (await runCommittedStack(stack)).resources) {
                recorded.add(resource.type);
            }
        }
        const table = new Set<string>(Object.values(TYPES));
        assert.deepEqual([...recorded].filter((type) => !table.has(type)), [], "recorded types missing from the table");
        // The one token no SDK class stands for: the Secrets Store CSI driver's custom resource.
        assert.ok(recorded.has(TYPES.secretProviderClass), `no committed stack registers ${TYPES.secretProviderClass}`);
    });

    it("is the only product file that spells a token (components/ registers them, checked above)", () => {
        const tokens = new Set<string>(Object.values(TYPES));
        const spelled = productFiles(["components", "policy/resource-types.ts"]).flatMap((file) => {
            const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
            const found: string[] = [];
            const visit = (node: ts.Node): void => {
                if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && tokens.has(node.text)) {
                    found.push(`${file}: "${node.text}"`);
                }
                ts.forEachChild(node, visit);
            };
            visit(source);
            return found;
        });
        assert.deepEqual(spelled, [], "use TYPES from policy/resource-types.ts");
    });
});
