import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ACCESS_TIMEOUT_MS, kubeconfigTokenGetter, readKubeconfig, sha256Hex, waitForKubernetesAccess } from "./rbac-readiness";

/** The type token: `pulumi-nodejs:dynamic/<module>:<type>` is how the SDK names a dynamic resource. */
export const RBAC_READINESS_MODULE = "aks-workload-identity";
export const RBAC_READINESS_TYPE = "KubernetesRbacReadiness";
export const RBAC_READINESS_TOKEN = `pulumi-nodejs:dynamic/${RBAC_READINESS_MODULE}:${RBAC_READINESS_TYPE}`;

export interface KubernetesRbacReadinessArgs {
    /**
     * The kubeconfig whose current user must be let in: the one the Kubernetes provider uses. Stored
     * as a secret whatever is passed.
     */
    kubeconfig: pulumi.Input<string>;
    /**
     * The namespaces in which the access is checked, one SelfSubjectAccessReview each.
     * Default: [] - one review without a namespace: the access in every namespace, which is what
     * "Azure Kubernetes Service RBAC Cluster Admin" grants.
     */
    namespaces?: pulumi.Input<pulumi.Input<string>[]>;
    /** The verb checked. Default: "create". */
    verb?: pulumi.Input<string>;
    /** The resource checked (plural). Default: "serviceaccounts". */
    resource?: pulumi.Input<string>;
    /** The API group of `resource`. Default: "" - the core group. */
    group?: pulumi.Input<string>;
    /** How long to wait for RBAC to let the user in before the deploy fails. Default: 600 (10 minutes). */
    timeoutSeconds?: pulumi.Input<number>;
    /**
     * Values whose change runs the check again on the next `pulumi up`, e.g. the IDs of the role
     * assignments that grant the access. Default: [] - only a change of the other inputs does.
     */
    triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

/** The inputs as the provider receives them (secrets unwrapped: the dynamic provider does not accept secrets). */
interface ReadinessInputs {
    readonly kubeconfig: string;
    readonly namespaces: readonly string[];
    readonly verb: string;
    readonly resource: string;
    readonly group: string;
    readonly timeoutSeconds: number;
    readonly triggers: readonly string[];
}

/** What the state keeps: everything but the kubeconfig, which only its hash stands for. */
type ReadinessOutputs = Omit<ReadinessInputs, "kubeconfig"> & { readonly kubeconfigSha256: string };

function readinessOutputs(inputs: ReadinessInputs): ReadinessOutputs {
    return {
        kubeconfigSha256: sha256Hex(String(inputs.kubeconfig)),
        namespaces: inputs.namespaces,
        verb: inputs.verb,
        resource: inputs.resource,
        group: inputs.group,
        timeoutSeconds: inputs.timeoutSeconds,
        triggers: inputs.triggers,
    };
}

/**
 * Runs the wait in the dynamic provider's process. Progress goes to stdout with `console.log`: a
 * dynamic provider has no engine connection, so `pulumi.log.info` could not attach a message to
 * the resource and falls back to `console.log("info: [runtime] ...")` there anyway
 * (`@pulumi/pulumi/log`, pulumi/pulumi#6065, #18249); the CLI passes a dynamic provider's console
 * output through since 3.146.0 (pulumi/pulumi#18253, CHANGELOG).
 */
async function awaitReadiness(inputs: ReadinessInputs): Promise<ReadinessOutputs> {
    const endpoint = readKubeconfig(inputs.kubeconfig);
    const checks =
        inputs.namespaces.length === 0
            ? [{ verb: inputs.verb, resource: inputs.resource, group: inputs.group }]
            : inputs.namespaces.map((namespace) => ({ verb: inputs.verb, resource: inputs.resource, group: inputs.group, namespace }));
    await waitForKubernetesAccess({
        server: endpoint.server,
        caData: endpoint.caData,
        tlsServerName: endpoint.tlsServerName,
        getToken: kubeconfigTokenGetter(endpoint),
        checks,
        timeoutMs: inputs.timeoutSeconds * 1000,
        onProgress: (message) => console.log(message),
    });
    return readinessOutputs(inputs);
}

/**
 * The provider Pulumi serializes into the resource's `__provider` input. Create and update wait;
 * the engine never calls them in a preview (the dynamic provider does not report preview support,
 * so `pulumi/pulumi` `provider_plugin.go` `Create` hands back the inputs), and under
 * `pulumi.runtime.setMocks` the mocks answer the registration. Delete has nothing to undo.
 */
const readinessProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ReadinessInputs): Promise<pulumi.dynamic.CreateResult> {
        const outs = await awaitReadiness(inputs);
        return { id: outs.kubeconfigSha256.slice(0, 16), outs };
    },
    diff(_id: string, olds: Partial<ReadinessOutputs>, news: ReadinessInputs): Promise<pulumi.dynamic.DiffResult> {
        const next = readinessOutputs(news);
        const changed = (Object.keys(next) as (keyof ReadinessOutputs)[]).filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(next[key]));
        return Promise.resolve({ changes: changed.length > 0, replaces: [], deleteBeforeReplace: false });
    },
    async update(_id: string, _olds: ReadinessOutputs, news: ReadinessInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await awaitReadiness(news) };
    },
};

/**
 * Waits, at deploy time, until Kubernetes RBAC lets the kubeconfig's user `verb` `resource` in
 * each namespace (a SelfSubjectAccessReview polled with backoff, see `waitForKubernetesAccess`),
 * so that Kubernetes objects that `dependsOn` it are not created while a new Azure RBAC role
 * assignment is still propagating. Runs on create and whenever an input changes; a preview and a
 * mock run only register it. The kubeconfig stays a secret input; the state's outputs hold its
 * SHA-256, never the kubeconfig.
 */
export class KubernetesRbacReadiness extends pulumi.dynamic.Resource {
    /** SHA-256 of the kubeconfig the check last ran with. */
    declare public readonly kubeconfigSha256: pulumi.Output<string>;
    declare public readonly namespaces: pulumi.Output<string[]>;
    declare public readonly verb: pulumi.Output<string>;
    declare public readonly resource: pulumi.Output<string>;
    declare public readonly group: pulumi.Output<string>;
    declare public readonly timeoutSeconds: pulumi.Output<number>;
    declare public readonly triggers: pulumi.Output<string[]>;

    constructor(name: string, args: KubernetesRbacReadinessArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            readinessProvider,
            name,
            {
                kubeconfig: pulumi.secret(args.kubeconfig),
                namespaces: args.namespaces ?? [],
                verb: args.verb ?? "create",
                resource: args.resource ?? "serviceaccounts",
                group: args.group ?? "",
                timeoutSeconds: args.timeoutSeconds ?? DEFAULT_ACCESS_TIMEOUT_MS / 1000,
                triggers: args.triggers ?? [],
                kubeconfigSha256: undefined,
            },
            opts,
            RBAC_READINESS_MODULE,
            RBAC_READINESS_TYPE,
        );
    }
}
