import type * as k8sInputs from "@pulumi/kubernetes/types/input";

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
