import type * as ChildProcess from "node:child_process";
import type * as Crypto from "node:crypto";
import type * as Https from "node:https";
import type * as Yaml from "yaml";

/**
 * Waits until Kubernetes RBAC lets the deploying principal in.
 *
 * Azure RBAC for Kubernetes applies a new role assignment ("Azure Kubernetes Service RBAC Cluster
 * Admin" from `clusterAdmins`) only after a propagation delay of up to five minutes, and the
 * Kubernetes provider does not retry a 403: pulumi-kubernetes `provider/pkg/await/await.go`
 * (`Creation`) retries the create call only for `apierrors.IsNotFound` and `meta.IsNoMatchError`
 * (`retrier.Do(apierrors.IsNotFound, meta.IsNoMatchError)`, `provider/pkg/retry/retry.go`: 5
 * retries from 1 s, doubling), so a Forbidden fails the resource at once. This module asks the API
 * server a SelfSubjectAccessReview until the answer is `allowed: true`, bounded, and reports each
 * attempt.
 *
 * Everything here is plain functions over plain data with no Pulumi import: the dynamic provider in
 * `rbac-readiness-provider.ts` runs these functions after Pulumi's closure serializer copied them
 * into its state, so modules are required inside the functions (`load`), never captured.
 */

interface Modules {
    "node:child_process": typeof ChildProcess;
    "node:crypto": typeof Crypto;
    "node:https": typeof Https;
    yaml: typeof Yaml;
}

/**
 * Requires a module where it is used. Pulumi's closure serializer leaves a `require` call inside a
 * function as it is (`parseFunction.js` never captures `require`), whereas a module object captured
 * from this file's scope would be serialized by value or by a path relative to the program.
 */
function load<K extends keyof Modules>(name: K): Modules[K] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as Modules[K];
}

/** One question to the API server: may the caller `verb` `resource` (of API `group`) in `namespace`? */
export interface AccessCheck {
    /** The verb, e.g. `create`. */
    readonly verb: string;
    /** The resource, plural and lower case, e.g. `serviceaccounts`. */
    readonly resource: string;
    /** The API group. Default: "" - the core group. */
    readonly group?: string;
    /** The namespace. Default: none: the question is about every namespace (or a cluster-scoped resource). */
    readonly namespace?: string;
}

/** Time, injectable so that tests run the backoff without waiting. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** Returns a bearer token for the API server; `forceRefresh` after the server answered 401. */
export type TokenGetter = (forceRefresh: boolean) => Promise<string>;

export interface WaitForKubernetesAccessOptions {
    /** The API server URL, `https://...` (the kubeconfig cluster's `server`). */
    readonly server: string;
    /** PEM of the CA that signed the API server's certificate. Default: the system's CAs. */
    readonly caData?: string;
    /** The TLS server name to verify. Default: the host of `server`. */
    readonly tlsServerName?: string;
    /** The caller's token; called once per attempt (cache inside it). */
    readonly getToken: TokenGetter;
    /** What must be allowed; all of them, checked in order. */
    readonly checks: readonly AccessCheck[];
    /** Who the caller is, for the messages. Default: from the token's `oid` and `upn` claims. */
    readonly principal?: string;
    /** How long to keep asking. Default: 600000 (10 minutes; Azure documents up to 5 minutes). */
    readonly timeoutMs?: number;
    /** The first wait between attempts; it doubles after each. Default: 5000. */
    readonly initialIntervalMs?: number;
    /** The longest wait between attempts. Default: 30000. */
    readonly maxIntervalMs?: number;
    /** How long one HTTPS request may take. Default: 30000. */
    readonly requestTimeoutMs?: number;
    /** Default: systemClock. */
    readonly clock?: Clock;
    /** Called with one line per attempt that is not yet allowed and one when all are. Default: silent. */
    readonly onProgress?: (message: string) => void;
}

export interface KubernetesAccessResult {
    /** How many attempts it took (1 when access was there at once). */
    readonly attempts: number;
    /** How many SelfSubjectAccessReviews were posted. */
    readonly reviews: number;
    readonly elapsedMs: number;
    /** The principal as the messages named it. */
    readonly principal: string;
}

export const DEFAULT_ACCESS_TIMEOUT_MS = 600_000;
export const DEFAULT_INITIAL_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_INTERVAL_MS = 30_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/** A duration as the messages print it: `45s`, `1m30s`, `10m`. */
export function formatDuration(ms: number): string {
    const seconds = Math.round(Math.max(0, ms) / 1000);
    if (seconds < 60) {
        return `${seconds}s`;
    }
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}

function resourceName(check: AccessCheck): string {
    return check.group ? `${check.resource}.${check.group}` : check.resource;
}

/** `create serviceaccounts in namespace "apps"`, `create namespaces in every namespace`. */
export function describeCheck(check: AccessCheck): string {
    const where = check.namespace === undefined ? "in every namespace" : `in namespace "${check.namespace}"`;
    return `${check.verb} ${resourceName(check)} ${where}`;
}

function quotedList(values: readonly string[]): string {
    const quoted = values.map((value) => `"${value}"`);
    return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}

/** All checks in one phrase: `create serviceaccounts in namespaces "a" and "b"`. */
export function describeChecks(checks: readonly AccessCheck[]): string {
    const first = checks[0];
    const sameQuestion = checks.every((check) => check.verb === first.verb && resourceName(check) === resourceName(first) && check.namespace !== undefined);
    if (checks.length > 1 && sameQuestion) {
        return `${first.verb} ${resourceName(first)} in namespaces ${quotedList(checks.map((check) => check.namespace as string))}`;
    }
    return checks.map(describeCheck).join(", ");
}

/**
 * Who a bearer token belongs to, from its unverified JWT claims (only to name the principal in a
 * message; the token itself is never printed): `principal <oid> (<upn>)`, `principal <oid>
 * (application <appid>)`, or undefined when the token is not a JWT with an `oid` or `sub`.
 */
export function describeTokenPrincipal(token: string): string | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) {
        return undefined;
    }
    let claims: Record<string, unknown>;
    try {
        claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
        return undefined;
    }
    const text = (key: string): string | undefined => (typeof claims[key] === "string" && claims[key] !== "" ? claims[key] : undefined);
    const id = text("oid") ?? text("sub");
    if (id === undefined) {
        return undefined;
    }
    const name = text("upn") ?? text("preferred_username") ?? text("unique_name");
    const application = text("appid") ?? text("azp");
    if (name !== undefined) {
        return `principal ${id} (${name})`;
    }
    return application !== undefined ? `principal ${id} (application ${application})` : `principal ${id}`;
}

interface HttpAnswer {
    readonly status: number;
    readonly statusText: string;
    readonly body: string;
}

/** POSTs JSON over HTTPS; rejects only when no HTTP answer came (connection, TLS, timeout). */
function postJson(
    url: string,
    options: { caData?: string; tlsServerName?: string; token: string; timeoutMs: number },
    body: string,
): Promise<HttpAnswer> {
    const https = load("node:https");
    return new Promise<HttpAnswer>((resolve, reject) => {
        const request = https.request(
            url,
            {
                method: "POST",
                ca: options.caData,
                servername: options.tlsServerName,
                timeout: options.timeoutMs,
                headers: {
                    Authorization: `Bearer ${options.token}`,
                    "Content-Type": "application/json",
                    Accept: "application/json",
                    "Content-Length": Buffer.byteLength(body),
                    "User-Agent": "aks-workload-identity/rbac-readiness",
                },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", body: Buffer.concat(chunks).toString("utf8") }),
                );
                response.on("error", reject);
            },
        );
        request.on("timeout", () => request.destroy(Object.assign(new Error(`no answer within ${formatDuration(options.timeoutMs)}`), { code: "ETIMEDOUT" })));
        request.on("error", reject);
        request.end(body);
    });
}

/** The exact body POSTed for a check. */
export function accessReviewBody(check: AccessCheck): Record<string, unknown> {
    const resourceAttributes: Record<string, string> = { verb: check.verb, group: check.group ?? "", resource: check.resource };
    if (check.namespace !== undefined) {
        resourceAttributes.namespace = check.namespace;
    }
    return { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes } };
}

type ReviewOutcome = { readonly allowed: true } | { readonly allowed: false; readonly detail: string; readonly unauthorized: boolean };

/**
 * Statuses that mean "not yet": 401 and 403 of the review itself (a brand-new principal or
 * cluster), 429 and 503 (the API server asks to come back: priority and fairness, a control plane
 * still starting). Anything else but 201/200 is an error at once. (An array, not a Set: Pulumi's
 * closure serializer copies a Set's methods but not its members.)
 */
const NOT_YET_STATUSES: readonly number[] = [401, 403, 429, 503];

/** Node's TLS verification error codes (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...). */
function isCertificateError(code: string): boolean {
    return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

function statusMessage(body: string): string | undefined {
    try {
        const parsed = JSON.parse(body) as { message?: unknown };
        return typeof parsed.message === "string" && parsed.message !== "" ? parsed.message.slice(0, 500) : undefined;
    } catch {
        return undefined;
    }
}

async function reviewAccess(
    options: WaitForKubernetesAccessOptions,
    token: string,
    check: AccessCheck,
): Promise<ReviewOutcome> {
    const url = `${options.server.replace(/\/+$/, "")}${SSAR_PATH}`;
    let answer: HttpAnswer;
    try {
        answer = await postJson(
            url,
            { caData: options.caData, tlsServerName: options.tlsServerName, token, timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS },
            JSON.stringify(accessReviewBody(check)),
        );
    } catch (error) {
        const code = (error as { code?: unknown }).code;
        const reason = typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
        if (isCertificateError(reason)) {
            // Waiting does not make a wrong CA right.
            throw new Error(
                `The Kubernetes API server ${options.server} presented a certificate that does not verify (${reason}): check the kubeconfig's certificate-authority-data.`,
                { cause: error },
            );
        }
        return { allowed: false, detail: `cannot reach the API server: ${reason}`, unauthorized: false };
    }
    if (NOT_YET_STATUSES.includes(answer.status)) {
        return { allowed: false, detail: `HTTP ${answer.status} ${answer.statusText}`.trimEnd(), unauthorized: answer.status === 401 };
    }
    if (answer.status !== 201 && answer.status !== 200) {
        const message = statusMessage(answer.body);
        throw new Error(
            `The Kubernetes API server ${options.server} answered the access review (may ${describeCheck(check)}) with HTTP ${answer.status} ${answer.statusText}` +
                (message === undefined ? "." : `: ${message}`),
        );
    }
    let status: { allowed?: unknown; reason?: unknown; evaluationError?: unknown } | undefined;
    try {
        status = (JSON.parse(answer.body) as { status?: typeof status }).status;
    } catch {
        status = undefined;
    }
    if (status === undefined || typeof status.allowed !== "boolean") {
        throw new Error(`The Kubernetes API server ${options.server} answered the access review (may ${describeCheck(check)}) without status.allowed.`);
    }
    if (status.allowed) {
        return { allowed: true };
    }
    const reasons = [status.reason, status.evaluationError].filter((value): value is string => typeof value === "string" && value !== "");
    return { allowed: false, detail: `allowed: false${reasons.length > 0 ? ` (${reasons.join("; ")})` : ""}`, unauthorized: false };
}

/**
 * Posts a SelfSubjectAccessReview for each check until every one answers `allowed: true`, waiting
 * `initialIntervalMs`, then twice as long each time up to `maxIntervalMs`, for at most `timeoutMs`.
 * 401/403/429/503, `allowed: false` and connection errors are "not yet"; any other answer, a
 * certificate that does not verify, and a failing token getter end the wait with that error.
 * Giving up throws an error naming the principal, the check, the server and the timeout.
 */
export async function waitForKubernetesAccess(options: WaitForKubernetesAccessOptions): Promise<KubernetesAccessResult> {
    if (options.checks.length === 0) {
        throw new Error("waitForKubernetesAccess needs at least one access check.");
    }
    if (!/^https:\/\//i.test(options.server)) {
        throw new Error(`The Kubernetes API server URL must start with https://, got "${options.server}".`);
    }
    const clock = options.clock ?? systemClock;
    const timeoutMs = options.timeoutMs ?? DEFAULT_ACCESS_TIMEOUT_MS;
    const maxIntervalMs = options.maxIntervalMs ?? DEFAULT_MAX_INTERVAL_MS;
    const progress = options.onProgress ?? (() => undefined);
    const started = clock.now();
    const deadline = started + timeoutMs;
    let intervalMs = options.initialIntervalMs ?? DEFAULT_INITIAL_INTERVAL_MS;
    let pending = [...options.checks];
    let principal = options.principal;
    let forceRefresh = false;
    let reviews = 0;
    for (let attempt = 1; ; attempt++) {
        const token = await options.getToken(forceRefresh);
        principal ??= describeTokenPrincipal(token) ?? "the kubeconfig user";
        forceRefresh = false;
        let denied: { check: AccessCheck; detail: string } | undefined;
        while (pending.length > 0) {
            reviews++;
            const outcome = await reviewAccess(options, token, pending[0]);
            if (outcome.allowed) {
                pending = pending.slice(1);
                continue;
            }
            denied = { check: pending[0], detail: outcome.detail };
            forceRefresh = outcome.unauthorized;
            break;
        }
        if (denied === undefined) {
            const elapsedMs = clock.now() - started;
            progress(
                `Kubernetes RBAC ready: ${principal} may ${describeChecks(options.checks)} on ${options.server} (attempt ${attempt}, after ${formatDuration(elapsedMs)}).`,
            );
            return { attempts: attempt, reviews, elapsedMs, principal };
        }
        const remainingMs = deadline - clock.now();
        if (remainingMs <= 0) {
            throw new Error(
                `Kubernetes RBAC was not ready after ${formatDuration(timeoutMs)}: ${principal} still may not ${describeCheck(denied.check)} on ${options.server} ` +
                    `(attempt ${attempt}: ${denied.detail}). Azure RBAC for Kubernetes can take up to five minutes to apply a new role assignment: ` +
                    `check that this principal holds "Azure Kubernetes Service RBAC Cluster Admin" on the cluster (clusterAdmins) or another role that allows this, then run pulumi up again.`,
            );
        }
        const waitMs = Math.min(intervalMs, remainingMs);
        progress(
            `Kubernetes RBAC not ready yet: ${principal} may not ${describeCheck(denied.check)} on ${options.server} ` +
                `(attempt ${attempt}: ${denied.detail}); checking again in ${formatDuration(waitMs)}, giving up after ${formatDuration(timeoutMs)}.`,
        );
        await clock.sleep(waitMs);
        intervalMs = Math.min(intervalMs * 2, maxIntervalMs);
    }
}

// ---------------------------------------------------------------------------------------------
// The kubeconfig and its exec credential plugin
// ---------------------------------------------------------------------------------------------

/** A kubeconfig user's `exec` section (client.authentication.k8s.io). */
export interface ExecCredentialPlugin {
    readonly apiVersion: string;
    readonly command: string;
    readonly args: readonly string[];
    readonly env: readonly { readonly name: string; readonly value: string }[];
    readonly installHint?: string;
    readonly provideClusterInfo: boolean;
}

/** What the current context of a kubeconfig points at. */
export interface KubeconfigEndpoint {
    readonly contextName: string;
    readonly userName: string;
    readonly server: string;
    /** PEM from `certificate-authority-data`. Default: none: the system's CAs. */
    readonly caData?: string;
    readonly tlsServerName?: string;
    /** A static bearer token (`user.token`). */
    readonly token?: string;
    /** The credential plugin (`user.exec`), as AKS and kubelogin write it. */
    readonly exec?: ExecCredentialPlugin;
}

interface NamedEntry {
    name?: unknown;
    cluster?: Record<string, unknown>;
    context?: Record<string, unknown>;
    user?: Record<string, unknown>;
}

function entries(document: Record<string, unknown>, key: string): NamedEntry[] {
    const value = document[key];
    return Array.isArray(value) ? (value.filter((entry) => typeof entry === "object" && entry !== null) as NamedEntry[]) : [];
}

/**
 * Reads the current context's cluster and user from a kubeconfig. Error messages name the
 * context, cluster or user and what is missing, never a value from the document.
 */
export function readKubeconfig(kubeconfigYaml: string): KubeconfigEndpoint {
    let document: unknown;
    try {
        document = load("yaml").parse(kubeconfigYaml);
    } catch {
        throw new Error("The kubeconfig is not valid YAML.");
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
        throw new Error("The kubeconfig is not a YAML mapping.");
    }
    const config = document as Record<string, unknown>;
    const contexts = entries(config, "contexts");
    const current = typeof config["current-context"] === "string" && config["current-context"] !== "" ? config["current-context"] : undefined;
    const context = current !== undefined ? contexts.find((entry) => entry.name === current) : contexts.length === 1 ? contexts[0] : undefined;
    if (context === undefined) {
        throw new Error(
            current !== undefined
                ? `The kubeconfig's current-context "${current}" is not among its contexts.`
                : `The kubeconfig has no current-context and ${contexts.length} contexts; set current-context.`,
        );
    }
    const contextName = String(context.name);
    const clusterName = context.context?.cluster;
    const userName = context.context?.user;
    const cluster = entries(config, "clusters").find((entry) => entry.name === clusterName)?.cluster;
    if (typeof clusterName !== "string" || cluster === undefined) {
        throw new Error(`The kubeconfig's context "${contextName}" names no cluster that the kubeconfig defines.`);
    }
    const user = entries(config, "users").find((entry) => entry.name === userName)?.user;
    if (typeof userName !== "string" || user === undefined) {
        throw new Error(`The kubeconfig's context "${contextName}" names no user that the kubeconfig defines.`);
    }
    const server = cluster.server;
    if (typeof server !== "string" || server === "") {
        throw new Error(`The kubeconfig's cluster "${clusterName}" has no server.`);
    }
    if (cluster["insecure-skip-tls-verify"] === true) {
        throw new Error(`The kubeconfig's cluster "${clusterName}" sets insecure-skip-tls-verify; the readiness check verifies the API server's certificate.`);
    }
    const caBase64 = cluster["certificate-authority-data"];
    if (caBase64 === undefined && cluster["certificate-authority"] !== undefined) {
        throw new Error(`The kubeconfig's cluster "${clusterName}" names a certificate-authority file; the readiness check reads only certificate-authority-data.`);
    }
    const caData = typeof caBase64 === "string" && caBase64 !== "" ? Buffer.from(caBase64, "base64").toString("utf8") : undefined;
    const tlsServerName = typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined;
    const token = typeof user.token === "string" && user.token !== "" ? user.token : undefined;
    const exec = user.exec === undefined || user.exec === null ? undefined : readExec(user.exec, userName);
    if (token === undefined && exec === undefined) {
        throw new Error(`The kubeconfig's user "${userName}" has neither a token nor an exec credential plugin.`);
    }
    return { contextName, userName, server, caData, tlsServerName, token, exec };
}

function readExec(value: unknown, userName: string): ExecCredentialPlugin {
    const exec = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    if (typeof exec.command !== "string" || exec.command === "") {
        throw new Error(`The kubeconfig's user "${userName}" has an exec section without a command.`);
    }
    if (typeof exec.apiVersion !== "string" || exec.apiVersion === "") {
        throw new Error(`The kubeconfig's user "${userName}" has an exec section without an apiVersion.`);
    }
    const args = exec.args === undefined || exec.args === null ? [] : exec.args;
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
        throw new Error(`The kubeconfig's user "${userName}" has exec args that are not a list of strings.`);
    }
    const env = exec.env === undefined || exec.env === null ? [] : exec.env;
    if (!Array.isArray(env) || !env.every((entry) => typeof (entry as { name?: unknown })?.name === "string" && typeof (entry as { value?: unknown }).value === "string")) {
        throw new Error(`The kubeconfig's user "${userName}" has an exec env that is not a list of { name, value } strings.`);
    }
    return {
        apiVersion: exec.apiVersion,
        command: exec.command,
        args,
        env: env as { name: string; value: string }[],
        installHint: typeof exec.installHint === "string" ? exec.installHint : undefined,
        provideClusterInfo: exec.provideClusterInfo === true,
    };
}

export interface ExecTokenOptions {
    /** The environment the plugin inherits, before the kubeconfig's `env`. Default: process.env. */
    readonly baseEnv?: Readonly<Record<string, string | undefined>>;
    /** How long the plugin may run. Default: 120000. */
    readonly timeoutMs?: number;
    /** Default: Date.now. */
    readonly now?: () => number;
    /** The cluster, handed to the plugin in KUBERNETES_EXEC_INFO when the kubeconfig sets provideClusterInfo. */
    readonly cluster?: { readonly server: string; readonly caData?: string; readonly tlsServerName?: string };
}

interface CachedToken {
    readonly token: string;
    /** Epoch ms after which the token is fetched again; undefined: until the server answers 401. */
    readonly refreshAt: number | undefined;
}

/** A token is fetched again this long before the expirationTimestamp the plugin gave. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * A token getter that runs the kubeconfig user's exec credential plugin (kubelogin `get-token`) as
 * client-go does (kubernetes/client-go `plugin/pkg/client/auth/exec/exec.go`): the process
 * environment plus the exec `env`, `KUBERNETES_EXEC_INFO` with the ExecCredential request
 * (`interactive: false`, the cluster when `provideClusterInfo`), no stdin, and the token read
 * from the ExecCredential JSON on stdout, whose apiVersion must match. The token is cached until
 * one minute before its `expirationTimestamp` (without one, until `forceRefresh`). Errors name the
 * command and exit code and carry the plugin's stderr, never its stdout (the token).
 */
export function execTokenGetter(plugin: ExecCredentialPlugin, options: ExecTokenOptions = {}): TokenGetter {
    const now = options.now ?? (() => Date.now());
    let cached: CachedToken | undefined;
    return async (forceRefresh) => {
        if (cached !== undefined && !forceRefresh && (cached.refreshAt === undefined || now() < cached.refreshAt)) {
            return cached.token;
        }
        cached = await runExecPlugin(plugin, options);
        return cached.token;
    };
}

function runExecPlugin(plugin: ExecCredentialPlugin, options: ExecTokenOptions): Promise<CachedToken> {
    const childProcess = load("node:child_process");
    const request: Record<string, unknown> = { apiVersion: plugin.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
    if (plugin.provideClusterInfo && options.cluster !== undefined) {
        const cluster: Record<string, string> = { server: options.cluster.server };
        if (options.cluster.caData !== undefined) {
            cluster["certificate-authority-data"] = Buffer.from(options.cluster.caData, "utf8").toString("base64");
        }
        if (options.cluster.tlsServerName !== undefined) {
            cluster["tls-server-name"] = options.cluster.tlsServerName;
        }
        (request.spec as Record<string, unknown>).cluster = cluster;
    }
    const env: Record<string, string | undefined> = { ...(options.baseEnv ?? process.env) };
    for (const entry of plugin.env) {
        env[entry.name] = entry.value;
    }
    env.KUBERNETES_EXEC_INFO = JSON.stringify(request);
    const timeoutMs = options.timeoutMs ?? 120_000;
    const label = `The kubeconfig's credential plugin "${plugin.command}"`;
    return new Promise<CachedToken>((resolve, reject) => {
        const child = childProcess.spawn(plugin.command, [...plugin.args], { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, windowsHide: true });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", (error: NodeJS.ErrnoException) => {
            if (error.code === "ENOENT") {
                reject(new Error(`${label} was not found.${plugin.installHint ? ` ${plugin.installHint}` : ""}`));
            } else {
                reject(new Error(`${label} could not be run: ${error.message}`));
            }
        });
        child.on("close", (code, signal) => {
            const errorText = Buffer.concat(stderr).toString("utf8").trim().slice(-2000);
            const stderrPart = errorText === "" ? "" : `: ${errorText}`;
            if (signal !== null) {
                reject(new Error(`${label} was stopped by ${signal}${signal === "SIGTERM" ? ` (timeout ${formatDuration(timeoutMs)})` : ""}${stderrPart}`));
                return;
            }
            if (code !== 0) {
                reject(new Error(`${label} exited with code ${code}${stderrPart}`));
                return;
            }
            let credential: { apiVersion?: unknown; kind?: unknown; status?: { token?: unknown; expirationTimestamp?: unknown } };
            try {
                credential = JSON.parse(Buffer.concat(stdout).toString("utf8")) as typeof credential;
            } catch {
                reject(new Error(`${label} printed no ExecCredential JSON on stdout.`));
                return;
            }
            if (credential.kind !== "ExecCredential" || credential.apiVersion !== plugin.apiVersion) {
                reject(
                    new Error(
                        `${label} printed kind ${JSON.stringify(credential.kind)} apiVersion ${JSON.stringify(credential.apiVersion)}; expected kind "ExecCredential" apiVersion "${plugin.apiVersion}".`,
                    ),
                );
                return;
            }
            const token = credential.status?.token;
            if (typeof token !== "string" || token === "") {
                reject(new Error(`${label} returned no status.token (a client certificate is not supported by the readiness check).`));
                return;
            }
            const expiration = credential.status?.expirationTimestamp;
            const expiresAt = typeof expiration === "string" ? Date.parse(expiration) : Number.NaN;
            resolve({ token, refreshAt: Number.isNaN(expiresAt) ? undefined : expiresAt - EXPIRY_MARGIN_MS });
        });
    });
}

/** The token getter for a kubeconfig's user: its static token, or its exec credential plugin. */
export function kubeconfigTokenGetter(endpoint: KubeconfigEndpoint, options: ExecTokenOptions = {}): TokenGetter {
    if (endpoint.token !== undefined) {
        const token = endpoint.token;
        return () => Promise.resolve(token);
    }
    if (endpoint.exec === undefined) {
        throw new Error(`The kubeconfig's user "${endpoint.userName}" has neither a token nor an exec credential plugin.`);
    }
    return execTokenGetter(endpoint.exec, { cluster: { server: endpoint.server, caData: endpoint.caData, tlsServerName: endpoint.tlsServerName }, ...options });
}

/** SHA-256 of a text, hex: how the readiness resource notices a changed kubeconfig without storing it. */
export function sha256Hex(text: string): string {
    return load("node:crypto").createHash("sha256").update(text, "utf8").digest("hex");
}
