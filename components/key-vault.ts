import type * as k8sInputs from "@pulumi/kubernetes/types/input";
import { USE_AZURE_TOKEN_PROXY_PARAMETER } from "./constants";

/**
 * The Secrets Store CSI driver objects for a workload's Key Vault secrets: pure builders, used by
 * the WorkloadIdentity component.
 */

export const SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io";
export const SECRET_PROVIDER_CLASS_API_VERSION = "secrets-store.csi.x-k8s.io/v1";
export const SECRETS_MOUNT_PATH = "/mnt/secrets-store";

/** The `objects` parameter of an Azure SecretProviderClass: a YAML array of YAML documents. */
export function keyVaultObjects(secrets: readonly string[], certificates: readonly string[]): string {
    const entries = [...secrets.map((name) => [name, "secret"]), ...certificates.map((name) => [name, "cert"])];
    return ["array:", ...entries.map(([name, type]) => `  - |\n    objectName: ${name}\n    objectType: ${type}`)].join("\n") + "\n";
}

/** What the Azure provider of a SecretProviderClass needs to fetch a workload's objects. */
export interface SecretProviderClassIdentity<T> {
    readonly clientId: T;
    readonly tenantId: T;
    readonly vaultName: T;
    readonly objects: string;
    /**
     * Identity binding mode: the provider exchanges the token through the AKS proxy
     * (`useAzureTokenProxy: "true"`, Azure/secrets-store-csi-driver-provider-azure docs
     * "Identity Binding"), with the same client ID.
     */
    readonly identityBinding: boolean;
}

/** The `spec.parameters` of an Azure SecretProviderClass for workload identity (either mode). */
export function secretProviderClassParameters<T>(identity: SecretProviderClassIdentity<T>): Record<string, T | string> {
    return {
        usePodIdentity: "false",
        ...(identity.identityBinding ? { [USE_AZURE_TOKEN_PROXY_PARAMETER]: "true" } : {}),
        clientID: identity.clientId,
        tenantId: identity.tenantId,
        keyvaultName: identity.vaultName,
        objects: identity.objects,
    };
}

/** The pod volume that mounts a SecretProviderClass. */
export function secretsVolume(volumeName: string, secretProviderClass: string): k8sInputs.core.v1.Volume {
    return {
        name: volumeName,
        csi: { driver: SECRETS_STORE_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass } },
    };
}

/** The container mount of that volume. */
export function secretsVolumeMount(volumeName: string): k8sInputs.core.v1.VolumeMount {
    return { name: volumeName, mountPath: SECRETS_MOUNT_PATH, readOnly: true };
}
