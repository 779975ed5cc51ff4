import { parse, stringify } from "yaml";
import { AKS_AAD_SERVER_APP_ID } from "./constants";

/**
 * How kubelogin obtains the Entra ID token for the Kubernetes API:
 * - `azurecli`: the Azure CLI's login (a laptop after `az login`);
 * - `workloadidentity`: a federated token from AZURE_CLIENT_ID, AZURE_TENANT_ID and
 *   AZURE_FEDERATED_TOKEN_FILE (a pipeline with OIDC federation, or a pod);
 * - `spn`: a service principal from AAD_SERVICE_PRINCIPAL_CLIENT_ID and a certificate or secret in
 *   the environment (never stored in the stack).
 */
export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn"] as const;
export type KubeloginMode = (typeof KUBELOGIN_MODES)[number];

interface KubeconfigUser {
    name?: string;
    user?: {
        exec?: { args?: string[] | null; [key: string]: unknown };
        [key: string]: unknown;
    };
}

function flagValue(args: readonly string[], flag: string): string | undefined {
    const index = args.indexOf(flag);
    return index >= 0 && index + 1 < args.length ? args[index + 1] : undefined;
}

/**
 * Rewrites the user kubeconfig AKS returns for an Entra ID cluster so that every user
 * authenticates through `kubelogin get-token --login <mode>`, the same as
 * `kubelogin convert-kubeconfig -l <mode>`. The admin kubeconfig is never used: with local
 * accounts disabled Azure refuses it.
 */
export function toKubeloginKubeconfig(kubeconfigYaml: string, mode: KubeloginMode): string {
    const document = parse(kubeconfigYaml) as { users?: KubeconfigUser[] } | null;
    if (document === null || typeof document !== "object" || !Array.isArray(document.users) || document.users.length === 0) {
        throw new Error("The cluster's user kubeconfig has no users to configure kubelogin for.");
    }
    for (const user of document.users) {
        const originalArgs = user.user?.exec?.args ?? [];
        const serverId = flagValue(originalArgs, "--server-id") ?? AKS_AAD_SERVER_APP_ID;
        const args = ["get-token", "--login", mode, "--server-id", serverId];
        if (mode === "spn") {
            const tenantId = flagValue(originalArgs, "--tenant-id");
            const environment = flagValue(originalArgs, "--environment");
            if (environment !== undefined) {
                args.push("--environment", environment);
            }
            if (tenantId !== undefined) {
                args.push("--tenant-id", tenantId);
            }
        }
        user.user = {
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "kubelogin",
                args,
                env: null,
                installHint:
                    "kubelogin is not installed. It is required to authenticate to an AKS cluster with Entra ID: " +
                    "https://azure.github.io/kubelogin/install.html",
                interactiveMode: "IfAvailable",
                provideClusterInfo: false,
            },
        };
    }
    return stringify(document);
}
