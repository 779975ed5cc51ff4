import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { toKubeloginKubeconfig } from "../components/kubeconfig";
import { placeholderUserKubeconfig } from "../testing/mock-runner";

interface Exec {
    command: string;
    args: string[];
    apiVersion: string;
}

function execOf(kubeconfig: string): Exec {
    const document = parse(kubeconfig) as { users: { user: { exec: Exec } }[]; clusters: unknown[] };
    return document.users[0].user.exec;
}

describe("kubelogin kubeconfig", () => {
    const source = placeholderUserKubeconfig("aks-main-dev");

    it("logs in with the Azure CLI unless AAD_LOGIN_METHOD says otherwise, keeping the server ID, tenant, cloud and clusters", () => {
        const converted = toKubeloginKubeconfig(source);
        const exec = execOf(converted);
        assert.equal(exec.command, "kubelogin");
        assert.equal(exec.apiVersion, "client.authentication.k8s.io/v1beta1");
        assert.deepEqual(exec.args, [
            "get-token",
            "--login",
            "azurecli",
            "--server-id",
            "6dae42f8-4368-4678-94ff-3960e28e3630",
            "--environment",
            "AzurePublicCloud",
            "--tenant-id",
            "00000000-0000-0000-0000-00000000feed",
        ]);
        assert.deepEqual((parse(converted) as { clusters: unknown }).clusters, (parse(source) as { clusters: unknown }).clusters);
        assert.doesNotMatch(converted, /secret|password|client-certificate|disable-environment-override/i);
    });

    it("is the same whoever runs the program: nothing of the caller's environment is written into it", () => {
        const saved = { ...process.env };
        try {
            process.env.AAD_LOGIN_METHOD = "workloadidentity";
            process.env.AZURE_CLIENT_ID = "11111111-2222-3333-4444-555555555555";
            const pipeline = toKubeloginKubeconfig(source);
            delete process.env.AAD_LOGIN_METHOD;
            delete process.env.AZURE_CLIENT_ID;
            assert.equal(pipeline, toKubeloginKubeconfig(source));
        } finally {
            process.env = saved;
        }
    });

    it("refuses a kubeconfig without users", () => {
        assert.throws(() => toKubeloginKubeconfig("apiVersion: v1\nkind: Config\nusers: []\n"), {
            message: "The cluster's user kubeconfig has no users to configure kubelogin for.",
        });
    });
});
