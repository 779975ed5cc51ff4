import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, describe, it } from "node:test";
import { GetSchemaRequest } from "@pulumi/pulumi/proto/provider_pb";
import { PACKAGE_DIR, committedSchema } from "../components/package-schema";

/**
 * The package as `pulumi package add` meets it: the plugin runner the Node.js language host
 * starts for a source-based plugin (`@pulumi/pulumi/cmd/run-plugin`, which loads `plugin.ts`
 * through ts-node with type checking and serves the provider over gRPC), asked for its schema
 * over gRPC as the engine asks. A type error under components/tsconfig.json, a missing
 * dependency or an entry that does not load fails here, not on a consumer's machine.
 */

// The gRPC client of the Pulumi SDK itself, resolved from where the SDK is installed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/pulumi")] })) as typeof import("@grpc/grpc-js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb") as {
    ResourceProviderClient: new (address: string, credentials: unknown) => {
        getSchema(request: GetSchemaRequest, callback: (error: Error | null, response: { getSchema(): string }) => void): void;
        close(): void;
    };
};

const children: ChildProcess[] = [];
after(() => {
    for (const child of children) {
        child.kill("SIGTERM");
    }
});

/** Starts the plugin runner on the package folder and resolves with the port it serves on. */
function startPlugin(): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-plugin"), PACKAGE_DIR], { cwd: PACKAGE_DIR, stdio: ["ignore", "pipe", "pipe"] });
        children.push(child);
        let stderr = "";
        child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
        child.on("exit", (code) => reject(new Error(`the plugin exited (${String(code)}) before it served: ${stderr.slice(0, 2000)}`)));
        child.stdout.once("data", (data: Buffer) => resolve(Number(data.toString().trim())));
    });
}

describe("the plugin runner pulumi package add starts", () => {
    it("loads the package and serves the committed schema over gRPC", async () => {
        const port = await startPlugin();
        assert.ok(Number.isInteger(port) && port > 0, `the plugin printed its port (${port})`);
        const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const schema = await new Promise<string>((resolve, reject) => client.getSchema(new GetSchemaRequest(), (error, response) => (error ? reject(error) : resolve(response.getSchema()))));
        client.close();
        assert.deepEqual(JSON.parse(schema), committedSchema());
    });
});
