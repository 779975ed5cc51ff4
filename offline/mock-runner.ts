import * as path from "node:path";
import { uuidV5 } from "../components/names";
import { TYPES } from "../policy/resource-types";
import { flattenConfig, readStackFile } from "../stacks/config-problems";

/**
 * The one mock runner: runs the real program (`index.ts`) under the Pulumi SDK's mock runtime with
 * a stack's config and records every resource the program registers, with its type, name,
 * parent, inputs, dependencies and options. Tests and tools use it; nothing here talks to Azure.
 *
 * Import this module before anything that registers resources: it installs the mocks itself,
 * then loads the program.
 */

/** Marks every value the mocks invent, so nobody mistakes it for a deployed value. */
export const PLACEHOLDER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000";
export const PLACEHOLDER_TENANT_ID = "00000000-0000-0000-0000-00000000feed";
const PLACEHOLDER_NAMESPACE = "6f1c7f0e-2d2b-4b8e-8f3a-5a9c3d7e1b20";

/** A deterministic placeholder GUID for `purpose` of `name`. */
export function placeholderGuid(purpose: string, name: string): string {
    return uuidV5(`${purpose}:${name}`, PLACEHOLDER_NAMESPACE);
}

/** The mocked OIDC issuer of a cluster: the AKS shape, trailing slash included, marked as a placeholder. */
export function placeholderIssuerUrl(location: string, clusterName: string): string {
    return `https://${location}.oic.prod-aks.azure.com/${PLACEHOLDER_TENANT_ID}/placeholder-${clusterName}/`;
}

/** The mocked client ID of a managed identity or app registration. */
export function placeholderClientId(azureName: string): string {
    return placeholderGuid("client", azureName);
}

/** The mocked principal (object) ID of a managed identity or service principal. */
export function placeholderPrincipalId(azureName: string): string {
    return placeholderGuid("principal", azureName);
}

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** URN of the parent, or undefined for the root stack. */
    readonly parent: string | undefined;
    readonly custom: boolean;
    /** Provider reference (`<urn>::<id>`), when explicit. */
    readonly provider: string | undefined;
    readonly inputs: Record<string, unknown>;
    /** Mocked outputs (inputs plus the invented values). */
    readonly state: Record<string, unknown>;
    /** URNs this resource depends on (`dependsOn` and the resources its inputs come from). */
    readonly dependencies: readonly string[];
    /** Per input property, the URNs its value comes from. */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    readonly protect: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: readonly string[];
}

export interface RecordedInvoke {
    readonly token: string;
    readonly args: Record<string, unknown>;
}

export interface RecordedLog {
    readonly severity: "warning" | "error";
    readonly message: string;
}

export interface RunResult {
    readonly resources: readonly RecordedResource[];
    readonly invokes: readonly RecordedInvoke[];
    /** What the program logged with `pulumi.log.warn` / `pulumi.log.error`. */
    readonly logs: readonly RecordedLog[];
    readonly outputs: Record<string, unknown>;
    /**
     * The unhandled rejections the run absorbed: an error thrown inside an `apply` and the
     * rejected outputs of the resource it failed. The first is the run's error unless the program
     * threw first. Empty for a run that succeeded.
     */
    readonly rejections: readonly unknown[];
}

export interface RunOptions {
    /** Stack name (the environment defaults to it). */
    readonly stack: string;
    /** Flat config map (`<namespace>:<key>` -> value as Pulumi stores it), e.g. from `loadStackFile`. */
    readonly config?: Readonly<Record<string, string>>;
    /** Run as a preview. Default: false. */
    readonly preview?: boolean;
    /** The program to run. Default: this project's `index.ts`. */
    readonly program?: () => unknown;
    /** Answers to invokes by token, over the runner's own (e.g. a looked-up cluster without OIDC). */
    readonly invokes?: Readonly<Record<string, (args: Record<string, unknown>) => Record<string, unknown>>>;
    /**
     * Mocked state by resource type token, over the runner's own: each function gets the
     * resource's name, its inputs and the state the runner invented, and returns the state the
     * resource reports instead (e.g. a ManagedCluster with a non-https issuer, or with an identity
     * principalId). The resource's ID stays the runner's. Default: the runner's own state for
     * every type.
     */
    readonly resources?: Readonly<Record<string, (resource: MockedResource) => Record<string, unknown>>>;
}

/** What a `RunOptions.resources` override sees of a resource being registered. */
export interface MockedResource {
    /** The resource's Pulumi name (not the Azure name). */
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    /** The state the runner invented: the inputs plus placeholder outputs. */
    readonly state: Record<string, unknown>;
}

/** What `getManagedCluster` answers for an existing cluster: a cluster ready for workload identity. */
export function placeholderExistingCluster(args: Record<string, unknown>): Record<string, unknown> {
    const clusterName = String(args.resourceName);
    const group = String(args.resourceGroupName);
    return {
        id: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${group}/providers/Microsoft.ContainerService/managedClusters/${clusterName}`,
        name: clusterName,
        location: "westeurope",
        oidcIssuerProfile: { enabled: true, issuerURL: placeholderIssuerUrl("westeurope", clusterName) },
        securityProfile: { workloadIdentity: { enabled: true } },
        addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } } },
    };
}

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The config of `Pulumi.<stack>.yaml`, flattened the way the Pulumi CLI hands it to a program. */
export function loadStackFile(file: string): Record<string, string> {
    return readStackFile(file).config;
}

export { flattenConfig };

/** The path of a committed stack file. */
export function stackFilePath(stack: string): string {
    return path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
}

function armId(inputs: Record<string, unknown>, provider: string, type: string, name: string): string {
    const group = typeof inputs.resourceGroupName === "string" ? inputs.resourceGroupName : "rg-placeholder";
    return `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${group}/providers/${provider}/${type}/${name}`;
}

/** Deterministic outputs for the resource types this program registers. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const str = (key: string, fallback: string): string => (typeof inputs[key] === "string" ? (inputs[key]) : fallback);
    switch (type) {
        case TYPES.resourceGroup: {
            const groupName = str("resourceGroupName", name);
            return { id: `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${groupName}`, state: { ...inputs, name: groupName } };
        }
        case TYPES.managedCluster: {
            const clusterName = str("resourceName", name);
            const location = str("location", "westeurope");
            return {
                id: armId(inputs, "Microsoft.ContainerService", "managedClusters", clusterName),
                state: {
                    ...inputs,
                    name: clusterName,
                    fqdn: `${clusterName}-placeholder.hcp.${location}.azmk8s.io`,
                    oidcIssuerProfile: { enabled: true, issuerURL: placeholderIssuerUrl(location, clusterName) },
                },
            };
        }
        case TYPES.agentPool: {
            const poolName = str("agentPoolName", name);
            return { id: `${armId(inputs, "Microsoft.ContainerService", "managedClusters", str("resourceName", "cluster"))}/agentPools/${poolName}`, state: { ...inputs, name: poolName } };
        }
        case TYPES.userAssignedIdentity: {
            const identityName = str("resourceName", name);
            return {
                id: armId(inputs, "Microsoft.ManagedIdentity", "userAssignedIdentities", identityName),
                state: {
                    ...inputs,
                    name: identityName,
                    clientId: placeholderClientId(identityName),
                    principalId: placeholderPrincipalId(identityName),
                    tenantId: PLACEHOLDER_TENANT_ID,
                },
            };
        }
        case TYPES.federatedIdentityCredential: {
            const ficName = str("federatedIdentityCredentialResourceName", name);
            return {
                id: `${armId(inputs, "Microsoft.ManagedIdentity", "userAssignedIdentities", str("resourceName", "identity"))}/federatedIdentityCredentials/${ficName}`,
                state: { ...inputs, name: ficName },
            };
        }
        case TYPES.roleAssignment:
            return { id: `${str("scope", "")}/providers/Microsoft.Authorization/roleAssignments/${str("roleAssignmentName", name)}`, state: { ...inputs, name: str("roleAssignmentName", name) } };
        case TYPES.application: {
            const displayName = str("displayName", name);
            const objectId = placeholderGuid("application-object", displayName);
            return { id: `/applications/${objectId}`, state: { ...inputs, clientId: placeholderClientId(displayName), objectId } };
        }
        case TYPES.servicePrincipal: {
            const clientId = str("clientId", name);
            return {
                id: placeholderGuid("service-principal", clientId),
                state: { ...inputs, objectId: placeholderGuid("service-principal", clientId), applicationTenantId: PLACEHOLDER_TENANT_ID },
            };
        }
        case TYPES.genericResource: {
            const id = `/subscriptions/${PLACEHOLDER_SUBSCRIPTION_ID}/resourceGroups/${str("resourceGroupName", "rg-placeholder")}/providers/${str("resourceProviderNamespace", "")}/${str("parentResourcePath", "")}/${str("resourceType", "")}/${str("resourceName", name)}`;
            if (str("resourceType", "").toLowerCase() !== "identitybindings") {
                return { id, state: inputs };
            }
            const given = (inputs.properties ?? {}) as { managedIdentity?: { resourceId?: unknown } };
            const resourceId = given.managedIdentity?.resourceId;
            const identityName = (typeof resourceId === "string" ? resourceId : name).split("/").pop() as string;
            const properties = {
                ...given,
                oidcIssuer: { oidcIssuerUrl: `https://ib.oic.prod-aks.azure.com/${PLACEHOLDER_TENANT_ID}/${placeholderClientId(identityName)}` },
                provisioningState: "Succeeded",
            };
            return { id, state: { ...inputs, name: str("resourceName", name), properties } };
        }
        default:
            return { id: `${name}-id`, state: inputs };
    }
}

/** A user kubeconfig as AKS returns it for an Entra ID cluster (`format: exec`). */
export function placeholderUserKubeconfig(clusterName: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${clusterName}`,
        "  cluster:",
        "    certificate-authority-data: UExBQ0VIT0xERVI=",
        `    server: https://${clusterName}-placeholder.hcp.westeurope.azmk8s.io:443`,
        "contexts:",
        `- name: ${clusterName}`,
        "  context:",
        `    cluster: ${clusterName}`,
        `    user: clusterUser_${clusterName}`,
        `current-context: ${clusterName}`,
        "users:",
        `- name: clusterUser_${clusterName}`,
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1beta1",
        "      command: kubelogin",
        "      args:",
        "      - get-token",
        "      - --environment",
        "      - AzurePublicCloud",
        "      - --server-id",
        "      - 6dae42f8-4368-4678-94ff-3960e28e3630",
        "      - --client-id",
        "      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a",
        "      - --tenant-id",
        `      - ${PLACEHOLDER_TENANT_ID}`,
        "      - --login",
        "      - devicecode",
        "",
    ].join("\n");
}

/**
 * Runs the program for one stack under mocks and returns what it registered. Rejects with the
 * program's error (a config error among them); `lastRun()` still holds what was recorded up to then.
 */
export function runStack(options: RunOptions): Promise<RunResult> {
    // The SDK's runtime state is global to the process: runs take turns.
    const run = queue.then(() => runOnce(options));
    queue = run.then(
        () => undefined,
        () => undefined,
    );
    return run;
}

let queue: Promise<void> = Promise.resolve();

async function runOnce(options: RunOptions): Promise<RunResult> {
    // Loaded lazily so that importing the runner registers nothing and costs little.
    const pulumi = await import("@pulumi/pulumi");
    const { MockMonitor } = await import("@pulumi/pulumi/runtime/mocks");
    const { deserializeProperties } = await import("@pulumi/pulumi/runtime/rpc");

    const resources: RecordedResource[] = [];
    const invokes: RecordedInvoke[] = [];
    const logs: RecordedLog[] = [];
    current = { resources, invokes, logs, outputs: {}, rejections: [] };

    const mocks: import("@pulumi/pulumi/runtime/mocks").Mocks = {
        newResource: (args) => {
            const inputs = args.inputs as Record<string, unknown>;
            const mocked = mockState(args.type, args.name, inputs);
            const override = options.resources?.[args.type];
            return override === undefined ? mocked : { id: mocked.id, state: override({ name: args.name, inputs, state: mocked.state }) };
        },
        call: (args) => {
            const inputs = args.inputs as Record<string, unknown>;
            invokes.push({ token: args.token, args: inputs });
            const override = options.invokes?.[args.token];
            if (override !== undefined) {
                return override(inputs);
            }
            if (args.token === "azure-native:containerservice:getManagedCluster") {
                return placeholderExistingCluster(inputs);
            }
            if (args.token === "azure-native:containerservice:listManagedClusterUserCredentials") {
                const clusterName = String((args.inputs as Record<string, unknown>).resourceName);
                return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(placeholderUserKubeconfig(clusterName)).toString("base64") }] };
            }
            throw new Error(`The mock runner has no answer for the invoke ${args.token}.`);
        },
    };

    class RecordingMonitor extends MockMonitor {
        public override async registerResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
            const inputs = deserializeProperties(req.getObject()) as Record<string, unknown>;
            const propertyDependencies: Record<string, string[]> = {};
            req.getPropertydependenciesMap().forEach((value: { getUrnsList(): string[] }, property: string) => {
                propertyDependencies[property] = value.getUrnsList();
            });
            return super.registerResource(req, (err: unknown, response: any) => {
                if (!err && response) {
                    resources.push({
                        urn: response.getUrn(),
                        type: req.getType(),
                        name: req.getName(),
                        parent: req.getParent() || undefined,
                        custom: req.getCustom(),
                        provider: req.getProvider() || undefined,
                        inputs,
                        state: response.getObject()?.toJavaScript() ?? {},
                        dependencies: req.getDependenciesList(),
                        propertyDependencies,
                        protect: req.getProtect() === true,
                        deleteBeforeReplace: req.getDeletebeforereplace(),
                        ignoreChanges: req.getIgnorechangesList(),
                    });
                }
                callback(err, response);
            });
        }
    }

    await pulumi.runtime.setMocks(mocks, "aks-workload-identity", options.stack, options.preview ?? false);
    // Replace the plain MockMonitor setMocks installed with the recording one.
    pulumi.runtime.setMockOptions(new RecordingMonitor(mocks), "aks-workload-identity", options.stack, options.preview ?? false);
    pulumi.runtime.setAllConfig({ ...(options.config ?? {}) });

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = options.program ?? (require(path.join(PROJECT_ROOT, "index")) as () => unknown);
    // The program's own error is caught inside the stack so the SDK's internal promises settle
    // quietly, then rethrown once everything has been recorded, as the Pulumi host reports it.
    let failure: { error: unknown } | undefined;
    // Without an engine the SDK's log functions write `<severity>: [runtime] <message>` to the
    // console: record those lines instead of printing them.
    const console = globalThis.console;
    const warn = console.warn.bind(console);
    const error = console.error.bind(console);
    const capture = (severity: RecordedLog["severity"], original: (...data: unknown[]) => void) =>
        (...data: unknown[]): void => {
            const prefix = `${severity}: [runtime] `;
            if (data.length === 1 && typeof data[0] === "string" && data[0].startsWith(prefix)) {
                logs.push({ severity, message: data[0].slice(prefix.length) });
            } else {
                original(...data);
            }
        };
    console.warn = capture("warning", warn);
    console.error = capture("error", error);
    // The Pulumi host reports an error thrown inside an apply (a failed registration) and fails
    // the run; do the same instead of letting it crash the process. The SDK then also rejects
    // every output of the failed resource, and nobody awaits those: the process's other
    // listeners (node:test counts each rejection as a failure of the test file) are held aside
    // while the run lasts, and the run records the rejections itself. Runs take turns, so any
    // rejection meanwhile is taken as this run's.
    const rejections: unknown[] = [];
    let failed: () => void = () => undefined;
    const failedPromise = new Promise<void>((resolve) => (failed = resolve));
    const onUnhandled = (reason: unknown): void => {
        rejections.push(reason);
        failure ??= { error: reason };
        failed();
    };
    const heldListeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onUnhandled);
    let outputs: Record<string, unknown>;
    try {
        outputs =
            (await pulumi.runtime.runInPulumiStack(async () => {
                try {
                    return await Promise.resolve().then(program);
                } catch (programError) {
                    failure = { error: programError };
                    return {};
                }
            })) ?? {};
        // A failed registration never finishes its RPC: stop waiting once the failure is known.
        await Promise.race([pulumi.runtime.disconnect(), failedPromise]);
        // Rejections are reported after the microtask queue drains.
        await new Promise((resolve) => setImmediate(resolve));
        if (failure !== undefined) {
            // The other outputs of a failed resource may be rejected a little later.
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    } finally {
        console.warn = warn;
        console.error = error;
        process.off("unhandledRejection", onUnhandled);
        for (const listener of heldListeners) {
            process.on("unhandledRejection", listener);
        }
    }
    current = { resources, invokes, logs, outputs: failure === undefined ? outputs : {}, rejections };
    if (failure !== undefined) {
        throw failure.error;
    }
    return current;
}

let current: RunResult | undefined;

/** What the latest run recorded, also when it failed. */
export function lastRun(): RunResult | undefined {
    return current;
}

/** Runs a committed stack file (`Pulumi.<stack>.yaml`). */
export function runCommittedStack(stack: string, preview = false): Promise<RunResult> {
    return runStack({ stack, config: loadStackFile(stackFilePath(stack)), preview });
}
