/**
 * The rules of a cluster's own network (bring your own subnet): pure, shared by the stack config
 * and the WorkloadIdentityCluster args, so both refuse the same ranges with the same words.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as an unsigned 32-bit number, or undefined. */
export function parseIpv4(text: string): number | undefined {
    const match = IPV4.exec(text);
    if (match === null) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    return octets.every((octet) => octet <= 255) ? octets.reduce((sum, octet) => sum * 256 + octet, 0) : undefined;
}

export function formatIpv4(address: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/** An IPv4 range: its first address and its size. */
export interface Ipv4Range {
    readonly first: number;
    readonly size: number;
    readonly prefix: number;
}

/** `a.b.c.d/n` as a range, with whether the address is the range's network address. */
export function parseCidr(text: string): (Ipv4Range & { readonly aligned: boolean }) | undefined {
    const [address, prefixText, extra] = text.split("/");
    if (prefixText === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
        return undefined;
    }
    const ip = parseIpv4(address);
    if (ip === undefined) {
        return undefined;
    }
    const prefix = Number(prefixText);
    const size = 2 ** (32 - prefix);
    const first = Math.floor(ip / size) * size;
    return { first, size, prefix, aligned: first === ip };
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
    return a.first < b.first + b.size && b.first < a.first + a.size;
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
    return address >= range.first && address < range.first + range.size;
}

/**
 * Ranges AKS refuses for the pod, service and cluster network ranges (MicrosoftDocs/azure-aks-docs
 * articles/aks/concepts-network-cni-overview.md, "AKS CNI networking prerequisites").
 */
export const AKS_RESERVED_RANGES: readonly string[] = ["169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"];

/** What AKS uses when the network profile leaves a range out (as the azure-native SDK sends them too). */
export const AKS_NETWORK_DEFAULTS = { podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIp: "10.0.0.10" } as const;

export function networkRangeProblem(cidr: string): string | undefined {
    const range = parseCidr(cidr);
    if (range === undefined) {
        return `invalid CIDR "${cidr}". Allowed values are IPv4 ranges with a prefix length, such as 10.244.0.0/16.`;
    }
    if (!range.aligned) {
        return `"${cidr}" is not the first address of its range. Allowed values are network addresses: did you mean "${formatIpv4(range.first)}/${range.prefix}"?`;
    }
    const reserved = AKS_RESERVED_RANGES.find((other) => rangesOverlap(range, parseCidr(other) as Ipv4Range));
    return reserved === undefined
        ? undefined
        : `"${cidr}" overlaps ${reserved}, which AKS reserves: ${AKS_RESERVED_RANGES.join(", ")} are refused for the pod and service ranges.`;
}

export function serviceCidrProblem(cidr: string): string | undefined {
    const problem = networkRangeProblem(cidr);
    if (problem !== undefined) {
        return problem;
    }
    // kube-apiserver refuses a service range larger than /12 ("for 32-bit addresses, the mask must
    // be >= 12"); AKS documents it as "smaller than /12" (articles/aks/use-byo-cni.md).
    const prefix = (parseCidr(cidr) as Ipv4Range).prefix;
    return prefix < 12 ? `"${cidr}" is too large a service range. Allowed values are ranges of at most a /12.` : undefined;
}

export function ipAddressProblem(address: string): string | undefined {
    return parseIpv4(address) === undefined ? `invalid IP address "${address}". Allowed values are IPv4 addresses such as 10.0.0.10.` : undefined;
}

const SUBNET_ID = /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Network\/virtualNetworks\/[-\w.]{2,64}\/subnets\/[-\w.]{1,80}$/i;

export function subnetIdProblem(resourceId: string): string | undefined {
    return SUBNET_ID.test(resourceId)
        ? undefined
        : `invalid subnet ID "${resourceId}". Allowed values are /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>.`;
}

const PRIVATE_DNS_ZONE_ID = /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Network\/privateDnsZones\/((?:[a-z0-9-]{1,32}\.)?privatelink\.([a-z0-9]+)\.[a-z0-9.-]+)$/i;

/**
 * `system` (AKS creates the zone), `none`, or the ID of a zone of your own named
 * `privatelink.<region>.azmk8s.io` or `<subzone>.privatelink.<region>.azmk8s.io` (subzone at most 32
 * characters) in the global cloud (articles/aks/private-clusters.md, "Configure a private DNS zone").
 */
export function privateDnsZoneProblem(zone: string): string | undefined {
    return zone === "system" || zone === "none" || PRIVATE_DNS_ZONE_ID.test(zone)
        ? undefined
        : `invalid private DNS zone "${zone}". Allowed values are: system, none, or the ID of a private DNS zone named privatelink.<region>.azmk8s.io or <subzone>.privatelink.<region>.azmk8s.io (/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/privateDnsZones/<zone>).`;
}

/** The network fields a rule reads, with which were given and which failed their own checks. */
export interface NetworkRuleInput {
    readonly podCidr?: string;
    readonly serviceCidr?: string;
    readonly dnsServiceIp?: string;
    readonly privateDnsZone?: string;
    /** The fields given (a DNS zone left at its default is not). */
    readonly given: ReadonlySet<string>;
    /** The fields refused already, or known only at deploy time: the rules between fields skip them. */
    readonly invalid: ReadonlySet<string>;
}

/** `.10` of a range (or its second address for a small one): a suggestion for the DNS service IP. */
function suggestedDnsServiceIp(range: Ipv4Range): string {
    return formatIpv4(range.first + (range.size > 16 ? 10 : 1));
}

/** The rules between the network fields, on the ranges AKS will use (its defaults where none is given). */
export function networkProblems(network: NetworkRuleInput, privateCluster: boolean, location: string | undefined): [string, string][] {
    const found: [string, string][] = [];
    const explicitDnsZone = network.given.has("privateDnsZone") && !network.invalid.has("privateDnsZone");
    if (explicitDnsZone && !privateCluster) {
        found.push(["privateDnsZone", `"${network.privateDnsZone as string}" is only used by a private cluster; set private: true or remove privateDnsZone.`]);
    }
    const zone = PRIVATE_DNS_ZONE_ID.exec(network.privateDnsZone ?? "");
    if (explicitDnsZone && privateCluster && zone !== null && location !== undefined && zone[2].toLowerCase() !== location.toLowerCase()) {
        found.push([
            "privateDnsZone",
            `"${network.privateDnsZone as string}" is the zone of region ${zone[2]}, but the cluster is in ${location}: AKS needs privatelink.${location}.azmk8s.io (or a subzone of it).`,
        ]);
    }
    if (["podCidr", "serviceCidr", "dnsServiceIp"].some((field) => network.invalid.has(field))) {
        return found;
    }
    const podText = network.podCidr ?? AKS_NETWORK_DEFAULTS.podCidr;
    const serviceText = network.serviceCidr ?? AKS_NETWORK_DEFAULTS.serviceCidr;
    const dnsText = network.dnsServiceIp ?? AKS_NETWORK_DEFAULTS.dnsServiceIp;
    const pod = parseCidr(podText) as Ipv4Range;
    const service = parseCidr(serviceText) as Ipv4Range;
    const dns = parseIpv4(dnsText) as number;
    const serviceNote = network.serviceCidr === undefined ? " (the default)" : "";
    if (rangesOverlap(pod, service)) {
        found.push(
            network.podCidr !== undefined
                ? ["podCidr", `"${podText}" overlaps serviceCidr "${serviceText}"${serviceNote}: the pod and service ranges must not overlap.`]
                : ["serviceCidr", `"${serviceText}" overlaps podCidr "${podText}" (the default): the pod and service ranges must not overlap.`],
        );
    }
    // "The DNS service IP must be within the service CIDR range and must not be the first IP address
    // in the range" (articles/aks/use-byo-cni.md; concepts-network-cni-overview.md).
    if (!rangeContains(service, dns)) {
        found.push(
            network.dnsServiceIp !== undefined
                ? ["dnsServiceIp", `"${dnsText}" is not inside serviceCidr "${serviceText}"${serviceNote}: the DNS service IP must be inside the service range, e.g. "${suggestedDnsServiceIp(service)}".`]
                : ["serviceCidr", `"${serviceText}" does not contain the default dnsServiceIp ${dnsText}: give dnsServiceIp too, e.g. "${suggestedDnsServiceIp(service)}".`],
        );
    } else if (dns === service.first) {
        found.push(
            network.dnsServiceIp !== undefined
                ? ["dnsServiceIp", `"${dnsText}" is the first address of serviceCidr "${serviceText}"${serviceNote}, which Kubernetes gives its own API service: use another, e.g. "${suggestedDnsServiceIp(service)}".`]
                : ["serviceCidr", `"${serviceText}" starts at the default dnsServiceIp ${dnsText}, which Kubernetes gives its own API service: give dnsServiceIp too, e.g. "${suggestedDnsServiceIp(service)}".`],
        );
    }
    return found;
}
