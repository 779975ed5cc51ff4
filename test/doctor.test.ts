import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { SignJWT, decodeJwt, generateKeyPair } from "jose";
import { declaredCredentials, diagnose, type Declared, type Presented } from "../doctor/diagnose";
import { declaredBindings, type DeclaredBinding } from "../doctor/bindings";
import { trustMap } from "../plan/model";
import { PLACEHOLDER_TENANT_ID, flattenConfig, placeholderClientId, placeholderIssuerUrl, runCommittedStack, runStack, type RecordedResource } from "../testing/mock-runner";
import { WorkloadIdentity, WorkloadIdentityCluster } from "../components";

const ROOT = path.resolve(__dirname, "..");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const BLUE = `https://westeurope.oic.prod-aks.azure.com/${TENANT}/4a7b1c2d-0000-4000-8000-00000000b1e0/`;
const GREEN = `https://westeurope.oic.prod-aks.azure.com/${TENANT}/4a7b1c2d-0000-4000-8000-0000000060e1/`;
const NOW = new Date("2026-11-30T12:00:00Z");
const AUDIENCE = "api://AzureADTokenExchange";

let signingKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

/** A projected ServiceAccount token as the kubelet writes it, signed here for the test. */
async function token(claims: { iss: string; sub: string; aud?: string | string[]; exp?: Date }): Promise<string> {
    return new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: "test" })
        .setIssuer(claims.iss)
        .setSubject(claims.sub)
        .setAudience(claims.aud ?? [AUDIENCE])
        .setIssuedAt(Math.floor(NOW.getTime() / 1000) - 60)
        .setExpirationTime(Math.floor((claims.exp ?? new Date(NOW.getTime() + 3600_000)).getTime() / 1000))
        .sign(signingKey);
}

/** What the doctor reads from a token: the same decoding as the command. */
function presented(jwt: string): Presented {
    const claims = decodeJwt(jwt);
    return {
        issuer: claims.iss as string,
        subject: claims.sub as string,
        audiences: Array.isArray(claims.aud) ? claims.aud : [claims.aud as string],
        expiresAt: new Date((claims.exp as number) * 1000),
    };
}

describe("the doctor", () => {
    let prod: Declared[];
    let prodUnknownIssuers: Declared[];

    before(async () => {
        ({ privateKey: signingKey } = await generateKeyPair("RS256"));
        const trust = trustMap((await runCommittedStack("prod")).resources);
        prod = declaredCredentials(trust, { blue: BLUE, green: GREEN });
        prodUnknownIssuers = declaredCredentials(trust, {});
    });

    it("finds the credential that accepts a good token", async () => {
        const result = diagnose(presented(await token({ iss: GREEN, sub: "system:serviceaccount:orders:orders-api" })), prod, NOW);
        assert.deepEqual(result.findings, ["matches workload orders-api, credential fic-green (cluster green)."]);
        assert.equal(result.ok, true);
        assert.equal(result.verdict, "match");
        assert.equal(result.match?.workload, "orders-api");
    });

    it("spots an issuer that differs only by the trailing slash", async () => {
        const result = diagnose(presented(await token({ iss: BLUE.slice(0, -1), sub: "system:serviceaccount:payments:payments" })), prod, NOW);
        assert.deepEqual(result.findings, [`the issuer differs only by a trailing slash: the token says "${BLUE.slice(0, -1)}", the credentials trust "${BLUE}".`]);
        assert.equal(result.ok, false);
    });

    it("names the namespace that differs, with the closest declared subject", async () => {
        const result = diagnose(presented(await token({ iss: BLUE, sub: "system:serviceaccount:order:orders-api" })), prod, NOW);
        assert.deepEqual(result.findings, [
            'the pod runs with namespace "order" instead of "orders": the credential trusts "system:serviceaccount:orders:orders-api" (workload orders-api, credential fic-blue (cluster blue)).',
        ]);
    });

    it("names the ServiceAccount that differs", async () => {
        const result = diagnose(presented(await token({ iss: BLUE, sub: "system:serviceaccount:ingest:ingest" })), prod, NOW);
        assert.deepEqual(result.findings, [
            'the pod runs with ServiceAccount "ingest" instead of "ingest-chart": the credential trusts "system:serviceaccount:ingest:ingest-chart" (workload ingest, credential fic-blue (cluster blue)).',
        ]);
    });

    it("reports a wrong audience", async () => {
        const result = diagnose(presented(await token({ iss: GREEN, sub: "system:serviceaccount:payments:payments", aud: "https://kubernetes.default.svc" })), prod, NOW);
        assert.deepEqual(result.findings, [
            `the audience is wrong: the token is for ["https://kubernetes.default.svc"], workload payments, credential fic-green (cluster green) expects ["${AUDIENCE}"] (the webhook's projected token carries it; a token requested by hand may not).`,
        ]);
    });

    it("reports an expired token even when the credential matches", async () => {
        const expiry = new Date(NOW.getTime() - 60_000);
        const result = diagnose(presented(await token({ iss: BLUE, sub: "system:serviceaccount:orders:orders-api", exp: expiry })), prod, NOW);
        assert.deepEqual(result.findings, [
            "the token expired at 2026-11-30T11:59:00.000Z; projected tokens are refreshed by the kubelet, so read the file again instead of caching it.",
            "matches workload orders-api, credential fic-blue (cluster blue).",
        ]);
        assert.equal(result.ok, false);
        assert.equal(result.verdict, "no match");
    });

    it("says when the token's cluster is not federated for the workload", async () => {
        // A private cluster brings its subnet (network.vnetSubnetId), one each.
        const subnet = (name: string): string =>
            `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-dev/subnets/${name}`;
        const cluster = (name: string) => ({
            systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 1 },
            adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"],
            private: true,
            network: { vnetSubnetId: subnet(name) },
        });
        const run = await runStack({
            stack: "dev",
            config: flattenConfig({
                "azure-native:location": "westeurope",
                "aks-workload-identity:clusters": { a: cluster("aks-a"), b: cluster("aks-b") },
                "aks-workload-identity:workloads": { api: { namespace: "api", clusters: ["a"] }, web: { namespace: "web", clusters: ["b"] } },
            }),
        });
        const declared = declaredCredentials(trustMap(run.resources), { a: BLUE, b: GREEN });
        const result = diagnose(presented(await token({ iss: GREEN, sub: "system:serviceaccount:api:api" })), declared, NOW);
        assert.deepEqual(result.findings, [
            'the pod runs with namespace "api" instead of "web" and ServiceAccount "api" instead of "web": the credential trusts "system:serviceaccount:web:web" (workload web, credential fic-b (cluster b)).',
            "cluster b is not federated for workload api, whose ServiceAccount this is; it is federated with: a. Add b to its clusters.",
        ]);
    });

    it("checks the issuer's form and names the possible clusters when their URLs are not given", async () => {
        const result = diagnose(
            presented(await token({ iss: BLUE.slice(0, -1), sub: "system:serviceaccount:orders:orders-api" })),
            prodUnknownIssuers,
            NOW,
        );
        assert.deepEqual(result.findings, [
            `the issuer "${BLUE.slice(0, -1)}" lacks the trailing "/" that AKS issuers end with; copy it exactly from the cluster (pulumi stack output clusters).`,
            "the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters in westeurope federated for this subject: blue, green.",
        ]);
        // An AKS issuer always ends with "/", so this one is refused whatever the URLs are.
        assert.equal(result.verdict, "no match");
        const other = diagnose({ issuer: "https://issuer.example.com", subject: "x", audiences: [AUDIENCE] }, prodUnknownIssuers, NOW);
        assert.deepEqual(other.findings, [
            'the issuer "https://issuer.example.com" does not have the form of an AKS issuer (https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/) nor of any issuer the stack declares.',
        ]);
        assert.equal(other.verdict, "no match");
    });

    it("cannot tell without the cluster issuer when a cluster whose URL was not given could accept the token", async () => {
        const result = diagnose(presented(await token({ iss: BLUE, sub: "system:serviceaccount:orders:orders-api" })), prodUnknownIssuers, NOW);
        assert.deepEqual(result.findings, [
            "the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters in westeurope federated for this subject: blue, green.",
        ]);
        assert.equal(result.verdict, "cannot tell");
        assert.equal(result.ok, false);
        // Only green's URL unknown: a token that is not blue's could still be green's.
        const greenUnknown = declaredCredentials(trustMap((await runCommittedStack("prod")).resources), { blue: BLUE });
        const fromGreen = diagnose(presented(await token({ iss: GREEN, sub: "system:serviceaccount:orders:orders-api" })), greenUnknown, NOW);
        assert.deepEqual(fromGreen.findings, [
            "the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters in westeurope federated for this subject: green.",
        ]);
        assert.equal(fromGreen.verdict, "cannot tell");
    });

    it("says no match without the cluster issuers when no unknown cluster could accept the token", async () => {
        const wrongAudience = diagnose(
            presented(await token({ iss: BLUE, sub: "system:serviceaccount:orders:orders-api", aud: "https://kubernetes.default.svc" })),
            prodUnknownIssuers,
            NOW,
        );
        assert.equal(wrongAudience.verdict, "no match");
        assert.deepEqual(wrongAudience.findings, [
            `the audience is wrong: the token is for ["https://kubernetes.default.svc"], workload orders-api, credential fic-blue (cluster blue) expects ["${AUDIENCE}"] (the webhook's projected token carries it; a token requested by hand may not).`,
            `the audience is wrong: the token is for ["https://kubernetes.default.svc"], workload orders-api, credential fic-green (cluster green) expects ["${AUDIENCE}"] (the webhook's projected token carries it; a token requested by hand may not).`,
        ]);
        const unknownSubject = diagnose(presented(await token({ iss: BLUE, sub: "system:serviceaccount:orders:nobody" })), prodUnknownIssuers, NOW);
        assert.equal(unknownSubject.verdict, "no match");
        assert.deepEqual(unknownSubject.findings, ['no cluster in region westeurope is federated for subject "system:serviceaccount:orders:nobody".']);
        const expired = diagnose(
            presented(await token({ iss: BLUE, sub: "system:serviceaccount:orders:orders-api", exp: new Date(NOW.getTime() - 60_000) })),
            prodUnknownIssuers,
            NOW,
        );
        assert.equal(expired.verdict, "no match", "an expired token is refused whichever credential would match");
    });

    it("says a token from another cluster is not trusted at all", async () => {
        const stranger = `https://northeurope.oic.prod-aks.azure.com/${TENANT}/99999999-0000-4000-8000-000000000000/`;
        const result = diagnose(presented(await token({ iss: stranger, sub: "system:serviceaccount:orders:orders-api" })), prod, NOW);
        assert.deepEqual(result.findings, [`no credential trusts this issuer; the stack's clusters issue tokens as: blue ${BLUE}, green ${GREEN}. The token comes from another cluster.`]);
    });

    describe("the doctor command", () => {
        const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
        const doctor = path.join(ROOT, "tools", "doctor.ts");

        it("reads a token file and the deployed outputs, exits 0 on a match and never prints the token", async () => {
            const dir = mkdtempSync(path.join(tmpdir(), "doctor-"));
            const jwt = await token({ iss: BLUE, sub: "system:serviceaccount:orders:orders-api", exp: new Date(Date.now() + 3600_000) });
            writeFileSync(path.join(dir, "token"), `${jwt}\n`);
            writeFileSync(path.join(dir, "outputs.json"), JSON.stringify({ clusters: { blue: { oidcIssuerUrl: BLUE }, green: { oidcIssuerUrl: GREEN } } }));
            const result = spawnSync(tsx, [doctor, "--stack", "prod", "--token", `@${path.join(dir, "token")}`, "--outputs", path.join(dir, "outputs.json")], {
                cwd: ROOT,
                encoding: "utf8",
            });
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /\nOK: a federated credential accepts this token\.\n {2}- matches workload orders-api, credential fic-blue \(cluster blue\)\.\n$/);
            assert.equal(result.stdout.includes(jwt.split(".")[2]), false, "the signature is not printed");
            assert.equal(result.stdout.includes(jwt), false, "the token is not printed");
        });

        it("takes issuer and subject from an AADSTS message and exits 1 when nothing matches", () => {
            const result = spawnSync(
                tsx,
                [doctor, "--stack", "prod", "--cluster-issuer", `blue=${BLUE}`, "--cluster-issuer", `green=${GREEN}`, "--issuer", GREEN, "--subject", "system:serviceaccount:orders:order-api"],
                { cwd: ROOT, encoding: "utf8" },
            );
            assert.equal(result.status, 1);
            assert.match(result.stdout, /NO MATCH: Entra ID would refuse this token/);
            assert.match(result.stdout, /ServiceAccount "order-api" instead of "orders-api"/);
        });

        it("without the clusters' issuer URLs says it cannot tell, with exit code 3", () => {
            const result = spawnSync(tsx, [doctor, "--stack", "prod", "--issuer", BLUE, "--subject", "system:serviceaccount:orders:orders-api"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(result.status, 3, result.stderr);
            assert.equal(
                result.stdout,
                [
                    `Token: iss ${BLUE}`,
                    "       sub system:serviceaccount:orders:orders-api",
                    `       aud ${AUDIENCE}`,
                    "",
                    "CANNOT TELL without the cluster issuer: only a cluster whose issuer URL was not given could accept this token; pass --outputs FILE or --cluster-issuer KEY=URL.",
                    "  - the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters in westeurope federated for this subject: blue, green.",
                    "",
                ].join("\n"),
            );
        });

        it("prints the problems of an invalid config with exit code 4, apart from NO MATCH's 1", () => {
            const result = spawnSync(
                tsx,
                [doctor, "--config", path.join(ROOT, "test", "catalog", "bad-stack.yaml"), "--stack", "dev", "--issuer", BLUE, "--subject", "system:serviceaccount:orders:orders-api"],
                { cwd: ROOT, encoding: "utf8" },
            );
            assert.equal(result.status, 4);
            assert.match(result.stderr, /^Invalid stack config \(1 problem\); nothing was created:\n/);
            assert.equal(result.stdout, "");
        });

        it("refuses a missing token with exit code 2", () => {
            const result = spawnSync(tsx, [doctor, "--stack", "prod"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(result.status, 2);
            assert.match(result.stderr, /^Give --token, or --issuer and --subject\./);
        });
    });
});

describe("the doctor and identity bindings", () => {
    const BINDING_AUDIENCE = "api://AKSIdentityBinding";
    const A = placeholderIssuerUrl("westeurope", "aks-a");
    const B = placeholderIssuerUrl("westeurope", "aks-b");
    const C = placeholderIssuerUrl("westeurope", "aks-c");
    let resources: readonly RecordedResource[];

    /**
     * Clusters a, b, c; workload api binds to a and b (ServiceAccounts api/api and tenant-a/api),
     * web is classic on c, jobs is half-way (binding and its classic FIC) on c.
     */
    before(async () => {
        ({ privateKey: signingKey } = await generateKeyPair("RS256"));
        const run = await runStack({
            stack: "code",
            program: () => {
                const clusters = Object.fromEntries(
                    ["a", "b", "c"].map((key) => [
                        key,
                        new WorkloadIdentityCluster(key, {
                            resourceGroupName: "rg-code",
                            location: "westeurope",
                            clusterName: `aks-${key}`,
                            systemPool: { vmSize: "Standard_D2ds_v5", minCount: 1, maxCount: 2 },
                            adminGroupObjectIds: ["11111111-1111-1111-1111-111111111111"],
                            authorizedIpRanges: ["203.0.113.0/24"],
                        }),
                    ]),
                );
                const target = (key: string, namespace: string) => ({ ...clusters[key].bindWorkload(namespace), clusterResourceGroupName: "rg-code", clusterName: clusters[key].name });
                new WorkloadIdentity("api", {
                    resourceGroupName: "rg-code",
                    namespace: "api",
                    identityBinding: true,
                    serviceAccounts: [{ namespace: "api", name: "api" }, { namespace: "tenant-a", name: "api" }],
                    clusters: { a: target("a", "api"), b: target("b", "api") },
                });
                new WorkloadIdentity("web", { resourceGroupName: "rg-code", namespace: "web", clusters: { c: target("c", "web") } });
                new WorkloadIdentity("jobs", { resourceGroupName: "rg-code", namespace: "jobs", identityBinding: true, keepClassicCredentials: true, clusters: { c: target("c", "jobs") } });
            },
        });
        resources = run.resources;
    });

    const check = async (claims: { iss: string; sub: string; aud?: string }, issuers: Record<string, string> = { a: A, b: B, c: C }) =>
        diagnose(presented(await token({ aud: BINDING_AUDIENCE, ...claims })), declaredCredentials(trustMap(resources), issuers), NOW, declaredBindings(resources, issuers));

    it("reads the bindings and the ServiceAccounts their RBAC allows from the graph", () => {
        const expected = (cluster: string, issuer: string | undefined): DeclaredBinding => ({
            workload: "api",
            cluster,
            name: "api",
            serviceAccounts: [{ namespace: "api", name: "api" }, { namespace: "tenant-a", name: "api" }],
            issuer,
        });
        assert.deepEqual(declaredBindings(resources, { a: A }), [
            expected("a", A),
            expected("b", undefined),
            { workload: "jobs", cluster: "c", name: "jobs", serviceAccounts: [{ namespace: "jobs", name: "jobs" }], issuer: undefined },
        ]);
    });

    it("accepts a binding token of an allowed ServiceAccount from a bound cluster, and says what Entra ID sees", async () => {
        const result = await check({ iss: B, sub: "system:serviceaccount:tenant-a:api" });
        assert.equal(result.verdict, "match");
        assert.equal(result.ok, true);
        assert.equal(result.headline, "OK: the AKS identity binding proxy accepts this token (the cluster has a binding for the identity, and RBAC lets the ServiceAccount use it).");
        assert.deepEqual(result.findings, [
            "the identity binding proxy of cluster b exchanges it for the identity of workload api (binding api; RBAC lets tenant-a/api use it). Entra ID sees the binding's own issuer and AKS's credential aks-identity-binding, not this token; the application must send it through the proxy (token proxy enabled on WorkloadIdentityCredential).",
        ]);
    });

    it("refuses a ServiceAccount the RBAC does not allow, and a cluster without the binding", async () => {
        const notAllowed = await check({ iss: A, sub: "system:serviceaccount:tenant-b:api" });
        assert.equal(notAllowed.verdict, "no match");
        assert.deepEqual(notAllowed.findings, [
            'no identity binding of this stack lets ServiceAccount tenant-b/api use its identity (the subjects of its ClusterRoleBinding): workload api allows api/api, tenant-a/api on clusters a, b; workload jobs allows jobs/jobs on clusters c. Add { namespace: "tenant-b", name: "api" } to the workload\'s serviceAccounts, or run the pod as one of those.',
        ]);
        const otherCluster = await check({ iss: C, sub: "system:serviceaccount:api:api" });
        assert.equal(otherCluster.verdict, "no match");
        assert.deepEqual(otherCluster.findings, [
            `the token comes from a cluster where no identity binding of this stack lets api/api use an identity; the bindings that allow it are on: a ${A}, b ${B}. Add the token's cluster to the workload's clusters.`,
        ]);
    });

    it("cannot tell which cluster issued a binding token without the clusters' issuer URLs", async () => {
        const result = await check({ iss: A, sub: "system:serviceaccount:api:api" }, {});
        assert.equal(result.verdict, "cannot tell");
        assert.equal(result.headline, undefined, "the usual line: pass the cluster issuers");
        assert.deepEqual(result.findings, [
            "the clusters' issuer URLs are known only after deployment: pass --outputs or --cluster-issuer to compare. Clusters whose identity bindings let api/api use an identity: a, b.",
        ]);
    });

    it("says a token for Entra ID from a binding-mode workload bypasses the proxy, whatever the issuers", async () => {
        for (const issuers of [{ a: A, b: B, c: C }, {}] as Record<string, string>[]) {
            const result = await check({ iss: A, sub: "system:serviceaccount:api:api", aud: AUDIENCE }, issuers);
            assert.equal(result.verdict, "no match");
            assert.deepEqual(result.findings, [
                `workload api uses identity bindings on clusters a, b, without a federated credential for those clusters' issuers, so Entra ID refuses this token for ["${AUDIENCE}"]: its pods must carry the annotation azure.workload.identity/use-identity-binding: "true" (the webhook then projects a token for api://AKSIdentityBinding and the proxy variables) and the application must enable the token proxy on WorkloadIdentityCredential.`,
            ]);
        }
        const classic = await check({ iss: C, sub: "system:serviceaccount:web:web", aud: AUDIENCE });
        assert.deepEqual(classic.findings, ["matches workload web, credential fic-c (cluster c)."], "a classic workload beside it is unaffected");
        // While keepClassicCredentials keeps the FIC, a token for Entra ID still works.
        const halfway = await check({ iss: C, sub: "system:serviceaccount:jobs:jobs", aud: AUDIENCE });
        assert.deepEqual(halfway.findings, ["matches workload jobs, credential fic-c (cluster c)."]);
        const halfwayUnknown = await check({ iss: C, sub: "system:serviceaccount:jobs:jobs", aud: AUDIENCE }, {});
        assert.equal(halfwayUnknown.verdict, "cannot tell", "its classic FIC could still accept it");
    });

    it("explains a token whose issuer is an identity binding's: AKS's own credential accepts it", async () => {
        const issuer = `https://ib.oic.prod-aks.azure.com/${PLACEHOLDER_TENANT_ID}/${placeholderClientId("api")}`;
        const result = await check({ iss: issuer, sub: "7d3c2f9e-5b1a-4c8d-9e2f-1a3b5c7d9e0f", aud: AUDIENCE });
        assert.equal(result.verdict, "cannot tell");
        assert.equal(result.headline, "CANNOT TELL offline: the federated credential that accepts this token is AKS's own (aks-identity-binding), not the stack's; check it as below.");
        assert.deepEqual(result.findings, [
            `the issuer "${issuer}" is the one AKS keeps for the identity bindings of managed identity ${placeholderClientId("api")} (tenant ${PLACEHOLDER_TENANT_ID}): the AKS proxy presents such tokens to Entra ID, which accepts them through the federated credential aks-identity-binding that AKS created on the identity. The stack does not declare that credential (AKS owns it), so it cannot be checked offline.`,
            "Check that it exists and names this issuer: az identity federated-credential show --name aks-identity-binding --identity-name <identity> --resource-group <group>; and that the cluster has the binding: az aks identity-binding list --cluster-name <cluster> --resource-group <group>. Identity bindings of this stack: workload api allows api/api, tenant-a/api on clusters a, b; workload jobs allows jobs/jobs on clusters c.",
        ]);
    });

    it("refuses a binding token when no workload of the stack uses bindings", async () => {
        const result = diagnose(presented(await token({ iss: C, sub: "system:serviceaccount:web:web", aud: BINDING_AUDIENCE })), [], NOW, []);
        assert.equal(result.verdict, "no match");
        assert.deepEqual(result.findings, [
            'the token\'s audience is api://AKSIdentityBinding: the webhook projects it for pods annotated azure.workload.identity/use-identity-binding: "true", for the AKS identity binding proxy, but no workload of this stack uses identity bindings, so no proxy has a binding to exchange it with. Remove the annotation from the pod, or set identityBinding: true on the workload.',
        ]);
    });
});
