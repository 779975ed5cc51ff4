import { parse, stringify } from "yaml";
import { AKS_AAD_SERVER_APP_ID } from "./constants";

/**
 * The login methods kubelogin's `get-token` takes (`--login`, or the AAD_LOGIN_METHOD variable):
 * - `azurecli`: the Azure CLI's login (a laptop after `az login`): the kubeconfig's default;
 * - `workloadidentity`: a federated token from AZURE_CLIENT_ID, AZURE_TENANT_ID and
 *   AZURE_FEDERATED_TOKEN_FILE (a GitHub pipeline with OIDC federation, or a pod);
 * - `azurepipelines`: an Azure DevOps service connection's OIDC token, requested afresh on every
 *   call (AZURE_CLIENT_ID, AZURE_TENANT_ID, the connection ID and SYSTEM_ACCESSTOKEN);
 * - `spn`: a service principal from the environment (never stored in the stack).
 */
export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "azurepipelines", "spn"] as const;
export type KubeloginMode = (typeof KUBELOGIN_MODES)[number];

/** The environment variable with which a run chooses kubelogin's login method. */
export const KUBELOGIN_LOGIN_METHOD_VARIABLE = "AAD_LOGIN_METHOD";

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
 * authenticates through `kubelogin get-token --login azurecli`, like `kubelogin
 * convert-kubeconfig -l azurecli`, keeping the tenant and cloud. The result is the same whoever
 * runs the program, so `pulumi refresh` and `destroy` (which reuse the provider config in state)
 * work from a laptop after a pipeline run and the reverse: a pipeline sets AAD_LOGIN_METHOD,
 * which kubelogin's get-token reads over the `--login` flag (kubelogin
 * pkg/internal/token/options.go `UpdateFromEnv`, v0.2.19: `os.LookupEnv(env.LoginMethod)`
 * overrides `o.LoginMethod` unless `--disable-environment-override`). The admin kubeconfig is
 * never used: with local accounts disabled Azure refuses it.
 */
export function toKubeloginKubeconfig(kubeconfigYaml: string): string {
    const document = parse(kubeconfigYaml) as { users?: KubeconfigUser[] } | null;
    if (document === null || typeof document !== "object" || !Array.isArray(document.users) || document.users.length === 0) {
        throw new Error("The cluster's user kubeconfig has no users to configure kubelogin for.");
    }
    for (const user of document.users) {
        const originalArgs = user.user?.exec?.args ?? [];
        const serverId = flagValue(originalArgs, "--server-id") ?? AKS_AAD_SERVER_APP_ID;
        const args = ["get-token", "--login", "azurecli", "--server-id", serverId];
        const environment = flagValue(originalArgs, "--environment");
        const tenantId = flagValue(originalArgs, "--tenant-id");
        if (environment !== undefined) {
            args.push("--environment", environment);
        }
        if (tenantId !== undefined) {
            args.push("--tenant-id", tenantId);
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
