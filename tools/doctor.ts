import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { declaredCredentials, diagnose, type Presented } from "../doctor/diagnose";
import { trustMap } from "../plan/model";
import { fail, runSelectedStack, selectStack } from "./stack-run";

const USAGE = `Usage: npm run doctor -- (--stack NAME | --config FILE) (--token JWT|@FILE | --issuer URL --subject SUB [--audience AUD])
                         [--outputs FILE] [--cluster-issuer KEY=URL ...]

Explains, offline, why Entra ID would refuse a workload's token exchange (AADSTS70021): it
compares the token's iss, sub, aud and exp with the federated credentials the stack declares.

  --token JWT|@FILE       the projected ServiceAccount token (cat $AZURE_FEDERATED_TOKEN_FILE in the
                          pod), or @path to a file holding it; decoded, never printed or sent anywhere
  --issuer/--subject/--audience
                          the values from an AADSTS error message, instead of a token
  --outputs FILE          the deployed stack's outputs (pulumi stack output --json > FILE), for the
                          clusters' issuer URLs, which only exist after deployment
  --cluster-issuer KEY=URL  a cluster's issuer URL by cluster key (repeatable)
  --stack NAME, --config FILE  as for npm run plan
  --help                  show this text

Exit codes: 0 a credential accepts the token, 1 none does (the reasons are printed), 2 usage.`;

function presentedFromToken(value: string): Presented {
    const jwt = (value.startsWith("@") ? fs.readFileSync(value.slice(1), "utf8") : value).trim();
    let claims: ReturnType<typeof decodeJwt>;
    try {
        claims = decodeJwt(jwt);
    } catch (error) {
        fail(`The token is not a JWT: ${(error as Error).message}`, 2);
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
        const outputs = JSON.parse(fs.readFileSync(outputsFile, "utf8")) as { clusters?: Record<string, { oidcIssuerUrl?: string }> };
        for (const [key, cluster] of Object.entries(outputs.clusters ?? {})) {
            if (cluster.oidcIssuerUrl !== undefined) {
                issuers[key] = cluster.oidcIssuerUrl;
            }
        }
    }
    for (const pair of pairs) {
        const at = pair.indexOf("=");
        if (at <= 0) {
            fail(`--cluster-issuer takes KEY=URL, got "${pair}".`, 2);
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
        fail(`${(error as Error).message}\n\n${USAGE}`, 2);
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
        fail(`Give --token, or --issuer and --subject.\n\n${USAGE}`, 2);
    }
    const issuers = clusterIssuers(values.outputs, values["cluster-issuer"] ?? []);
    const { file, stack } = selectStack(values, USAGE);
    const run = await runSelectedStack(file, stack);
    const result = diagnose(presented, declaredCredentials(trustMap(run.resources), issuers), new Date());

    const lines = [
        `Token: iss ${presented.issuer}`,
        `       sub ${presented.subject}`,
        `       aud ${presented.audiences.join(", ") || "(none)"}`,
        ...(presented.expiresAt === undefined ? [] : [`       exp ${presented.expiresAt.toISOString()}`]),
        "",
        result.ok ? "OK: a federated credential accepts this token." : "NO MATCH: Entra ID would refuse this token (AADSTS70021 or AADSTS700024).",
        ...result.findings.map((finding) => `  - ${finding}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.exitCode = result.ok ? 0 : 1;
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error), 1));
