import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { namespaceProblem, serviceAccountNameProblem } from "../components/validation";
import {
    ficAudience,
    ficCountPerIdentity,
    ficIssuerHttps,
    ficSubject,
    ficWritesSerialized,
    identityResourcePolicies,
    identityStackPolicies,
    noSecretCredentials,
} from "../policy/identity";
import { UNKNOWN_AT_PREVIEW, resourceArgs, stackArgs, stackViolationsOf, violationsOf, type StackResourceSpec } from "../policy/testing";
import { TYPES } from "../policy/resource-types";

const FIC: string = TYPES.federatedIdentityCredential;
const APP_FIC: string = TYPES.applicationFederatedIdentityCredential;
const IDENTITY: string = TYPES.userAssignedIdentity;
const APPLICATION: string = TYPES.application;
const AKS_ISSUER = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-00000000feed/3f1e0b0e-2c3a-4f5e-9d8c-7b6a5f4e3d2c/";
const GITHUB = "https://token.actions.githubusercontent.com";

function fic(changes: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    const props: Record<string, unknown> = {
        resourceGroupName: "rg-apps",
        resourceName: "id-orders-api-dev",
        federatedIdentityCredentialResourceName: "fic-main",
        issuer: AKS_ISSUER,
        subject: "system:serviceaccount:orders:orders-api",
        audiences: ["api://AzureADTokenExchange"],
    };
    for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) {
            delete props[key];
        } else {
            props[key] = value;
        }
    }
    return props;
}

function check(policy: (typeof identityResourcePolicies)[number], props: Record<string, unknown>, config: object = {}, type = FIC): string[] {
    return violationsOf(policy, resourceArgs({ type, name: "orders-api-fic-main", props, config }));
}

describe("identity policies: names and levels", () => {
    it("are the documented ones", () => {
        assert.deepEqual(
            [...identityResourcePolicies, ...identityStackPolicies].map((p) => [p.name, p.enforcementLevel]),
            [
                ["fic-audience", "mandatory"],
                ["fic-subject", "mandatory"],
                ["fic-issuer-https", "mandatory"],
                ["no-secret-credentials", "mandatory"],
                ["fic-count-per-identity", "mandatory"],
                ["fic-writes-serialized", "mandatory"],
            ],
        );
    });

    it("pass a good managed-identity FIC and a good application FIC", () => {
        for (const policy of identityResourcePolicies) {
            assert.deepEqual(check(policy, fic()), [], policy.name);
            const appFic = { applicationId: "/applications/dc823aff-b7d6-5256-b257-62d69f5c179a", displayName: "fic-main", issuer: AKS_ISSUER, subject: "system:serviceaccount:payments:payments", audiences: ["api://AzureADTokenExchange"] };
            assert.deepEqual(check(policy, appFic, {}, APP_FIC), [], policy.name);
        }
    });
});

describe("fic-audience", () => {
    it("fires on another audience, on both FIC types", () => {
        const expected = [
            'FederatedIdentityCredential "orders-api-fic-main": audience "api://AzureADTokenExchangeX" is not Entra ID\'s token exchange audience "api://AzureADTokenExchange", so the token exchange fails. Set audiences: ["api://AzureADTokenExchange"], or, for a non-Entra audience, list it in this policy\'s allowedAudiences config.',
        ];
        assert.deepEqual(check(ficAudience, fic({ audiences: ["api://AzureADTokenExchangeX"] })), expected);
        assert.deepEqual(check(ficAudience, fic({ audiences: ["api://AzureADTokenExchangeX"] }), {}, APP_FIC), [
            expected[0].replace('FederatedIdentityCredential "', 'ApplicationFederatedIdentityCredential "'),
        ]);
    });

    it("fires on two audiences and on none", () => {
        assert.deepEqual(check(ficAudience, fic({ audiences: ["api://AzureADTokenExchange", "api://other"] })), [
            'FederatedIdentityCredential "orders-api-fic-main": audiences is ["api://AzureADTokenExchange","api://other"]; a federated credential takes exactly one audience. Set audiences: ["api://AzureADTokenExchange"].',
        ]);
        assert.deepEqual(check(ficAudience, fic({ audiences: undefined })), [
            'FederatedIdentityCredential "orders-api-fic-main": audiences is not set; a federated credential takes exactly one audience. Set audiences: ["api://AzureADTokenExchange"].',
        ]);
    });

    it("accepts an audience the config declares, and nothing else", () => {
        const config = { allowedAudiences: ["api://AzureADTokenExchangeUSGov"] };
        assert.deepEqual(check(ficAudience, fic({ audiences: ["api://AzureADTokenExchangeUSGov"] }), config), []);
        assert.equal(check(ficAudience, fic({ audiences: ["api://other"] }), config).length, 1);
    });

    it("does not judge audiences unknown at preview", () => {
        assert.deepEqual(check(ficAudience, fic({ audiences: UNKNOWN_AT_PREVIEW })), []);
        assert.deepEqual(check(ficAudience, fic({ audiences: [UNKNOWN_AT_PREVIEW] })), []);
    });
});

describe("fic-subject", () => {
    const githubConfig = { allowedExternalIssuers: [{ issuer: GITHUB, subjectPattern: "repo:contoso/orders:environment:(dev|prod)" }] };

    it("fires on a ServiceAccount subject with an invalid namespace or name, or in kube-system", () => {
        assert.deepEqual(check(ficSubject, fic({ subject: "system:serviceaccount:Orders:orders-api" })), [
            `FederatedIdentityCredential "orders-api-fic-main": subject "system:serviceaccount:Orders:orders-api" names no ServiceAccount the webhook serves: ${namespaceProblem("Orders")} Set subject to system:serviceaccount:<namespace>:<serviceAccount> exactly as the ServiceAccount is named.`,
        ]);
        assert.deepEqual(check(ficSubject, fic({ subject: "system:serviceaccount:kube-system:coredns" })), [
            `FederatedIdentityCredential "orders-api-fic-main": subject "system:serviceaccount:kube-system:coredns" names no ServiceAccount the webhook serves: ${namespaceProblem("kube-system")} Set subject to system:serviceaccount:<namespace>:<serviceAccount> exactly as the ServiceAccount is named.`,
        ]);
        assert.deepEqual(check(ficSubject, fic({ subject: "system:serviceaccount:orders:Orders_API" })), [
            `FederatedIdentityCredential "orders-api-fic-main": subject "system:serviceaccount:orders:Orders_API" names no ServiceAccount the webhook serves: ${serviceAccountNameProblem("Orders_API")} Set subject to system:serviceaccount:<namespace>:<serviceAccount> exactly as the ServiceAccount is named.`,
        ]);
    });

    it("fires on another issuer's subject unless the issuer is declared", () => {
        assert.deepEqual(check(ficSubject, fic({ issuer: GITHUB, subject: "repo:contoso/orders:environment:prod" })), [
            'FederatedIdentityCredential "orders-api-fic-main": subject "repo:contoso/orders:environment:prod" is not a ServiceAccount subject (system:serviceaccount:<namespace>:<serviceAccount>) and issuer "https://token.actions.githubusercontent.com" is not a declared external issuer. For a workload, set subject to system:serviceaccount:<namespace>:<serviceAccount>; to trust another issuer (a GitHub Actions workflow, say), declare the issuer and a subject pattern in this policy\'s allowedExternalIssuers config.',
        ]);
        assert.deepEqual(check(ficSubject, fic({ issuer: GITHUB, subject: "repo:contoso/orders:environment:prod" }), githubConfig), []);
    });

    it("fires on a declared issuer's subject that does not match the whole pattern", () => {
        const message = (subject: string) =>
            `FederatedIdentityCredential "orders-api-fic-main": subject "${subject}" does not match the subject pattern "repo:contoso/orders:environment:(dev|prod)" declared for issuer "https://token.actions.githubusercontent.com". Use a subject of the declared form (GitHub Actions: repo:<owner>/<repo>:environment:<environment>), or widen subjectPattern in this policy's allowedExternalIssuers config.`;
        assert.deepEqual(check(ficSubject, fic({ issuer: GITHUB, subject: "repo:contoso/orders:pull_request" }), githubConfig), [message("repo:contoso/orders:pull_request")]);
        // Anchored: a subject that only contains a match is refused.
        assert.deepEqual(check(ficSubject, fic({ issuer: GITHUB, subject: "repo:contoso/orders:environment:prod-old" }), githubConfig), [
            message("repo:contoso/orders:environment:prod-old"),
        ]);
    });

    it("does not take an issuer that differs by a trailing slash for the declared one", () => {
        assert.equal(check(ficSubject, fic({ issuer: `${GITHUB}/`, subject: "repo:contoso/orders:environment:prod" }), githubConfig).length, 1);
    });

    it("reports a declared pattern that is not a regular expression", () => {
        const config = { allowedExternalIssuers: [{ issuer: GITHUB, subjectPattern: "repo:(contoso" }] };
        const found = check(ficSubject, fic({ issuer: GITHUB, subject: "repo:contoso/orders:environment:prod" }), config);
        assert.equal(found.length, 2);
        assert.match(
            found[0],
            /^FederatedIdentityCredential "orders-api-fic-main": the subjectPattern "repo:\(contoso" declared for issuer "https:\/\/token\.actions\.githubusercontent\.com" in this policy's allowedExternalIssuers config is not a valid regular expression \(.+\)\. Fix the pattern\.$/,
        );
    });

    it("does not judge a subject unknown at preview, nor a non-ServiceAccount subject whose issuer is unknown", () => {
        assert.deepEqual(check(ficSubject, fic({ subject: UNKNOWN_AT_PREVIEW })), []);
        assert.deepEqual(check(ficSubject, fic({ issuer: UNKNOWN_AT_PREVIEW, subject: "repo:contoso/orders:environment:prod" })), []);
    });

    it("fires on a missing subject", () => {
        assert.deepEqual(check(ficSubject, fic({ subject: undefined })), [
            'FederatedIdentityCredential "orders-api-fic-main": no subject. Set subject to system:serviceaccount:<namespace>:<serviceAccount>.',
        ]);
    });
});

describe("fic-issuer-https", () => {
    const message = (issuer: string) =>
        `FederatedIdentityCredential "orders-api-fic-main": issuer ${issuer} is not an https URL; Entra ID only fetches signing keys over https. Take the issuer from the cluster's oidcIssuerProfile.issuerURL output, or write the external issuer's https URL exactly as in its tokens' iss claim.`;

    it("fires on http, on something that is no URL, and on a missing issuer", () => {
        assert.deepEqual(check(ficIssuerHttps, fic({ issuer: "http://issuer.example.com/" })), [message('"http://issuer.example.com/"')]);
        assert.deepEqual(check(ficIssuerHttps, fic({ issuer: "main-aks" })), [message('"main-aks"')]);
        assert.deepEqual(check(ficIssuerHttps, fic({ issuer: undefined })), [message("not set")]);
    });

    it("passes GitHub's issuer and an issuer unknown at preview", () => {
        assert.deepEqual(check(ficIssuerHttps, fic({ issuer: GITHUB })), []);
        assert.deepEqual(check(ficIssuerHttps, fic({ issuer: UNKNOWN_AT_PREVIEW })), []);
    });
});

describe("no-secret-credentials", () => {
    const cases: [string, string, string][] = [
        ["azuread:index/applicationPassword:ApplicationPassword", "ApplicationPassword", "a client secret of an app registration"],
        ["azuread:index/applicationCertificate:ApplicationCertificate", "ApplicationCertificate", "a certificate credential of an app registration"],
        ["azuread:index/servicePrincipalPassword:ServicePrincipalPassword", "ServicePrincipalPassword", "a client secret of a service principal"],
        ["azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate", "ServicePrincipalCertificate", "a certificate credential of a service principal"],
    ];
    for (const [type, kind, what] of cases) {
        it(`fires on any ${kind}`, () => {
            assert.deepEqual(violationsOf(noSecretCredentials, resourceArgs({ type, name: "payments-secret", props: { applicationId: "/applications/x" } })), [
                `${kind} "payments-secret": ${what}, a secret to store, leak and rotate; workload identity needs none. Delete this resource; the workload authenticates through a federated credential whose subject is its ServiceAccount (system:serviceaccount:<namespace>:<serviceAccount>).`,
            ]);
        });
    }

    it("fires on an inline password on an Application, known or not", () => {
        const expected = [
            'Application "payments-app": the inline password block makes Entra ID generate a client secret for the application. Remove password; the workload authenticates through the application\'s federated credentials.',
        ];
        const props = (password: unknown) => ({ displayName: "app-payments-dev", password });
        assert.deepEqual(violationsOf(noSecretCredentials, resourceArgs({ type: APPLICATION, name: "payments-app", props: props({ displayName: "ci" }) })), expected);
        assert.deepEqual(violationsOf(noSecretCredentials, resourceArgs({ type: APPLICATION, name: "payments-app", props: props(UNKNOWN_AT_PREVIEW) })), expected);
    });

    it("passes an Application without a password", () => {
        assert.deepEqual(violationsOf(noSecretCredentials, resourceArgs({ type: APPLICATION, name: "payments-app", props: { displayName: "app-payments-dev", signInAudience: "AzureADMyOrg" } })), []);
    });
});

/** An identity and `count` FICs of it; chained one after another unless told otherwise. */
function identityWithCredentials(count: number, chained = true): StackResourceSpec[] {
    const specs: StackResourceSpec[] = [{ type: IDENTITY, name: "orders-api-id", props: { resourceName: "id-orders-api-dev", clientId: "c1" } }];
    for (let i = 0; i < count; i++) {
        specs.push({
            type: FIC,
            name: `orders-api-fic-c${i}`,
            props: fic({ resourceName: UNKNOWN_AT_PREVIEW, issuer: `https://issuer-${i}.example.com/` }),
            propertyDependencies: { resourceName: ["orders-api-id"] },
            dependsOn: chained && i > 0 ? [`orders-api-fic-c${i - 1}`] : [],
        });
    }
    return specs;
}

describe("fic-count-per-identity", () => {
    it("fires on 21 credentials of one identity, found through the resource graph", () => {
        assert.deepEqual(stackViolationsOf(ficCountPerIdentity, stackArgs(identityWithCredentials(21))), [
            {
                resource: "orders-api-id",
                message:
                    'UserAssignedIdentity "orders-api-id" has 21 federated credentials; Entra ID allows at most 20 per identity. Give further clusters or issuers an identity of their own, or remove credentials no longer used.',
            },
        ]);
    });

    it("passes 20", () => {
        assert.deepEqual(stackViolationsOf(ficCountPerIdentity, stackArgs(identityWithCredentials(20))), []);
    });

    it("groups credentials of an identity outside the stack by resource group and name", () => {
        const specs: StackResourceSpec[] = Array.from({ length: 21 }, (_, i) => ({
            type: FIC,
            name: `external-fic-${i}`,
            props: fic({ resourceName: "id-shared", issuer: `https://issuer-${i}.example.com/` }),
        }));
        assert.deepEqual(stackViolationsOf(ficCountPerIdentity, stackArgs(specs)), [
            {
                resource: "external-fic-20",
                message:
                    'user-assigned identity "id-shared" (resource group "rg-apps") has 21 federated credentials; Entra ID allows at most 20 per identity. Give further clusters or issuers an identity of their own, or remove credentials no longer used.',
            },
        ]);
    });
});

describe("fic-writes-serialized", () => {
    it("fires on two credentials of one identity that neither depends on the other", () => {
        assert.deepEqual(stackViolationsOf(ficWritesSerialized, stackArgs(identityWithCredentials(2, false))), [
            {
                resource: "orders-api-fic-c1",
                message:
                    'FederatedIdentityCredential "orders-api-fic-c0" and FederatedIdentityCredential "orders-api-fic-c1" of UserAssignedIdentity "orders-api-id" can be written at the same time: neither depends on the other. Azure rejects concurrent federated credential writes under one identity (409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity). Chain them: give each credential dependsOn the one before it.',
            },
        ]);
    });

    it("fires once per unordered pair", () => {
        assert.deepEqual(
            stackViolationsOf(ficWritesSerialized, stackArgs(identityWithCredentials(3, false))).map((v) => v.resource),
            ["orders-api-fic-c1", "orders-api-fic-c2", "orders-api-fic-c2"],
        );
    });

    it("passes a chain, also one that runs through another resource", () => {
        assert.deepEqual(stackViolationsOf(ficWritesSerialized, stackArgs(identityWithCredentials(5))), []);
        const [identity, first, second] = identityWithCredentials(2, false);
        const gate: StackResourceSpec = { type: "kubernetes:core/v1:Namespace", name: "gate", dependsOn: [first.name] };
        assert.deepEqual(stackViolationsOf(ficWritesSerialized, stackArgs([identity, first, gate, { ...second, dependsOn: ["gate"] }])), []);
    });

    it("lets credentials of different identities be written in parallel", () => {
        const other: StackResourceSpec[] = [
            { type: IDENTITY, name: "reports-id", props: { resourceName: "id-reports-dev" } },
            { type: FIC, name: "reports-fic-main", props: fic({ resourceName: UNKNOWN_AT_PREVIEW }), propertyDependencies: { resourceName: ["reports-id"] } },
        ];
        assert.deepEqual(stackViolationsOf(ficWritesSerialized, stackArgs([...identityWithCredentials(1), ...other])), []);
    });

    it("applies to the credentials of an app registration, linked by applicationId", () => {
        const specs: StackResourceSpec[] = [
            { type: APPLICATION, name: "payments-app", props: { displayName: "app-payments-dev" } },
            ...["blue", "green"].map((cluster) => ({
                type: APP_FIC,
                name: `payments-fic-${cluster}`,
                props: { applicationId: UNKNOWN_AT_PREVIEW, issuer: UNKNOWN_AT_PREVIEW, subject: "system:serviceaccount:payments:payments", audiences: ["api://AzureADTokenExchange"] },
                propertyDependencies: { applicationId: ["payments-app"] },
            })),
        ];
        assert.deepEqual(stackViolationsOf(ficWritesSerialized, stackArgs(specs)), [
            {
                resource: "payments-fic-green",
                message:
                    'ApplicationFederatedIdentityCredential "payments-fic-blue" and ApplicationFederatedIdentityCredential "payments-fic-green" of Application "payments-app" can be written at the same time: neither depends on the other. Azure rejects concurrent federated credential writes under one identity (409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity). Chain them: give each credential dependsOn the one before it.',
            },
        ]);
    });
});
