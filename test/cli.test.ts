import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { stringify } from "yaml";

/**
 * The command-line conventions every tool keeps, checked on the real commands in fresh processes
 * (node with the tsx loader, as `npm run` starts them): a usage error is one line and exit 2, a
 * closed standard output (`| head`) ends quietly with exit 0, an unexpected error prints its
 * message and, only with AKSWI_DEBUG=1, its stack.
 */

const ROOT = path.resolve(__dirname, "..");
const DOCTOR = path.join(ROOT, "tools", "doctor.ts");
const PLAN = path.join(ROOT, "tools", "plan.ts");
/** A line of a JavaScript stack trace. */
const STACK_LINE = /^\s+at /m;
const ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4a7b1c2d-0000-4000-8000-00000000b1e0/";
/**
 * tools/plan.ts belongs to the plan's owner; it keeps these conventions once it starts through
 * `runCli` and reports usage errors with `usageError` (tools/cli.ts). Until then these cases run
 * as todo.
 */

interface Outcome {
    readonly status: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Env without the debug switch, so that a developer's shell does not change the outcome. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const copy = { ...process.env, ...extra };
    if (extra.AKSWI_DEBUG === undefined) {
        delete copy.AKSWI_DEBUG;
    }
    return copy;
}

/** Runs a tool to the end in a fresh process; asynchronous, so the cases of a suite run side by side. */
function run(script: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Outcome> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, env: env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
}

/**
 * Runs a command whose reader goes away: `before output` closes standard output before the
 * command writes anything (`| head -0`, or `| head` after it has exited), `after first chunk`
 * reads one chunk and closes (`| head -1` on output longer than a pipe's buffer).
 */
function runWithClosedStdout(script: string, args: readonly string[], when: "before output" | "after first chunk"): Promise<Outcome> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, env: env(), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        if (when === "before output") {
            child.stdout.destroy();
        } else {
            child.stdout.setEncoding("utf8").once("data", (chunk: string) => {
                stdout = chunk;
                child.stdout.destroy();
            });
        }
        child.on("error", reject);
        child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
}

/** A valid stack config without the committed samples' placeholder values (nothing to warn about). */
function stackConfig(workloads: number): string {
    // A private cluster brings its own subnet (network.vnetSubnetId), in a subscription that is no placeholder.
    const cluster = (subnet: string) => ({
        systemPool: { vmSize: "Standard_D4ds_v5", minCount: 1, maxCount: 3 },
        adminGroupObjectIds: ["5d2c9f4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"],
        private: true,
        network: {
            vnetSubnetId: `/subscriptions/6e1d0b5c-3a2f-4d8e-9b7a-1c2d3e4f5a6b/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-platform/subnets/${subnet}`,
        },
    });
    const entries: Record<string, unknown> = {};
    for (let i = 0; i < workloads; i++) {
        entries[`app-${i}`] = { namespace: `ns-${i}` };
    }
    return stringify({
        config: {
            "azure-native:location": "westeurope",
            "aks-workload-identity:clusters": { blue: cluster("aks-blue"), green: cluster("aks-green") },
            "aks-workload-identity:workloads": entries,
        },
    });
}

describe("the command-line tools", () => {
    let dir: string;
    let smallStack: string;
    let largeStack: string;

    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), "cli-"));
        smallStack = path.join(dir, "Pulumi.small.yaml");
        largeStack = path.join(dir, "Pulumi.large.yaml");
        writeFileSync(smallStack, stackConfig(2));
        // Its plan is far longer than a pipe's 64 KiB buffer, so a reader that stops early cuts it.
        writeFileSync(largeStack, stackConfig(150));
    });

    describe("a usage error is one line on stderr and exit 2, without a stack trace", { concurrency: true }, () => {
        const cases: { name: string; script: string; args: string[]; stderr: string; todo?: string }[] = [
            { name: "doctor, unknown option", script: DOCTOR, args: ["--bogus"], stderr: "Unknown option '--bogus'. See npm run doctor -- --help.\n" },
            {
                name: "doctor, a positional argument",
                script: DOCTOR,
                args: ["prod"],
                stderr: "Unexpected argument 'prod'. This command does not take positional arguments. See npm run doctor -- --help.\n",
            },
            {
                name: "doctor, no token",
                script: DOCTOR,
                args: ["--stack", "prod"],
                stderr: "Give --token, or --issuer and --subject. See npm run doctor -- --help.\n",
            },
            {
                name: "doctor, no stack",
                script: DOCTOR,
                args: ["--issuer", ISSUER, "--subject", "system:serviceaccount:a:b"],
                stderr: "Give --stack NAME or --config FILE. See npm run doctor -- --help.\n",
            },
            {
                name: "doctor, a malformed --cluster-issuer",
                script: DOCTOR,
                args: ["--stack", "prod", "--issuer", ISSUER, "--subject", "s", "--cluster-issuer", "blue"],
                stderr: 'The --cluster-issuer option takes KEY=URL, got "blue". See npm run doctor -- --help.\n',
            },
            { name: "plan, no stack", script: PLAN, args: [], stderr: "Give --stack NAME or --config FILE. See npm run plan -- --help.\n" },
            { name: "plan, unknown option", script: PLAN, args: ["--bogus"], stderr: "Unknown option '--bogus'. See npm run plan -- --help.\n" },
            {
                name: "plan, unknown format",
                script: PLAN,
                args: ["--stack", "dev", "--format", "yaml"],
                stderr: 'Unknown --format "yaml". Allowed values are: text, markdown, json. See npm run plan -- --help.\n',
            },
        ];
        for (const c of cases) {
            it(c.name, { todo: c.todo }, async () => {
                const result = await run(c.script, c.args);
                assert.equal(STACK_LINE.test(result.stderr), false, `no stack trace in:\n${result.stderr}`);
                assert.equal(result.stderr, c.stderr);
                assert.equal(result.stdout, "");
                assert.equal(result.status, 2);
            });
        }
    });

    describe("a closed standard output ends quietly with exit 0", { concurrency: true }, () => {
        it("doctor --help, the reader gone before it writes", async () => {
            const result = await runWithClosedStdout(DOCTOR, ["--help"], "before output");
            assert.equal(result.stderr, "");
            assert.equal(result.status, 0);
        });

        it("doctor's verdict, the reader gone before it writes (exit 0 even though the verdict is not OK)", async () => {
            const result = await runWithClosedStdout(DOCTOR, ["--config", smallStack, "--issuer", ISSUER, "--subject", "system:serviceaccount:ns-0:app-0"], "before output");
            assert.equal(result.stderr, "");
            assert.equal(result.status, 0);
        });

        it("plan --help, the reader gone before it writes", async () => {
            const result = await runWithClosedStdout(PLAN, ["--help"], "before output");
            assert.equal(result.stderr, "");
            assert.equal(result.status, 0);
        });

        it("a long plan, the reader gone after the first chunk", async () => {
            const result = await runWithClosedStdout(PLAN, ["--config", largeStack, "--format", "json"], "after first chunk");
            assert.match(result.stdout, /^\{\n {2}"stack": "large",/);
            assert.equal(result.stderr, "");
            assert.equal(result.status, 0);
        });
    });

    describe("the doctor's token and outputs files", { concurrency: true }, () => {
        it("a missing --token @FILE is one line and exit 2", async () => {
            const missing = path.join(dir, "no-such-token");
            const result = await run(DOCTOR, ["--config", smallStack, "--token", `@${missing}`]);
            assert.equal(result.stderr, `Cannot read the token file ${missing} (--token @FILE): no such file or directory. See npm run doctor -- --help.\n`);
            assert.equal(result.stdout, "");
            assert.equal(result.status, 2);
        });

        it("a token file that is a directory is one line and exit 2", async () => {
            const result = await run(DOCTOR, ["--config", smallStack, "--token", `@${dir}`]);
            assert.equal(result.stderr, `Cannot read the token file ${dir} (--token @FILE): it is a directory. See npm run doctor -- --help.\n`);
            assert.equal(result.status, 2);
        });

        it("a --token that names a file instead of holding a JWT says to write @", async () => {
            const result = await run(DOCTOR, ["--config", smallStack, "--token", smallStack]);
            assert.equal(result.stderr, `The token is not a JWT but names a file: to read the token from it, write --token @${smallStack}. See npm run doctor -- --help.\n`);
            assert.equal(result.status, 2);
        });

        it("a missing or malformed --outputs FILE is one line and exit 2", async () => {
            const missing = path.join(dir, "no-such-outputs.json");
            const args = ["--config", smallStack, "--issuer", ISSUER, "--subject", "system:serviceaccount:ns-0:app-0", "--outputs"];
            const absent = await run(DOCTOR, [...args, missing]);
            assert.equal(absent.stderr, `Cannot read the outputs file ${missing} (--outputs FILE): no such file or directory. See npm run doctor -- --help.\n`);
            assert.equal(absent.status, 2);
            const notJson = await run(DOCTOR, [...args, smallStack]);
            assert.match(notJson.stderr, new RegExp(`^The outputs file ${smallStack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not JSON \\(write it with pulumi stack output --json\\): .+\\. See npm run doctor -- --help\\.\\n$`));
            assert.equal(notJson.stderr.split("\n").length, 2, `one line: ${notJson.stderr}`);
            assert.equal(notJson.status, 2);
        });
    });

    describe("an unexpected error", { concurrency: true }, () => {
        // A command that fails in a way no tool expects, started like the tools are.
        let script: string;
        before(() => {
            script = path.join(dir, "broken-tool.ts");
            writeFileSync(
                script,
                `import { runCli } from ${JSON.stringify(path.join(ROOT, "tools", "cli"))};\n` +
                    `runCli("Usage: npm run broken", async () => { await Promise.resolve(); throw new TypeError("the graph has no root"); });\n`,
            );
        });

        it("prints its message in one line and exits 1", async () => {
            const result = await run(script, []);
            assert.equal(result.stderr, "TypeError: the graph has no root (AKSWI_DEBUG=1 prints the stack trace)\n");
            assert.equal(result.status, 1);
        });

        it("prints the stack trace with AKSWI_DEBUG=1", async () => {
            const result = await run(script, [], { AKSWI_DEBUG: "1" });
            assert.match(result.stderr, /^TypeError: the graph has no root\n {4}at /);
            assert.equal(result.status, 1);
        });
    });
});
