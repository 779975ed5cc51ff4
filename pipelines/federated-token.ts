import { spawn } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

/**
 * Runs one command of a pipeline job (`pulumi preview`, `pulumi up`) with a federated token that
 * stays fresh for the command's whole run, so that no credential it uses expires mid-deploy
 * (issue 11, defect 8). The job's OIDC endpoint issues tokens of a few minutes' lifetime; every
 * tool that exchanges one for an Entra ID token has to come back for a new one later:
 *
 * - azure-native and azuread request one themselves, GitHub-style: GET ACTIONS_ID_TOKEN_REQUEST_URL
 *   with `audience`, bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, answer `{"value": ...}`
 *   (pulumi-azure-native provider/pkg/provider/auth_azidentity.go, getOidcTokenExchangeAssertion;
 *   it reads ARM_OIDC_TOKEN and ARM_OIDC_TOKEN_FILE_PATH once, so neither may be set);
 * - kubelogin's `workloadidentity` mode does the same request when those two variables are set
 *   (Azure/kubelogin v0.2.19 pkg/internal/token/provider.go, GithubActionsCredential), and otherwise
 *   reads AZURE_FEDERATED_TOKEN_FILE at every `get-token`;
 * - the Pulumi CLI's azblob state backend and azurekeyvault secrets provider use the Azure SDK's
 *   DefaultAzureCredential (gocloud.dev blob/azureblob NewDefaultClient, secrets/azurekeyvault
 *   DefaultClientMaker), whose WorkloadIdentityCredential re-reads AZURE_FEDERATED_TOKEN_FILE when
 *   it needs a new token (azidentity workload_identity.go, getAssertion).
 *
 * So this keeps AZURE_FEDERATED_TOKEN_FILE fresh (rewritten every `--interval` seconds), and with
 * `--serve` (Azure Pipelines, whose endpoint is a POST that the providers cannot call) answers the
 * GitHub-style request on 127.0.0.1 with a fresh token from the job's endpoint. On GitHub Actions
 * the providers and kubelogin call GitHub's endpoint directly.
 */

export const USAGE = `Usage: tsx pipelines/federated-token.ts [--serve] [--interval SECONDS] -- COMMAND [ARGS...]

Runs COMMAND with AZURE_FEDERATED_TOKEN_FILE pointing to a federated token for Entra ID that is
fetched from the job's OIDC endpoint and rewritten every --interval seconds (default 60) until
COMMAND ends, so that no tool's credential expires during a long pulumi up.

  GitHub Actions   the job needs permissions: id-token: write (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN)
  Azure Pipelines  run inside AzureCLI@2 with a workload identity federation service connection
                   (AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) and map SYSTEM_ACCESSTOKEN: $(System.AccessToken)

  --serve          also answer GitHub-style token requests on 127.0.0.1 and point COMMAND's
                   ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN there; COMMAND gets no SYSTEM_ACCESSTOKEN
  --interval N     seconds between refreshes of the token file (1-240, default 60)
  --help           show this text

Exit codes: COMMAND's exit code (128 + signal number if it was killed), 1 the first token could
not be fetched (COMMAND is not started), 2 usage, 127 COMMAND could not be started.`;

/** The audience Entra ID expects in a federated token (the bootstrap's FICs use it). */
export const AUDIENCE = "api://AzureADTokenExchange";

/** How to ask the job's OIDC endpoint for a token. */
export interface TokenRequest {
    readonly source: "github-actions" | "azure-pipelines";
    readonly url: string;
    readonly method: "GET" | "POST";
    readonly headers: Readonly<Record<string, string>>;
    /** The field of the JSON answer that holds the token. */
    readonly field: "value" | "oidcToken";
}

/** A problem the job's configuration causes; its message is one line for the log. */
export class TokenError extends Error {
    override readonly name = "TokenError";
}

/**
 * The token request of the CI system this runs in. GitHub Actions: GET with the audience
 * (docs.github.com "about security hardening with OpenID Connect", updating your actions for OIDC).
 * Azure Pipelines: POST `$SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=<id>` with the
 * job's access token, answering `{"oidcToken": ...}` (the "oidctoken" REST call; azidentity
 * AzurePipelinesCredential does the same); AzureCLI@2 exports the connection's ID as
 * AZURESUBSCRIPTION_SERVICE_CONNECTION_ID (azure-pipelines-tasks Tasks/AzureCLIV2/azureclitask.ts).
 */
export function tokenRequest(env: NodeJS.ProcessEnv): TokenRequest {
    const githubUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const githubToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (githubUrl && githubToken) {
        const url = new URL(githubUrl);
        url.searchParams.set("audience", AUDIENCE);
        return { source: "github-actions", url: url.toString(), method: "GET", headers: { Authorization: `bearer ${githubToken}`, Accept: "application/json" }, field: "value" };
    }
    const adoUrl = env.SYSTEM_OIDCREQUESTURI;
    if (adoUrl) {
        const missing = ["SYSTEM_ACCESSTOKEN", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"].filter((name) => !env[name]);
        if (missing.length > 0) {
            throw new TokenError(
                `Azure Pipelines: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set: run this inside an AzureCLI@2 task on a workload identity federation service connection, with env SYSTEM_ACCESSTOKEN: $(System.AccessToken).`,
            );
        }
        const url = new URL(adoUrl);
        url.searchParams.set("api-version", "7.1");
        url.searchParams.set("serviceConnectionId", env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID as string);
        return {
            source: "azure-pipelines",
            url: url.toString(),
            method: "POST",
            headers: { Authorization: `Bearer ${env.SYSTEM_ACCESSTOKEN as string}`, "Content-Type": "application/json", Accept: "application/json" },
            field: "oidcToken",
        };
    }
    throw new TokenError(
        "No OIDC token endpoint in this job: on GitHub Actions grant the job `permissions: id-token: write`; on Azure Pipelines set SYSTEM_OIDCREQUESTURI (a predefined variable) and run inside AzureCLI@2.",
    );
}

/** Asks the job's endpoint for a new token. Errors name the endpoint's answer, never a token. */
export async function fetchToken(request: TokenRequest, timeoutMs = 30_000): Promise<string> {
    let response: Response;
    try {
        response = await fetch(request.url, { method: request.method, headers: request.headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
        throw new TokenError(`${request.source} OIDC endpoint unreachable: ${(error as Error).message}`);
    }
    const body = await response.text();
    if (!response.ok) {
        throw new TokenError(`${request.source} OIDC endpoint answered HTTP ${response.status}: ${body.replace(/\s+/g, " ").slice(0, 200)}`);
    }
    let token: unknown;
    try {
        token = (JSON.parse(body) as Record<string, unknown>)[request.field];
    } catch {
        throw new TokenError(`${request.source} OIDC endpoint answered HTTP ${response.status} with a body that is not JSON.`);
    }
    if (typeof token !== "string" || token.length === 0) {
        throw new TokenError(`${request.source} OIDC endpoint answered without a "${request.field}".`);
    }
    return token;
}

/** Replaces the token file in one step (a reader never sees half a token), readable by this user only. */
export function writeTokenFile(file: string, token: string): void {
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, token, { mode: 0o600 });
    fs.renameSync(temporary, file);
}

/** Variables the command must not see: static tokens some tools would prefer, and the job's Azure Pipelines credentials. */
const STATIC_TOKEN_VARIABLES = ["ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH"];
const AZURE_PIPELINES_VARIABLES = [
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_OIDCREQUESTURI",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    "ARM_OIDC_REQUEST_TOKEN",
    "ARM_OIDC_REQUEST_URL",
    "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
    "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID",
];

/** A local token endpoint for the command. */
export interface Bridge {
    readonly url: string;
    readonly secret: string;
}

/**
 * The command's environment: the token file; no static token (azure-native and azuread would
 * prefer it to the refreshable request); with a bridge, GitHub-style request variables that point
 * to it and none of the job's Azure Pipelines credentials (the program and its dependencies need
 * not hold a token that can call the Azure DevOps API).
 */
export function commandEnvironment(env: NodeJS.ProcessEnv, tokenFile: string, bridge?: Bridge): NodeJS.ProcessEnv {
    const result: NodeJS.ProcessEnv = { ...env, AZURE_FEDERATED_TOKEN_FILE: tokenFile };
    for (const name of [...STATIC_TOKEN_VARIABLES, ...(bridge === undefined ? [] : AZURE_PIPELINES_VARIABLES)]) {
        delete result[name];
    }
    if (bridge !== undefined) {
        result.ACTIONS_ID_TOKEN_REQUEST_URL = bridge.url;
        result.ACTIONS_ID_TOKEN_REQUEST_TOKEN = bridge.secret;
    }
    return result;
}

function sameSecret(presented: string, secret: string): boolean {
    const a = Buffer.from(presented);
    const b = Buffer.from(secret);
    return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Answers GitHub-style token requests (GET /token?..., `Authorization: bearer <secret>`) on
 * 127.0.0.1 with a token fresh from the job's endpoint. The URL carries a query string because
 * some clients append `&audience=...` to it.
 */
export async function startBridge(secret: string, getToken: () => Promise<string>): Promise<{ bridge: Bridge; close: () => Promise<void> }> {
    const server = http.createServer((request, response) => {
        const reply = (status: number, body: Record<string, unknown>): void => {
            response.writeHead(status, { "Content-Type": "application/json" });
            response.end(JSON.stringify(body));
        };
        if (!(request.url ?? "").startsWith("/token")) {
            reply(404, { message: "only /token is served" });
            return;
        }
        if (request.method !== "GET") {
            reply(405, { message: "only GET is served" });
            return;
        }
        const match = /^bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
        if (match === null || !sameSecret(match[1], secret)) {
            reply(401, { message: "unauthorized" });
            return;
        }
        getToken().then(
            (token) => reply(200, { count: 1, value: token }),
            (error: Error) => reply(502, { message: error.message }),
        );
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return {
        bridge: { url: `http://127.0.0.1:${port}/token?source=federated-token`, secret },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

export interface RunOptions {
    readonly command: readonly string[];
    readonly intervalSeconds: number;
    readonly serve: boolean;
    readonly env: NodeJS.ProcessEnv;
    readonly log: (line: string) => void;
}

/** Fetches the first token, runs the command with it and keeps it fresh; resolves to the exit code. */
export async function run(options: RunOptions): Promise<number> {
    const request = tokenRequest(options.env);
    const directory = fs.mkdtempSync(path.join(options.env.RUNNER_TEMP ?? options.env.AGENT_TEMPDIRECTORY ?? os.tmpdir(), "federated-token-"));
    const tokenFile = path.join(directory, "token");
    let bridgeHandle: { bridge: Bridge; close: () => Promise<void> } | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
        try {
            writeTokenFile(tokenFile, await fetchToken(request));
        } catch (error) {
            options.log(`federated-token: no first token, not starting ${options.command[0]}: ${(error as Error).message}`);
            return 1;
        }
        timer = setInterval(() => {
            fetchToken(request).then(
                (token) => writeTokenFile(tokenFile, token),
                (error: Error) => options.log(`federated-token: refresh failed, the previous token stays until the next try in ${options.intervalSeconds} s: ${error.message}`),
            );
        }, options.intervalSeconds * 1000);
        if (options.serve) {
            bridgeHandle = await startBridge(randomBytes(32).toString("hex"), () => fetchToken(request));
        }
        options.log(
            `federated-token: ${request.source} token in AZURE_FEDERATED_TOKEN_FILE, refreshed every ${options.intervalSeconds} s${bridgeHandle === undefined ? "" : ", and served on 127.0.0.1 for ACTIONS_ID_TOKEN_REQUEST_URL"}`,
        );
        const child = spawn(options.command[0], options.command.slice(1), { stdio: "inherit", env: commandEnvironment(options.env, tokenFile, bridgeHandle?.bridge) });
        const forward = (signal: NodeJS.Signals): void => {
            child.kill(signal);
        };
        process.on("SIGINT", forward);
        process.on("SIGTERM", forward);
        try {
            return await new Promise<number>((resolve) => {
                child.once("error", (error) => {
                    options.log(`federated-token: cannot start ${options.command[0]}: ${error.message}`);
                    resolve(127);
                });
                child.once("exit", (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal])));
            });
        } finally {
            process.off("SIGINT", forward);
            process.off("SIGTERM", forward);
        }
    } finally {
        if (timer !== undefined) {
            clearInterval(timer);
        }
        await bridgeHandle?.close();
        fs.rmSync(directory, { recursive: true, force: true });
    }
}

function usageError(message: string): never {
    process.stderr.write(`federated-token: ${message}\n${USAGE.split("\n")[0]}\n`);
    process.exit(2);
}

async function main(argv: readonly string[]): Promise<void> {
    let parsed: { values: { serve?: boolean; interval?: string; help?: boolean }; positionals: string[] };
    try {
        parsed = parseArgs({
            args: [...argv],
            options: { serve: { type: "boolean" }, interval: { type: "string" }, help: { type: "boolean" } },
            allowPositionals: true,
            strict: true,
        });
    } catch (error) {
        usageError((error as Error).message);
    }
    if (parsed.values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const intervalSeconds = parsed.values.interval === undefined ? 60 : Number(parsed.values.interval);
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 240) {
        usageError(`--interval takes whole seconds from 1 to 240, got "${parsed.values.interval}".`);
    }
    if (parsed.positionals.length === 0) {
        usageError("no command given (put it after --).");
    }
    try {
        process.exitCode = await run({ command: parsed.positionals, intervalSeconds, serve: parsed.values.serve === true, env: process.env, log: (line) => process.stderr.write(`${line}\n`) });
    } catch (error) {
        if (error instanceof TokenError) {
            process.stderr.write(`federated-token: ${error.message}\n`);
            process.exitCode = 1;
            return;
        }
        throw error;
    }
}

if (require.main === module) {
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE") {
            process.exit(0);
        }
        throw error;
    });
    void main(process.argv.slice(2));
}
