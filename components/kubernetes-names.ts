/**
 * Kubernetes name rules, with no dependency on the Pulumi runtime, so that the policy pack can
 * load them cheaply.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes namespace: an RFC 1123 label, not `kube-system`. */
export function namespaceProblem(namespace: string): string | undefined {
    if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
        return `invalid namespace "${namespace}". Allowed values are RFC 1123 labels: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit.`;
    }
    if (namespace === "kube-system") {
        return 'namespace "kube-system" is refused: AKS excludes it from the workload identity webhook, so pods there never get a token.';
    }
    return undefined;
}

/** A ServiceAccount name: an RFC 1123 subdomain. */
export function serviceAccountNameProblem(name: string): string | undefined {
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
        return `invalid ServiceAccount name "${name}". Allowed values are RFC 1123 subdomains: at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit.`;
    }
    return undefined;
}
