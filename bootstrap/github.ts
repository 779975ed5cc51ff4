/**
 * What the bootstrap and the GitHub workflows agree on: the OIDC subjects GitHub writes into a
 * job's token, and the names of the variables the workflows read. Pure: no resources.
 */

/** Subject of a job that declares `environment: <environment>`, whatever triggered it. */
export function environmentSubject(owner: string, repository: string, environment: string): string {
    return `repo:${owner}/${repository}:environment:${environment}`;
}

/** Subject of a `pull_request` job that declares no environment. */
export function pullRequestSubject(owner: string, repository: string): string {
    return `repo:${owner}/${repository}:pull_request`;
}

/** Repository variables (Settings > Secrets and variables > Actions > Variables): one value for every job. */
export const REPOSITORY_VARIABLES = [
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_STORAGE_ACCOUNT",
    "PULL_REQUEST_AZURE_CLIENT_ID",
    "PULL_REQUEST_PULUMI_BACKEND_URL",
    "PULL_REQUEST_STACK",
    "DEPLOY_RUNS_ON",
] as const;

/** Environment variables (Settings > Environments > <environment>): one value per environment. */
export const ENVIRONMENT_VARIABLES = ["AZURE_CLIENT_ID", "PULUMI_BACKEND_URL"] as const;

export type RepositoryVariable = (typeof REPOSITORY_VARIABLES)[number];
export type EnvironmentVariable = (typeof ENVIRONMENT_VARIABLES)[number];

/** A value for a POSIX shell, in single quotes. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `gh variable set` commands that set every variable, repository ones first, then per environment in order. */
export function ghVariableCommands(
    repository: string,
    repositoryVariables: Readonly<Partial<Record<RepositoryVariable, string>>>,
    environmentVariables: readonly (readonly [string, Readonly<Record<EnvironmentVariable, string>>])[],
): string {
    const lines: string[] = [];
    for (const name of REPOSITORY_VARIABLES) {
        const value = repositoryVariables[name];
        if (value !== undefined) {
            lines.push(`gh variable set ${name} --repo ${repository} --body ${shellQuote(value)}`);
        }
    }
    for (const [environment, variables] of environmentVariables) {
        for (const name of ENVIRONMENT_VARIABLES) {
            lines.push(`gh variable set ${name} --repo ${repository} --env ${environment} --body ${shellQuote(variables[name])}`);
        }
    }
    return lines.join("\n");
}
