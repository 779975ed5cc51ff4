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

    it("logs in with the Azure CLI by default shape, keeping the server ID and the clusters", () => {
        const converted = toKubeloginKubeconfig(source, "azurecli");
        const exec = execOf(converted);
        assert.equal(exec.command, "kubelogin");
        assert.equal(exec.apiVersion, "client.authentication.k8s.io/v1beta1");
        assert.deepEqual(exec.args, ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]);
        assert.deepEqual((parse(converted) as { clusters: unknown }).clusters, (parse(source) as { clusters: unknown }).clusters);
    });

    it("uses the federated token in workloadidentity mode, from the environment", () => {
        assert.deepEqual(execOf(toKubeloginKubeconfig(source, "workloadidentity")).args, [
            "get-token",
            "--login",
            "workloadidentity",
            "--server-id",
            "6dae42f8-4368-4678-94ff-3960e28e3630",
        ]);
    });

    it("keeps the tenant and cloud for spn mode, and no credential", () => {
        const converted = toKubeloginKubeconfig(source, "spn");
        assert.deepEqual(execOf(converted).args, [
            "get-token",
            "--login",
            "spn",
            "--server-id",
            "6dae42f8-4368-4678-94ff-3960e28e3630",
            "--environment",
            "AzurePublicCloud",
            "--tenant-id",
            "00000000-0000-0000-0000-00000000feed",
        ]);
        assert.doesNotMatch(converted, /secret|password|client-certificate/i);
    });

    it("refuses a kubeconfig without users", () => {
        assert.throws(() => toKubeloginKubeconfig("apiVersion: v1\nkind: Config\nusers: []\n", "azurecli"), {
            message: "The cluster's user kubeconfig has no users to configure kubelogin for.",
        });
    });
});
