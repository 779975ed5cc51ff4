import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { declaredCredentials, diagnose, type Presented, type Verdict } from "../doctor/diagnose";
import { runCli, usageError } from "./cli";

const USAGE = `Usage: npm run doctor -- (--stack NAME | --config FILE) (--token JWT|@FILE | --issuer URL --subject SUB [--audience AUD])
                         [--outputs FILE] [--cluster-issuer KEY=URL ...]

Explains, offline, why Entra ID would refuse a workload's token exchange (AADSTS70021): it
compares the token's iss, sub, aud and exp with the federated credentials the stack declares.
A token of identity binding mode (aud api://AKSIdentityBinding) is checked against the stack's
identity bindings and the ServiceAccounts their RBAC allows; one whose issuer is an identity
binding's (https://ib.oic.prod-aks.azure.com/...) is explained.

  --token JWT|@FILE       the projected ServiceAccount token (cat $AZURE_FEDERATED_TOKEN_FILE in the
                          pod), or @path to a file holding it; decoded, never printed or sent anywhere
  --issuer/--subject/--audience
                          the values from an AADSTS error message, instead of a token
  --outputs FILE          the deployed stack's outputs (pulumi stack output --json > FILE), for the
                          clusters' issuer URLs, which only exist after deployment
  --cluster-issuer KEY=URL  a cluster's issuer URL by cluster key (repeatable)
  --stack NAME, --config FILE  as for npm run plan
  --help                  show this text

Exit codes: 0 a credential (or an identity binding with its RBAC) accepts the token (OK), 1 Entra
ID would refuse it (NO MATCH, the reasons are printed), 2 usage (also an unreadable --token or
--outputs file), 3 cannot tell offline (only a cluster whose issuer URL was not given could accept
it, or the credential is AKS's own aks-identity-binding), 4 the stack's config has problems or the
doctor failed (AKSWI_DEBUG=1 prints the stack trace).`;

/** Exit codes, as the usage says. */
const EXIT = { match: 0, noMatch: 1, usage: 2, cannotTell: 3, failed: 4 } as const;

const VERDICTS: Record<Verdict, { line: string; exitCode: number }> = {
    match: { line: "OK: a federated credential accepts this token.", exitCode: EXIT.match },
    "no match": { line: "NO MATCH: Entra ID would refuse this token (AADSTS70021 or AADSTS700024).", exitCode: EXIT.noMatch },
    "cannot tell": {
        line: "CANNOT TELL without the cluster issuer: only a cluster whose issuer URL was not given could accept this token; pass --outputs FILE or --cluster-issuer KEY=URL.",
        exitCode: EXIT.cannotTell,
    },
};

/** Why a file could not be read, in a few words (the system's message otherwise). */
function unreadable(error: unknown): string {
    const code = (error as NodeJS.ErrnoException).code;
    switch (code) {
        case "ENOENT":
            return "no such file or directory";
        case "EACCES":
        case "EPERM":
            return "permission denied";
        case "EISDIR":
            return "it is a directory";
        default:
            return (error as Error).message;
    }
}

/** A file named on the command line; an unreadable one is a usage error. */
function readNamedFile(file: string, what: string, option: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        usageError(`Cannot read the ${what} ${file} (${option}): ${unreadable(error)}.`);
    }
}

function presentedFromToken(value: string): Presented {
    const jwt = (value.startsWith("@") ? readNamedFile(value.slice(1), "token file", "--token @FILE") : value).trim();
    let claims: ReturnType<typeof decodeJwt>;
    try {
        claims = decodeJwt(jwt);
    } catch (error) {
        // A path given without "@" is the likeliest mistake; say so rather than quote the decoder.
        if (!value.startsWith("@") && fs.existsSync(value)) {
            usageError(`The token is not a JWT but names a file: to read the token from it, write --token @${value}.`);
        }
        usageError(`The token is not a JWT: ${(error as Error).message}`);
    }
    const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    return {
        issuer: claims.iss ?? "",
        subject: claims.sub ?? "",
        audiences,
        expiresAt: claims.exp === undefined ? undefined : new Date(claims.exp * 1000),
    };
}

function clusterIssuers(outputsFile: string | undefined, pairs: readonly string[]): Record<string, string> {
    const issuers: Record<string, string> = {};
    if (outputsFile !== undefined) {
        const text = readNamedFile(outputsFile, "outputs file", "--outputs FILE");
        let outputs: { clusters?: Record<string, { oidcIssuerUrl?: string }> };
        try {
            outputs = JSON.parse(text) as typeof outputs;
        } catch (error) {
            usageError(`The outputs file ${outputsFile} is not JSON (write it with pulumi stack output --json): ${(error as Error).message}`);
        }
        for (const [key, cluster] of Object.entries(outputs.clusters ?? {})) {
            if (cluster.oidcIssuerUrl !== undefined) {
                issuers[key] = cluster.oidcIssuerUrl;
            }
        }
    }
    for (const pair of pairs) {
        const at = pair.indexOf("=");
        if (at <= 0) {
            usageError(`The --cluster-issuer option takes KEY=URL, got "${pair}".`);
        }
        issuers[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return issuers;
}

async function main(): Promise<void> {
    let values: {
        stack?: string;
        config?: string;
        token?: string;
        issuer?: string;
        subject?: string;
        audience?: string;
        outputs?: string;
        "cluster-issuer"?: string[];
        help?: boolean;
    };
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string" },
                config: { type: "string" },
                token: { type: "string" },
                issuer: { type: "string" },
                subject: { type: "string" },
                audience: { type: "string" },
                outputs: { type: "string" },
                "cluster-issuer": { type: "string", multiple: true },
                help: { type: "boolean" },
            },
        }));
    } catch (error) {
        usageError((error as Error).message);
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    let presented: Presented;
    if (values.token !== undefined) {
        presented = presentedFromToken(values.token);
    } else if (values.issuer !== undefined && values.subject !== undefined) {
        presented = { issuer: values.issuer, subject: values.subject, audiences: [values.audience ?? "api://AzureADTokenExchange"] };
    } else {
        usageError("Give --token, or --issuer and --subject.");
    }
    const issuers = clusterIssuers(values.outputs, values["cluster-issuer"] ?? []);
    // The mock runner and the plan model load the Pulumi SDK and the program (seconds): only now,
    // so that --help and usage errors answer at once.
    const { runSelectedStack, selectStack } = await import("./stack-run");
    const { trustMap } = await import("../plan/model");
    const { declaredBindings } = await import("../doctor/bindings");
    const { file, stack } = selectStack(values, USAGE);
    const run = await runSelectedStack(file, stack, EXIT.failed);
    const result = diagnose(presented, declaredCredentials(trustMap(run.resources), issuers), new Date(), declaredBindings(run.resources, issuers));
    const verdict = VERDICTS[result.verdict];

    const lines = [
        `Token: iss ${presented.issuer}`,
        `       sub ${presented.subject}`,
        `       aud ${presented.audiences.join(", ") || "(none)"}`,
        ...(presented.expiresAt === undefined ? [] : [`       exp ${presented.expiresAt.toISOString()}`]),
        "",
        result.headline ?? verdict.line,
        ...result.findings.map((finding) => `  - ${finding}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.exitCode = verdict.exitCode;
}

runCli(USAGE, main, { unexpectedExitCode: EXIT.failed });
