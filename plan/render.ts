import { actionCounts, hazards as hazardsOf, type Action, type Change, type DiffReport } from "./diff";
import { CREATE_SECONDS, DEFAULT_CREATE_SECONDS, formatDuration } from "./durations";
import type { PathStep, Plan, PlanFederation, PlanTrustEntry } from "./model";
import { KNOWN_AFTER_DEPLOY, show } from "./unknowns";

/**
 * The plan as a terminal report, as Markdown with a Mermaid diagram (for a pull request), or as
 * JSON (for tools). Values the mocks invent are never printed as if they were real: text and
 * Markdown say "(known after deploy)" (issuers of the stack's own clusters are named by cluster),
 * JSON has `{ "unknown": true }`, and client IDs are not shown at all.
 */

export type PlanFormat = "text" | "markdown" | "json";

const HEADER = "Offline plan: the real program run under Pulumi mocks with this stack's config. Nothing was deployed.";

function shortType(type: string): string {
    const provider = /^pulumi:providers:(.+)$/.exec(type);
    if (provider) {
        return `${provider[1][0].toUpperCase()}${provider[1].slice(1)} provider`;
    }
    return type.split(":").pop()?.split("/").pop() ?? type;
}

function issuerLabel(federation: PlanFederation): string {
    return federation.cluster === undefined ? show(federation.issuer) : `issuer of cluster ${federation.cluster} ${KNOWN_AFTER_DEPLOY}`;
}

function target(federation: PlanFederation): string {
    if (federation.serviceAccount === undefined) {
        return federation.cluster === undefined ? "(issuer outside this stack)" : `NO ServiceAccount in cluster ${federation.cluster}`;
    }
    const { namespace, name, mode } = federation.serviceAccount;
    return `ServiceAccount ${namespace}/${name} in cluster ${federation.cluster ?? "?"} (${mode})`;
}

function timeline(steps: readonly PathStep[]): string[] {
    return steps.map((step) => `${formatDuration(step.startSeconds).padStart(7)}  +${formatDuration(step.seconds).padEnd(7)} ${shortType(step.type)} ${step.name}`);
}

function typeCounts(plan: Plan): string {
    return Object.entries(plan.summary.byType)
        .map(([type, count]) => `${count} ${shortType(type)}`)
        .join(", ");
}

export function renderText(plan: Plan): string {
    const lines: string[] = [`Plan for stack ${plan.stack}`, HEADER, "", "Summary", `  ${plan.summary.total} resources: ${typeCounts(plan)}`];
    for (const cluster of plan.summary.clusters) {
        lines.push(
            `  cluster ${cluster.key}: ${cluster.name}, ${cluster.tier} tier, Kubernetes ${cluster.kubernetesVersion} (${cluster.upgradeChannel} channel), ` +
                `system pool ${cluster.systemPool}${cluster.nodePools.length > 0 ? `, pools ${cluster.nodePools.join("; ")}` : ""}, API server ${cluster.apiServer}${cluster.protect ? ", protected" : ""}`,
        );
    }
    lines.push(`  workloads: ${plan.summary.workloads.length === 0 ? "none" : plan.summary.workloads.join(", ")}`, "", "Trust map");
    for (const entry of plan.trust) {
        lines.push(...trustText(entry));
    }
    if (plan.trust.length === 0) {
        lines.push("  no workloads");
    }
    lines.push("", "Problems", ...(plan.problems.length === 0 ? ["  none"] : plan.problems.map((p) => `  - ${p}`)));
    const { deployment } = plan;
    lines.push(
        "",
        "Deployment order (estimate from the recorded dependency graph)",
        `  critical path ${formatDuration(deployment.seconds)}, lower bound ${formatDuration(deployment.lowerBoundSeconds)}` +
            (deployment.seconds > deployment.lowerBoundSeconds ? ` (${formatDuration(deployment.seconds - deployment.lowerBoundSeconds)} from dependencies the cloud does not need)` : ""),
        ...timeline(deployment.path).map((line) => `  ${line}`),
    );
    if (deployment.seconds > deployment.lowerBoundSeconds) {
        lines.push("  lower bound path:", ...timeline(deployment.lowerBoundPath).map((line) => `  ${line}`));
    }
    return `${lines.join("\n")}\n`;
}

function trustText(entry: PlanTrustEntry): string[] {
    const lines = [`  ${entry.workload}: ${entry.principal.kind} ${entry.principal.name}`];
    for (const federation of entry.federations) {
        lines.push(
            `    FIC ${federation.name}: issuer ${issuerLabel(federation)}`,
            `      subject ${federation.subject}, audience ${federation.audiences.join(", ")}`,
            `      -> ${target(federation)}`,
        );
    }
    for (const binding of entry.bindings) {
        const accounts = binding.serviceAccounts.map((a) => `${a.namespace}/${a.name}`).join(", ") || "none";
        lines.push(
            `    identity binding ${binding.name} on cluster ${binding.cluster ?? "(outside this stack)"} (AKS's aks-identity-binding credential)`,
            `      -> ServiceAccounts allowed by RBAC use-managed-identity: ${accounts}`,
        );
    }
    if (entry.federations.length === 0 && entry.bindings.length === 0) {
        lines.push("    no federated credentials");
    }
    for (const grant of entry.grants) {
        lines.push(`    role ${grant.role} on ${show(grant.scope)} (${grant.key}, principalType ${grant.principalType})`);
    }
    return lines;
}

function mermaidId(...parts: string[]): string {
    return parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");
}

function mermaidLabel(text: string): string {
    return `"${text.replace(/"/g, "#quot;")}"`;
}

/** The last `<type>/<name>` of an ARM ID, enough to tell scopes apart in a diagram. */
function scopeLabel(scope: string): string {
    const parts = scope.split("/").filter((p) => p !== "");
    return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : scope;
}

/** The ServiceAccount a cluster FIC's subject names, and how this stack provides it. */
function subjectAccount(federation: PlanFederation): { namespace: string; name: string; mode: "created" | "patched" | "not created" } | undefined {
    if (federation.serviceAccount !== undefined) {
        return federation.serviceAccount;
    }
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(federation.subject);
    return federation.cluster === undefined || match === null ? undefined : { namespace: match[1], name: match[2], mode: "not created" };
}

/** Node styles: how the stack provides a ServiceAccount is told by its border, not only its label. */
const MERMAID_CLASSES = [
    "  classDef principal fill:#e3f2fd,stroke:#1565c0,color:#0d47a1",
    "  classDef fic fill:#f3e5f5,stroke:#6a1b9a,color:#4a148c",
    "  classDef scope fill:#fffde7,stroke:#9e9d24,color:#33691e",
    "  classDef created fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px,color:#1b5e20",
    "  classDef patched fill:#fff3e0,stroke:#ef6c00,stroke-width:2px,stroke-dasharray:6 4,color:#e65100",
    "  classDef notcreated fill:#fafafa,stroke:#757575,stroke-dasharray:2 3,color:#424242",
];

/**
 * The trust map as a Mermaid flowchart, left to right: role scopes -> principals (one box per
 * workload, with its FICs) -> ServiceAccounts (one box per cluster). Each FIC says which cluster's
 * issuer it trusts; created, patched and merely trusted ServiceAccounts are drawn differently.
 * Render it with `tools/render-mermaid.sh` to check it stays readable.
 */
export function renderMermaid(plan: Plan): string {
    // Wide enough that a namespace/name or an identity name stays on one line.
    const lines = ['%%{init: {"flowchart": {"wrappingWidth": 320}}}%%', "flowchart LR", ...MERMAID_CLASSES];
    const styles: string[] = [];
    const scopes = new Map<string, string>();
    for (const grant of plan.trust.flatMap((entry) => entry.grants)) {
        const scope = show(grant.scope);
        if (!scopes.has(scope)) {
            scopes.set(scope, mermaidId("scope", String(scopes.size + 1)));
        }
    }
    if (scopes.size > 0) {
        lines.push(`  subgraph scopes[${mermaidLabel("Azure role scopes")}]`);
        styles.push("  style scopes fill:#ffffff,stroke:#9e9e9e");
        for (const [scope, id] of scopes) {
            lines.push(`    ${id}[(${mermaidLabel(scopeLabel(scope))})]:::scope`);
        }
        lines.push("  end");
    }
    const edges: string[] = [];
    for (const entry of plan.trust) {
        const principal = mermaidId("principal", entry.workload);
        lines.push(`  subgraph ${mermaidId("workload", entry.workload)}[${mermaidLabel(`workload ${entry.workload}`)}]`);
        styles.push(`  style ${mermaidId("workload", entry.workload)} fill:#ffffff,stroke:#9e9e9e`);
        lines.push(`    ${principal}[${mermaidLabel(`${entry.principal.kind}<br/>${entry.principal.name}`)}]:::principal`);
        for (const federation of entry.federations) {
            const fic = mermaidId("fic", entry.workload, federation.name);
            const trusts = federation.cluster === undefined ? `issuer ${show(federation.issuer)}` : `trusts cluster ${federation.cluster}`;
            lines.push(`    ${fic}([${mermaidLabel(`FIC ${federation.name}<br/>${trusts}`)}]):::fic`);
            edges.push(`  ${principal} --> ${fic}`);
            const account = subjectAccount(federation);
            if (account !== undefined && federation.cluster !== undefined) {
                edges.push(`  ${fic} --> ${mermaidId("sa", federation.cluster, account.namespace, account.name)}`);
            }
        }
        for (const binding of entry.bindings) {
            const id = mermaidId("binding", entry.workload, binding.name);
            lines.push(`    ${id}{{${mermaidLabel(`identity binding ${binding.name}<br/>cluster ${binding.cluster ?? "?"}`)}}}:::fic`);
            edges.push(`  ${principal} --> ${id}`);
            const bindingCluster = binding.cluster;
            if (bindingCluster !== undefined) {
                for (const account of binding.serviceAccounts) {
                    edges.push(`  ${id} -. ${mermaidLabel("RBAC use-managed-identity")} .-> ${mermaidId("sa", bindingCluster, account.namespace, account.name)}`);
                }
            }
        }
        lines.push("  end");
        for (const grant of entry.grants) {
            edges.push(`  ${scopes.get(show(grant.scope)) as string} -- ${mermaidLabel(`grants ${grant.role}`)} --> ${principal}`);
        }
    }
    for (const cluster of plan.summary.clusters) {
        lines.push(`  subgraph ${mermaidId("cluster", cluster.key)}[${mermaidLabel(`cluster ${cluster.key} (${cluster.name})`)}]`);
        styles.push(`  style ${mermaidId("cluster", cluster.key)} fill:#eceff1,stroke:#455a64,stroke-width:2px`);
        const accounts = new Map<string, string>();
        for (const federation of plan.trust.flatMap((e) => e.federations).filter((f) => f.cluster === cluster.key)) {
            const account = subjectAccount(federation);
            if (account !== undefined) {
                const id = mermaidId("sa", cluster.key, account.namespace, account.name);
                const style = account.mode === "not created" ? "notcreated" : account.mode;
                const how = { created: "created by this stack", patched: "patched: annotations only", "not created": "not created by this stack" }[account.mode];
                accounts.set(id, `    ${id}[${mermaidLabel(`ServiceAccount<br/>${account.namespace}/${account.name}<br/>${how}`)}]:::${style}`);
            }
        }
        for (const binding of plan.trust.flatMap((e) => e.bindings).filter((b) => b.cluster === cluster.key)) {
            for (const account of binding.serviceAccounts) {
                const id = mermaidId("sa", cluster.key, account.namespace, account.name);
                if (!accounts.has(id)) {
                    accounts.set(id, `    ${id}[${mermaidLabel(`ServiceAccount<br/>${account.namespace}/${account.name}<br/>allowed by the identity binding`)}]:::notcreated`);
                }
            }
        }
        lines.push(...accounts.values(), "  end");
    }
    lines.push(...edges, ...styles);
    return lines.join("\n");
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|");
}

export function renderMarkdown(plan: Plan): string {
    const lines = [
        `# Plan for stack \`${plan.stack}\``,
        "",
        `${HEADER} Regenerate with \`npm run plan -- --stack ${plan.stack} --format markdown --out docs/plans/${plan.stack}.md\`.`,
        "",
        "## Summary",
        "",
        `${plan.summary.total} resources: ${typeCounts(plan)}.`,
        "",
        "| cluster | Azure name | tier | Kubernetes | system pool | other pools | API server | protected |",
        "|---|---|---|---|---|---|---|---|",
        ...plan.summary.clusters.map(
            (c) =>
                `| ${c.key} | ${c.name} | ${c.tier} | ${c.kubernetesVersion} (${c.upgradeChannel}) | ${cell(c.systemPool)} | ${cell(c.nodePools.join("; ") || "none")} | ${cell(c.apiServer)} | ${c.protect ? "yes" : "no"} |`,
        ),
        "",
        "## Trust map",
        "",
        "```mermaid",
        renderMermaid(plan),
        "```",
        "",
        "| workload | principal | FIC | issuer | subject | trusts | roles |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const entry of plan.trust) {
        const roles = entry.grants.map((g) => `${g.role} on \`${show(g.scope)}\``).join("<br>") || "none";
        const rows = entry.federations.length > 0 ? entry.federations : [undefined];
        rows.forEach((federation, index) => {
            lines.push(
                `| ${index === 0 ? entry.workload : ""} | ${index === 0 ? `${entry.principal.kind} ${entry.principal.name}` : ""} | ${federation?.name ?? "none"} | ${cell(federation ? issuerLabel(federation) : "")} | ${federation ? `\`${federation.subject}\`` : ""} | ${federation ? cell(target(federation)) : ""} | ${index === 0 ? cell(roles) : ""} |`,
            );
        });
    }
    lines.push("", "## Problems", "", ...(plan.problems.length === 0 ? ["None."] : plan.problems.map((p) => `- ${p}`)));
    const { deployment } = plan;
    lines.push(
        "",
        "## Deployment order",
        "",
        `Critical path **${formatDuration(deployment.seconds)}**, lower bound ${formatDuration(deployment.lowerBoundSeconds)}, from the recorded dependency graph and the create times in \`plan/durations.ts\`.`,
        "",
        "| starts at | takes | resource |",
        "|---|---|---|",
        ...deployment.path.map((step) => `| ${formatDuration(step.startSeconds)} | ${formatDuration(step.seconds)} | ${shortType(step.type)} \`${step.name}\` |`),
        "",
    );
    return lines.join("\n");
}

export function renderJson(plan: Plan): string {
    return `${JSON.stringify({ ...plan, createSeconds: { ...CREATE_SECONDS, default: DEFAULT_CREATE_SECONDS } }, null, 2)}\n`;
}

export function render(plan: Plan, format: PlanFormat): string {
    switch (format) {
        case "markdown":
            return renderMarkdown(plan);
        case "json":
            return renderJson(plan);
        default:
            return renderText(plan);
    }
}

const DIFF_HEADER = "The program run offline under Pulumi mocks with both configs, each resource classified by the providers' replace rules (plan/replacements.ts). Nothing was deployed.";

const SYMBOL: Readonly<Record<Action, string>> = { create: "+", update: "~", replace: "+-", delete: "-" };

function counts(report: DiffReport): string {
    const c = actionCounts(report.diff);
    const parts = (["create", "update", "replace", "delete"] as const).filter((action) => c[action] > 0).map((action) => `${c[action]} to ${action}`);
    return parts.length === 0 ? `no changes, ${c.unchanged} unchanged` : `${parts.join(", ")}, ${c.unchanged} unchanged`;
}

function pathList(change: Change, paths: readonly string[], code: (path: string) => string): string {
    return paths.map((path) => `${code(path)}${change.unknownPaths.includes(path) ? ` ${KNOWN_AFTER_DEPLOY}` : ""}`).join(", ");
}

/** What changes about a resource, in words. */
function changeDetail(change: Change, code: (path: string) => string = (path) => path): string {
    switch (change.action) {
        case "update":
            return pathList(change, change.paths, code);
        case "replace": {
            const why = change.paths.length > 0 ? `${pathList(change, change.paths, code)} ${change.paths.length === 1 ? "forces" : "force"} it` : (change.cause ?? "");
            const also = change.otherPaths.length > 0 ? `; also ${pathList(change, change.otherPaths, code)}` : "";
            return `${why}${also} (${change.deleteFirst === true ? "deleted before the new one is created" : "created before the old one is deleted"})`;
        }
        default:
            return "";
    }
}

function hazardFooter(report: DiffReport): string {
    return report.allowReplace ? "--allow-replace is given: the command does not fail on them." : "The command exits 3 unless --allow-replace is given.";
}

export function renderDiffText(report: DiffReport): string {
    const lines = [`Diff for stack ${report.stack}: ${report.base} -> ${report.current}`, DIFF_HEADER, ""];
    const width = Math.max(0, ...report.diff.changes.map((c) => shortType(c.type).length));
    for (const change of report.diff.changes) {
        const detail = changeDetail(change);
        lines.push(`  ${SYMBOL[change.action].padEnd(2)} ${change.action.padEnd(7)} ${shortType(change.type).padEnd(width)}  ${change.name}${detail === "" ? "" : `: ${detail}`}`);
    }
    lines.push(...(report.diff.changes.length === 0 ? [] : [""]), `  ${counts(report)}`);
    const found = hazardsOf(report.diff);
    if (found.length > 0) {
        lines.push("", `Hazards (${found.length})`);
        for (const change of report.diff.changes) {
            lines.push(...change.hazards.map((hazard) => `  ! ${shortType(change.type)} ${change.name} [${hazard.code}]: ${hazard.message}`));
        }
        lines.push(`  ${hazardFooter(report)}`);
    }
    if (report.policy.length > 0) {
        lines.push("", "Mandatory policies that fail", ...report.policy.map((f) => `  - ${f.policy}${f.resource === undefined ? "" : ` on ${f.resource}`}: ${f.message}`));
    }
    return `${lines.join("\n")}\n`;
}

export function renderDiffMarkdown(report: DiffReport): string {
    const code = (text: string): string => `\`${text}\``;
    const lines = [
        `### Offline diff of stack \`${report.stack}\``,
        "",
        `${report.base} -> ${report.current}. ${DIFF_HEADER}`,
        "",
        `**${counts(report)}.**`,
    ];
    const found = hazardsOf(report.diff);
    if (found.length > 0) {
        lines.push("", "> [!CAUTION]", `> **${found.length} ${found.length === 1 ? "hazard" : "hazards"}.** ${hazardFooter(report)}`);
        for (const change of report.diff.changes) {
            lines.push(...change.hazards.map((hazard) => `> - **${shortType(change.type)} \`${change.name}\`** (${hazard.code}): ${cell(hazard.message)}`));
        }
    }
    if (report.diff.changes.length > 0) {
        lines.push("", "| | resource | type | what changes |", "|---|---|---|---|");
        for (const change of report.diff.changes) {
            lines.push(`| ${SYMBOL[change.action]} ${change.action} | \`${change.name}\` | ${shortType(change.type)} | ${cell(changeDetail(change, code))} |`);
        }
    }
    if (report.policy.length > 0) {
        lines.push("", "**Mandatory policies that fail:**", "", ...report.policy.map((f) => `- ${f.policy}${f.resource === undefined ? "" : ` on \`${f.resource}\``}: ${f.message}`));
    }
    lines.push("");
    return lines.join("\n");
}

export function renderDiffJson(report: DiffReport): string {
    const { diff, ...rest } = report;
    return `${JSON.stringify({ ...rest, summary: actionCounts(diff), hazards: hazardsOf(diff).length, changes: diff.changes }, null, 2)}\n`;
}

export function renderDiff(report: DiffReport, format: PlanFormat): string {
    switch (format) {
        case "markdown":
            return renderDiffMarkdown(report);
        case "json":
            return renderDiffJson(report);
        default:
            return renderDiffText(report);
    }
}
