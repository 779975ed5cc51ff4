import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
// The runner installs the mocks before it loads a program; the readiness module registers nothing on import.
import { PROJECT_ROOT, placeholderUserKubeconfig, runStack, type RecordedResource } from "../testing/mock-runner";
import { isSecretValue, unwrapSecret } from "../testing/graph";
import { toKubeloginKubeconfig } from "../components/kubeconfig";
import {
    accessReviewBody,
    describeTokenPrincipal,
    execTokenGetter,
    formatDuration,
    kubeconfigTokenGetter,
    readKubeconfig,
    waitForKubernetesAccess,
    type Clock,
    type ExecCredentialPlugin,
} from "../components/rbac-readiness";

const run = promisify(execFile);

const OID = "11111111-2222-3333-4444-555555555555";
const PRINCIPAL = `principal ${OID} (deployer@contoso.example)`;
/** A JWT-shaped token (unsigned: the API server is fake) whose claims name the principal. */
const TOKEN = [
    Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url"),
    Buffer.from(JSON.stringify({ oid: OID, upn: "deployer@contoso.example", aud: "6dae42f8-4368-4678-94ff-3960e28e3630" })).toString("base64url"),
    "c2lnbmF0dXJl",
].join(".");

const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const RECOVERY =
    'Azure RBAC for Kubernetes can take up to five minutes to apply a new role assignment: check that this principal holds "Azure Kubernetes Service RBAC Cluster Admin" on the cluster (clusterAdmins) or another role that allows this, then run pulumi up again.';

interface RecordedRequest {
    readonly method: string;
    readonly url: string;
    readonly authorization: string | undefined;
    readonly contentType: string | undefined;
    readonly body: string;
}

interface Answer {
    readonly status: number;
    readonly body?: unknown;
}

const review = (allowed: boolean, reason?: string): Answer => ({
    status: 201,
    body: { kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1", status: reason === undefined ? { allowed } : { allowed, reason } },
});
const forbidden: Answer = { status: 403, body: { kind: "Status", status: "Failure", reason: "Forbidden", code: 403 } };

/** A fake API server over HTTPS: answers each request with the next scripted answer (the last one repeats). */
class FakeApiServer {
    public readonly requests: RecordedRequest[] = [];
    private answers: Answer[] = [];
    private readonly server: https.Server;

    constructor(tls: { key: string; cert: string }) {
        this.server = https.createServer(tls, (request, response) => {
            const chunks: Buffer[] = [];
            request.on("data", (chunk: Buffer) => chunks.push(chunk));
            request.on("end", () => {
                this.requests.push({
                    method: request.method ?? "",
                    url: request.url ?? "",
                    authorization: request.headers.authorization,
                    contentType: request.headers["content-type"],
                    body: Buffer.concat(chunks).toString("utf8"),
                });
                const answer = this.answers.length > 1 ? (this.answers.shift() as Answer) : this.answers[0];
                response.writeHead(answer.status, { "Content-Type": "application/json" });
                response.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
            });
        });
    }

    public script(...answers: Answer[]): void {
        this.answers = answers;
        this.requests.length = 0;
    }

    public async listen(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    public close(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

/** A clock whose sleeps return at once and move time forward. */
function fakeClock(): Clock & { sleeps: number[] } {
    let now = 1_000_000;
    const sleeps: number[] = [];
    return {
        sleeps,
        now: () => now,
        sleep: (ms) => {
            sleeps.push(ms);
            now += ms;
            return Promise.resolve();
        },
    };
}

function recordingTokenGetter(): { getToken: (forceRefresh: boolean) => Promise<string>; calls: boolean[] } {
    const calls: boolean[] = [];
    return {
        calls,
        getToken: (forceRefresh) => {
            calls.push(forceRefresh);
            return Promise.resolve(TOKEN);
        },
    };
}

const ssarBody = (namespace: string): string =>
    JSON.stringify({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb: "create", group: "", resource: "serviceaccounts", namespace } },
    });

let tmp: string;
let tls: { key: string; cert: string };
let api: FakeApiServer;
let server: string;

before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rbac-readiness-"));
    // A self-signed certificate for 127.0.0.1: the tests pin it as the kubeconfig's CA.
    execFileSync(
        "openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=fake-apiserver", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", path.join(tmp, "key.pem"), "-out", path.join(tmp, "cert.pem"),
        ],
        { stdio: "ignore" },
    );
    tls = { key: fs.readFileSync(path.join(tmp, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(tmp, "cert.pem"), "utf8") };
    api = new FakeApiServer(tls);
    server = await api.listen();
});

after(async () => {
    await api.close();
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("waitForKubernetesAccess", () => {
    it("asks until RBAC allows: 403, 403, allowed: false, then allowed: true", async () => {
        api.script(forbidden, forbidden, review(false, "no RBAC policy matched"), review(true));
        const clock = fakeClock();
        const tokens = recordingTokenGetter();
        const progress: string[] = [];
        const result = await waitForKubernetesAccess({
            server,
            caData: tls.cert,
            getToken: tokens.getToken,
            checks: [{ verb: "create", resource: "serviceaccounts", namespace: "apps" }],
            clock,
            onProgress: (message) => progress.push(message),
        });

        assert.deepEqual(result, { attempts: 4, reviews: 4, elapsedMs: 35_000, principal: PRINCIPAL });
        assert.equal(api.requests.length, 4, "one review per attempt");
        for (const request of api.requests) {
            assert.deepEqual(request, { method: "POST", url: SSAR_PATH, authorization: `Bearer ${TOKEN}`, contentType: "application/json", body: ssarBody("apps") });
        }
        assert.deepEqual(clock.sleeps, [5_000, 10_000, 20_000], "5 s, then doubling");
        assert.deepEqual(tokens.calls, [false, false, false, false], "no forced refresh without a 401");
        assert.deepEqual(progress, [
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "apps" on ${server} (attempt 1: HTTP 403 Forbidden); checking again in 5s, giving up after 10m.`,
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "apps" on ${server} (attempt 2: HTTP 403 Forbidden); checking again in 10s, giving up after 10m.`,
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "apps" on ${server} (attempt 3: allowed: false (no RBAC policy matched)); checking again in 20s, giving up after 10m.`,
            `Kubernetes RBAC ready: ${PRINCIPAL} may create serviceaccounts in namespace "apps" on ${server} (attempt 4, after 35s).`,
        ]);
        assert.equal(
            progress.some((message) => message.includes(TOKEN) || message.includes(TOKEN.split(".")[1])),
            false,
            "no message carries the token",
        );
    });

    it("refreshes the token after a 401 and does not ask again for a namespace already allowed", async () => {
        api.script({ status: 401 }, review(true), review(false), review(true));
        const clock = fakeClock();
        const tokens = recordingTokenGetter();
        const progress: string[] = [];
        const result = await waitForKubernetesAccess({
            server: `${server}/`,
            caData: tls.cert,
            getToken: tokens.getToken,
            checks: [
                { verb: "create", resource: "serviceaccounts", namespace: "a" },
                { verb: "create", resource: "serviceaccounts", namespace: "b" },
            ],
            clock,
            onProgress: (message) => progress.push(message),
        });

        assert.deepEqual(result, { attempts: 3, reviews: 4, elapsedMs: 15_000, principal: PRINCIPAL });
        assert.deepEqual(
            api.requests.map((request) => [request.url, request.body]),
            [
                [SSAR_PATH, ssarBody("a")],
                [SSAR_PATH, ssarBody("a")],
                [SSAR_PATH, ssarBody("b")],
                [SSAR_PATH, ssarBody("b")],
            ],
        );
        assert.deepEqual(tokens.calls, [false, true, false], "the attempt after the 401 forces a new token");
        assert.deepEqual(progress, [
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "a" on ${server}/ (attempt 1: HTTP 401 Unauthorized); checking again in 5s, giving up after 10m.`,
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "b" on ${server}/ (attempt 2: allowed: false); checking again in 10s, giving up after 10m.`,
            `Kubernetes RBAC ready: ${PRINCIPAL} may create serviceaccounts in namespaces "a" and "b" on ${server}/ (attempt 3, after 15s).`,
        ]);
    });

    it("gives up at the bound with an error naming the principal, the check, the server and the timeout", async () => {
        api.script(review(false, "no RBAC policy matched"));
        const clock = fakeClock();
        const progress: string[] = [];
        await assert.rejects(
            waitForKubernetesAccess({
                server,
                caData: tls.cert,
                getToken: recordingTokenGetter().getToken,
                checks: [{ verb: "create", resource: "serviceaccounts", namespace: "apps" }],
                timeoutMs: 60_000,
                clock,
                onProgress: (message) => progress.push(message),
            }),
            {
                message:
                    `Kubernetes RBAC was not ready after 1m: ${PRINCIPAL} still may not create serviceaccounts in namespace "apps" on ${server} ` +
                    `(attempt 5: allowed: false (no RBAC policy matched)). ${RECOVERY}`,
            },
        );
        assert.equal(api.requests.length, 5, "attempts at 0, 5, 15, 35 and 60 s");
        assert.deepEqual(clock.sleeps, [5_000, 10_000, 20_000, 25_000], "the last wait is cut to the bound");
        assert.equal(progress.length, 4);
        assert.equal(
            progress[3],
            `Kubernetes RBAC not ready yet: ${PRINCIPAL} may not create serviceaccounts in namespace "apps" on ${server} (attempt 4: allowed: false (no RBAC policy matched)); checking again in 25s, giving up after 1m.`,
        );
    });

    it("treats a connection error as not yet, up to the bound", async () => {
        const closed = new FakeApiServer(tls);
        const closedServer = await closed.listen();
        await closed.close();
        const clock = fakeClock();
        await assert.rejects(
            waitForKubernetesAccess({
                server: closedServer,
                caData: tls.cert,
                getToken: recordingTokenGetter().getToken,
                checks: [{ verb: "create", resource: "namespaces" }],
                principal: "the pipeline identity",
                timeoutMs: 10_000,
                clock,
            }),
            {
                message:
                    `Kubernetes RBAC was not ready after 10s: the pipeline identity still may not create namespaces in every namespace on ${closedServer} ` +
                    `(attempt 3: cannot reach the API server: ECONNREFUSED). ${RECOVERY}`,
            },
        );
        assert.deepEqual(clock.sleeps, [5_000, 5_000]);
    });

    it("fails at once on another status, with the API server's message", async () => {
        api.script({ status: 500, body: { kind: "Status", message: "etcdserver: request timed out" } });
        const clock = fakeClock();
        await assert.rejects(
            waitForKubernetesAccess({
                server,
                caData: tls.cert,
                getToken: recordingTokenGetter().getToken,
                checks: [{ verb: "create", resource: "deployments", group: "apps", namespace: "apps" }],
                clock,
            }),
            {
                message: `The Kubernetes API server ${server} answered the access review (may create deployments.apps in namespace "apps") with HTTP 500 Internal Server Error: etcdserver: request timed out`,
            },
        );
        assert.equal(api.requests.length, 1);
        assert.deepEqual(clock.sleeps, []);
    });

    it("fails at once when the server's certificate does not verify against the kubeconfig's CA", async () => {
        api.script(review(true));
        await assert.rejects(
            waitForKubernetesAccess({
                server,
                getToken: recordingTokenGetter().getToken,
                checks: [{ verb: "create", resource: "serviceaccounts", namespace: "apps" }],
                clock: fakeClock(),
            }),
            {
                message: `The Kubernetes API server ${server} presented a certificate that does not verify (DEPTH_ZERO_SELF_SIGNED_CERT): check the kubeconfig's certificate-authority-data.`,
            },
        );
        assert.equal(api.requests.length, 0, "no request reached the server");
    });

    it("refuses a server that is not https and an empty list of checks", async () => {
        const options = { getToken: recordingTokenGetter().getToken, clock: fakeClock() };
        await assert.rejects(
            waitForKubernetesAccess({ ...options, server: "http://127.0.0.1:8080", checks: [{ verb: "create", resource: "serviceaccounts" }] }),
            { message: 'The Kubernetes API server URL must start with https://, got "http://127.0.0.1:8080".' },
        );
        await assert.rejects(waitForKubernetesAccess({ ...options, server, checks: [] }), {
            message: "waitForKubernetesAccess needs at least one access check.",
        });
    });
});

describe("the pieces of a message", () => {
    it("formats durations", () => {
        assert.deepEqual([0, 499, 500, 5_000, 59_000, 60_000, 90_000, 600_000].map(formatDuration), ["0s", "0s", "1s", "5s", "59s", "1m", "1m30s", "10m"]);
    });

    it("names the principal from the token's claims, never the token", () => {
        const jwt = (claims: Record<string, string>): string => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
        assert.equal(describeTokenPrincipal(TOKEN), PRINCIPAL);
        assert.equal(describeTokenPrincipal(jwt({ oid: "o-1", appid: "app-1" })), "principal o-1 (application app-1)");
        assert.equal(describeTokenPrincipal(jwt({ oid: "o-1", azp: "app-2" })), "principal o-1 (application app-2)");
        assert.equal(describeTokenPrincipal(jwt({ sub: "s-1" })), "principal s-1");
        assert.equal(describeTokenPrincipal(jwt({ aud: "x" })), undefined);
        assert.equal(describeTokenPrincipal("not-a-jwt"), undefined);
        assert.equal(describeTokenPrincipal("a.!!!.c"), undefined);
    });

    it("builds the review body, with no namespace for every namespace", () => {
        assert.deepEqual(accessReviewBody({ verb: "create", resource: "namespaces" }), {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: { verb: "create", group: "", resource: "namespaces" } },
        });
    });
});

/** A fake credential plugin: logs how it was run, then prints what FAKE_PLUGIN_MODE asks for. */
const PLUGIN_SCRIPT = `
const fs = require("node:fs");
fs.appendFileSync(process.env.FAKE_PLUGIN_LOG, JSON.stringify({
    argv: process.argv.slice(2),
    fromKubeconfig: process.env.FAKE_FROM_KUBECONFIG,
    fromBase: process.env.FAKE_FROM_BASE,
    execInfo: JSON.parse(process.env.KUBERNETES_EXEC_INFO),
}) + "\\n");
const mode = process.env.FAKE_PLUGIN_MODE || "token";
const credential = (status, apiVersion) => JSON.stringify({ kind: "ExecCredential", apiVersion: apiVersion || "client.authentication.k8s.io/v1beta1", spec: { interactive: false }, status });
if (mode === "token") {
    process.stdout.write(credential({ token: process.env.FAKE_TOKEN, expirationTimestamp: process.env.FAKE_EXPIRES }));
} else if (mode === "fail") {
    process.stderr.write("AADSTS70043: The refresh token has expired due to inactivity.\\n");
    process.exit(3);
} else if (mode === "garbage") {
    process.stdout.write("token=" + process.env.FAKE_TOKEN);
} else if (mode === "wrong-version") {
    process.stdout.write(credential({ token: process.env.FAKE_TOKEN }, "client.authentication.k8s.io/v1"));
} else if (mode === "no-token") {
    process.stdout.write(credential({ clientCertificateData: "x", clientKeyData: "y" }));
}
`;

interface PluginRun {
    readonly argv: string[];
    readonly fromKubeconfig: string | undefined;
    readonly fromBase: string | undefined;
    readonly execInfo: unknown;
}

describe("the kubeconfig's exec credential plugin", () => {
    let script: string;
    let log: string;
    const runs = (): PluginRun[] =>
        fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as PluginRun) : [];

    before(() => {
        script = path.join(tmp, "fake-kubelogin.cjs");
        fs.writeFileSync(script, PLUGIN_SCRIPT);
        log = path.join(tmp, "plugin-runs.jsonl");
    });

    /** A kubeconfig like the one this project writes, with the fake plugin as its exec command. */
    function kubeconfig(mode: string, extra: Record<string, unknown> = {}): string {
        return stringify({
            apiVersion: "v1",
            kind: "Config",
            "current-context": "aks-main-dev",
            clusters: [{ name: "aks-main-dev", cluster: { server, "certificate-authority-data": Buffer.from(tls.cert).toString("base64") } }],
            contexts: [{ name: "aks-main-dev", context: { cluster: "aks-main-dev", user: "clusterUser_aks-main-dev" } }],
            users: [
                {
                    name: "clusterUser_aks-main-dev",
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: process.execPath,
                            args: [script, "get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
                            env: [
                                { name: "FAKE_PLUGIN_LOG", value: log },
                                { name: "FAKE_PLUGIN_MODE", value: mode },
                                { name: "FAKE_FROM_KUBECONFIG", value: "from the kubeconfig" },
                            ],
                            installHint: "kubelogin is not installed.",
                            interactiveMode: "IfAvailable",
                            provideClusterInfo: false,
                            ...extra,
                        },
                    },
                },
            ],
        });
    }

    const baseEnv = { PATH: process.env.PATH, FAKE_FROM_BASE: "from the process", FAKE_TOKEN: TOKEN };

    it("reads the current context's server, CA and exec plugin", () => {
        const endpoint = readKubeconfig(kubeconfig("token"));
        assert.deepEqual(endpoint, {
            contextName: "aks-main-dev",
            userName: "clusterUser_aks-main-dev",
            server,
            caData: tls.cert,
            tlsServerName: undefined,
            token: undefined,
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: process.execPath,
                args: [script, "get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
                env: [
                    { name: "FAKE_PLUGIN_LOG", value: log },
                    { name: "FAKE_PLUGIN_MODE", value: "token" },
                    { name: "FAKE_FROM_KUBECONFIG", value: "from the kubeconfig" },
                ],
                installHint: "kubelogin is not installed.",
                provideClusterInfo: false,
            },
        });
    });

    it("reads the kubelogin kubeconfig this project writes", () => {
        const endpoint = readKubeconfig(toKubeloginKubeconfig(placeholderUserKubeconfig("aks-main-dev")));
        assert.deepEqual(endpoint, {
            contextName: "aks-main-dev",
            userName: "clusterUser_aks-main-dev",
            server: "https://aks-main-dev-placeholder.hcp.westeurope.azmk8s.io:443",
            caData: "PLACEHOLDER",
            tlsServerName: undefined,
            token: undefined,
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "kubelogin",
                args: [
                    "get-token",
                    "--login",
                    "azurecli",
                    "--server-id",
                    "6dae42f8-4368-4678-94ff-3960e28e3630",
                    "--environment",
                    "AzurePublicCloud",
                    "--tenant-id",
                    "00000000-0000-0000-0000-00000000feed",
                ],
                env: [],
                installHint:
                    "kubelogin is not installed. It is required to authenticate to an AKS cluster with Entra ID: https://azure.github.io/kubelogin/install.html",
                provideClusterInfo: false,
            },
        });
    });

    it("runs the plugin with its args and env, reads status.token, and caches it until a forced refresh", async () => {
        fs.rmSync(log, { force: true });
        const getToken = kubeconfigTokenGetter(readKubeconfig(kubeconfig("token")), { baseEnv });
        assert.equal(await getToken(false), TOKEN);
        assert.equal(await getToken(false), TOKEN);
        assert.equal(runs().length, 1, "a token without expirationTimestamp is cached");
        assert.equal(await getToken(true), TOKEN);
        const recorded = runs();
        assert.equal(recorded.length, 2, "forceRefresh runs the plugin again");
        assert.deepEqual(recorded[0], {
            argv: ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
            fromKubeconfig: "from the kubeconfig",
            fromBase: "from the process",
            execInfo: { apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", spec: { interactive: false } },
        });
    });

    it("fetches a new token a minute before its expirationTimestamp", async () => {
        fs.rmSync(log, { force: true });
        let now = Date.parse("2026-07-01T10:00:00Z");
        const getToken = kubeconfigTokenGetter(readKubeconfig(kubeconfig("token")), {
            baseEnv: { ...baseEnv, FAKE_EXPIRES: "2026-07-01T10:05:00Z" },
            now: () => now,
        });
        await getToken(false);
        now = Date.parse("2026-07-01T10:03:59Z");
        await getToken(false);
        assert.equal(runs().length, 1, "still cached at 4 minutes");
        now = Date.parse("2026-07-01T10:04:00Z");
        await getToken(false);
        assert.equal(runs().length, 2, "fetched again one minute before expiry");
    });

    it("hands the cluster to the plugin when the kubeconfig sets provideClusterInfo", async () => {
        fs.rmSync(log, { force: true });
        await kubeconfigTokenGetter(readKubeconfig(kubeconfig("token", { provideClusterInfo: true })), { baseEnv })(false);
        assert.deepEqual(runs()[0].execInfo, {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            kind: "ExecCredential",
            spec: { interactive: false, cluster: { server, "certificate-authority-data": Buffer.from(tls.cert).toString("base64") } },
        });
    });

    it("reports a failing plugin with its exit code and stderr, never its stdout", async () => {
        const label = `The kubeconfig's credential plugin "${process.execPath}"`;
        const cases: [string, string][] = [
            ["fail", `${label} exited with code 3: AADSTS70043: The refresh token has expired due to inactivity.`],
            ["garbage", `${label} printed no ExecCredential JSON on stdout.`],
            [
                "wrong-version",
                `${label} printed kind "ExecCredential" apiVersion "client.authentication.k8s.io/v1"; expected kind "ExecCredential" apiVersion "client.authentication.k8s.io/v1beta1".`,
            ],
            ["no-token", `${label} returned no status.token (a client certificate is not supported by the readiness check).`],
        ];
        for (const [mode, message] of cases) {
            await assert.rejects(kubeconfigTokenGetter(readKubeconfig(kubeconfig(mode)), { baseEnv })(false), { message }, mode);
        }
    });

    it("names the install hint when the plugin is not installed", async () => {
        const plugin: ExecCredentialPlugin = {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "kubelogin-not-installed-here",
            args: ["get-token"],
            env: [],
            installHint: "kubelogin is not installed.",
            provideClusterInfo: false,
        };
        await assert.rejects(execTokenGetter(plugin, { baseEnv })(false), {
            message: 'The kubeconfig\'s credential plugin "kubelogin-not-installed-here" was not found. kubelogin is not installed.',
        });
    });

    it("uses a static token, and explains a kubeconfig it cannot use without quoting it", () => {
        const base = {
            "current-context": "c",
            clusters: [{ name: "k", cluster: { server: "https://k:443" } }],
            contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
        };
        const endpoint = readKubeconfig(stringify({ ...base, users: [{ name: "u", user: { token: "static-token" } }] }));
        assert.equal(endpoint.token, "static-token");
        assert.equal(endpoint.caData, undefined);
        const cases: [unknown, string][] = [
            ["- just a list", "The kubeconfig is not a YAML mapping."],
            [{ ...base, "current-context": "other", users: [] }, 'The kubeconfig\'s current-context "other" is not among its contexts.'],
            [{ ...base, "current-context": undefined, contexts: [], users: [] }, "The kubeconfig has no current-context and 0 contexts; set current-context."],
            [{ ...base, clusters: [], users: [] }, 'The kubeconfig\'s context "c" names no cluster that the kubeconfig defines.'],
            [{ ...base, users: [] }, 'The kubeconfig\'s context "c" names no user that the kubeconfig defines.'],
            [{ ...base, users: [{ name: "u", user: {} }] }, 'The kubeconfig\'s user "u" has neither a token nor an exec credential plugin.'],
            [
                { ...base, clusters: [{ name: "k", cluster: { server: "https://k:443", "insecure-skip-tls-verify": true } }], users: [{ name: "u", user: { token: "t" } }] },
                'The kubeconfig\'s cluster "k" sets insecure-skip-tls-verify; the readiness check verifies the API server\'s certificate.',
            ],
            [
                { ...base, users: [{ name: "u", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "kubelogin", env: [{ name: "A" }] } } }] },
                'The kubeconfig\'s user "u" has an exec env that is not a list of { name, value } strings.',
            ],
        ];
        for (const [document, message] of cases) {
            assert.throws(() => readKubeconfig(typeof document === "string" ? document : stringify(document)), { message });
        }
    });
});

describe("KubernetesRbacReadiness (the Pulumi resource)", () => {
    const TYPE = "pulumi-nodejs:dynamic/aks-workload-identity:KubernetesRbacReadiness";
    const KUBECONFIG = toKubeloginKubeconfig(placeholderUserKubeconfig("aks-main-dev"));

    async function register(preview: boolean): Promise<RecordedResource[]> {
        const result = await runStack({
            stack: "dev",
            preview,
            program: async () => {
                const pulumi = await import("@pulumi/pulumi");
                const { KubernetesRbacReadiness } = await import("../components/rbac-readiness-provider");
                new KubernetesRbacReadiness("main-rbac-ready", {
                    kubeconfig: pulumi.secret(KUBECONFIG),
                    namespaces: ["apps", "orders"],
                    triggers: ["/subscriptions/x/roleAssignments/1"],
                });
                // A plain kubeconfig is made a secret too.
                new KubernetesRbacReadiness("plain-rbac-ready", { kubeconfig: KUBECONFIG });
                return {};
            },
        });
        return result.resources.filter((resource) => resource.type === TYPE);
    }

    for (const preview of [false, true]) {
        it(`registers with its type and a secret kubeconfig (${preview ? "preview" : "update"})`, async () => {
            const registered = await register(preview);
            assert.deepEqual(registered.map((resource) => resource.name).sort(), ["main-rbac-ready", "plain-rbac-ready"]);
            const main = registered.find((resource) => resource.name === "main-rbac-ready") as RecordedResource;
            const plain = registered.find((resource) => resource.name === "plain-rbac-ready") as RecordedResource;
            assert.equal(main.custom, true);
            assert.ok(isSecretValue(main.inputs.kubeconfig), "the kubeconfig input is a secret");
            assert.equal(unwrapSecret(main.inputs.kubeconfig), KUBECONFIG);
            const serialized = main.inputs.__provider;
            const rest = Object.fromEntries(Object.entries(main.inputs).filter(([key]) => key !== "kubeconfig" && key !== "__provider"));
            assert.deepEqual(rest, {
                namespaces: ["apps", "orders"],
                verb: "create",
                resource: "serviceaccounts",
                group: "",
                timeoutSeconds: 600,
                triggers: ["/subscriptions/x/roleAssignments/1"],
            });
            assert.equal(typeof serialized, "string", "the serialized provider captured no secret");
            assert.equal((serialized as string).includes("clusterUser_aks-main-dev"), false, "the provider code holds no kubeconfig");
            assert.ok(isSecretValue(plain.inputs.kubeconfig), "a plain kubeconfig is registered as a secret");
            assert.deepEqual(plain.inputs.namespaces, []);
        });
    }
});

describe("the serialized dynamic provider", () => {
    /**
     * Runs the `__provider` text Pulumi stored, in a plain Node.js process in the project directory
     * as `pulumi-resource-pulumi-nodejs` does (require-from-string, then `handler()`), and calls
     * create and diff on it against the fake API server with the fake credential plugin.
     */
    async function runSerialized(serialized: string): Promise<string[]> {
        const script = path.join(tmp, "fake-kubelogin.cjs");
        fs.writeFileSync(script, PLUGIN_SCRIPT);
        const kubeconfig = stringify({
            apiVersion: "v1",
            "current-context": "c",
            clusters: [{ name: "k", cluster: { server, "certificate-authority-data": Buffer.from(tls.cert).toString("base64") } }],
            contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
            users: [
                {
                    name: "u",
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: process.execPath,
                            args: [script],
                            env: [
                                { name: "FAKE_PLUGIN_LOG", value: path.join(tmp, "serialized-runs.jsonl") },
                                { name: "FAKE_TOKEN", value: TOKEN },
                            ],
                        },
                    },
                },
            ],
        });
        const providerFile = path.join(tmp, "provider.js");
        fs.writeFileSync(providerFile, serialized);
        const inputs = { kubeconfig, namespaces: ["apps"], verb: "create", resource: "serviceaccounts", group: "", timeoutSeconds: 60, triggers: [] };
        const driver = `
            const provider = require("require-from-string")(require("node:fs").readFileSync(${JSON.stringify(providerFile)}, "utf8")).handler();
            const inputs = ${JSON.stringify(inputs)};
            (async () => {
                const created = await provider.create(inputs);
                console.log(JSON.stringify(created));
                console.log(JSON.stringify(await provider.diff(created.id, created.outs, inputs)));
                console.log(JSON.stringify(await provider.diff(created.id, created.outs, { ...inputs, namespaces: ["apps", "web"] })));
            })().catch((error) => { console.error(error.message); process.exit(1); });
        `;
        api.script(review(true));
        const { stdout } = await run(process.execPath, ["-e", driver], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH } });
        return stdout.trim().split("\n");
    }

    async function checkSerialized(serialized: string): Promise<void> {
        const [progress, created, unchanged, changed] = await runSerialized(serialized);
        // Real time passes here (a process, a TLS handshake): only the elapsed seconds may vary.
        assert.match(progress, /\(attempt 1, after \d+s\)\.$/);
        assert.equal(
            progress.replace(/after \d+s/, "after Ns"),
            `Kubernetes RBAC ready: ${PRINCIPAL} may create serviceaccounts in namespace "apps" on ${server} (attempt 1, after Ns).`,
        );
        const result = JSON.parse(created) as { id: string; outs: Record<string, unknown> };
        assert.match(String(result.outs.kubeconfigSha256), /^[0-9a-f]{64}$/);
        assert.equal(result.id, String(result.outs.kubeconfigSha256).slice(0, 16));
        assert.deepEqual(result.outs, {
            kubeconfigSha256: result.outs.kubeconfigSha256,
            namespaces: ["apps"],
            verb: "create",
            resource: "serviceaccounts",
            group: "",
            timeoutSeconds: 60,
            triggers: [],
        });
        assert.equal(created.includes("apiVersion"), false, "the outputs hold no kubeconfig");
        assert.deepEqual(JSON.parse(unchanged), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(JSON.parse(changed), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.equal(api.requests.length, 1);
        assert.equal(api.requests[0].authorization, `Bearer ${TOKEN}`);
    }

    it("works outside the program, as serialized under tsx", async () => {
        const result = await runStack({
            stack: "dev",
            program: async () => {
                const { KubernetesRbacReadiness } = await import("../components/rbac-readiness-provider");
                new KubernetesRbacReadiness("main-rbac-ready", { kubeconfig: "apiVersion: v1\n" });
                return {};
            },
        });
        const resource = result.resources.find((candidate) => candidate.name === "main-rbac-ready");
        await checkSerialized(String(resource?.inputs.__provider));
    });

    it("works outside the program, as serialized under the Pulumi host's ts-node (bench/host.cjs)", async () => {
        const program = path.join(tmp, "program.cjs");
        fs.writeFileSync(
            program,
            `module.exports = () => {
                const { KubernetesRbacReadiness } = require(${JSON.stringify(path.join(PROJECT_ROOT, "components", "rbac-readiness-provider"))});
                new KubernetesRbacReadiness("main-rbac-ready", { kubeconfig: "apiVersion: v1\\n" });
                return {};
            };`,
        );
        const graph = path.join(tmp, "graph.json");
        await run(process.execPath, ["bench/host.cjs", "tsconfig.pulumi.json", "testing/mock-runner.ts", program, "Pulumi.dev.yaml"], {
            cwd: PROJECT_ROOT,
            // Without the test runner's NODE_OPTIONS: only the host's ts-node compiles the TypeScript.
            env: { ...process.env, NODE_OPTIONS: undefined, BENCH_DUMP_GRAPH: graph },
        });
        const resources = JSON.parse(fs.readFileSync(graph, "utf8")) as RecordedResource[];
        const resource = resources.find((candidate) => candidate.name === "main-rbac-ready");
        const serialized = String(resource?.inputs.__provider);
        assert.match(serialized, /^exports\.handler = __f0;/);
        assert.match(serialized, /__rbac_readiness_1\.waitForKubernetesAccess = /, "TypeScript's CommonJS output (rbac_readiness_1), not esbuild's");
        await checkSerialized(serialized);
    });
});
