#!/usr/bin/env bash
# One Pulumi command of pipelines/templates/pulumi-steps.yml, run by an AzureCLI@2 task on a
# workload identity federation service connection (addSpnToEnvironment: true).
#
# Usage: pipelines/templates/pulumi.sh preview|up
#   STACK, PULUMI_BACKEND_URL, AZURE_STORAGE_ACCOUNT  the stack and its team state
#   REFRESH=true                                     preview with --refresh (a deployment's preview)
#   SYSTEM_ACCESSTOKEN                               $(System.AccessToken), for the job's OIDC endpoint
#   SUMMARY_DIRECTORY                                where the run summary goes ($(Agent.TempDirectory))
#
# No tool gets the one federated token the task hands its script (valid 10 minutes):
# pipelines/federated-token.ts asks the job's OIDC endpoint (SYSTEM_OIDCREQUESTURI, "oidctoken") for
# a fresh token whenever a tool needs one, for the job's whole timeout (docs/team-setup.md, "How long
# the pipeline's credentials last").
set -euo pipefail

command="${1:-}"
case "$command" in
  preview | up) ;;
  *) echo "usage: pipelines/templates/pulumi.sh preview|up" >&2; exit 2 ;;
esac
: "${STACK:?STACK is not set}" "${PULUMI_BACKEND_URL:?PULUMI_BACKEND_URL is not set}" "${AZURE_STORAGE_ACCOUNT:?AZURE_STORAGE_ACCOUNT is not set}"
: "${servicePrincipalId:?servicePrincipalId is not set: the AzureCLI@2 task needs addSpnToEnvironment: true}" "${tenantId:?tenantId is not set}"

ARM_SUBSCRIPTION_ID="$(az account show --query id -o tsv)"
export ARM_SUBSCRIPTION_ID
# azure-native and azuread: OIDC with the GitHub-style token request federated-token.ts --serve
# answers on 127.0.0.1 (neither can call the Azure Pipelines endpoint, a POST, itself).
export ARM_USE_OIDC=true ARM_CLIENT_ID="$servicePrincipalId" ARM_TENANT_ID="$tenantId"
# kubelogin reads the login method from here at run time, whatever the kubeconfig in the state says.
export AAD_LOGIN_METHOD=workloadidentity
export AZURE_CLIENT_ID="$servicePrincipalId" AZURE_TENANT_ID="$tenantId" AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/
# The task's Azure CLI login holds that one 10-minute assertion: an empty CLI profile, so that no
# tool (DefaultAzureCredential tries the CLI last) can fall back to it and fail an hour later.
AZURE_CONFIG_DIR="$(mktemp -d)"
export AZURE_CONFIG_DIR
export PULUMI_SKIP_UPDATE_CHECK=true

run() {
  npx --no-install tsx pipelines/federated-token.ts --serve -- "$@"
}

if [ "$command" = preview ]; then
  # A deployment previews with --refresh, as its update runs; the read-only pull-request preview without.
  refresh=()
  if [ "${REFRESH:-false}" = "true" ] || [ "${REFRESH:-false}" = "True" ]; then refresh=(--refresh); fi
  output="${SUMMARY_DIRECTORY:-${TMPDIR:-/tmp}}/preview-${STACK}.txt"
  status=0
  run pulumi preview --stack "$STACK" --diff "${refresh[@]}" --non-interactive --policy-pack policy > "$output" 2>&1 || status=$?
  cat "$output"
  summary="${SUMMARY_DIRECTORY:-${TMPDIR:-/tmp}}/preview-${STACK}.md"
  { echo "## pulumi preview of ${STACK}"; echo; echo '```'; cat "$output"; echo '```'; } > "$summary"
  echo "##vso[task.uploadsummary]${summary}"
  exit "$status"
fi

# --refresh: ignored changes (autoscaled node counts) are re-sent unless the run refreshes.
run pulumi up --stack "$STACK" --refresh --yes --skip-preview --non-interactive --policy-pack policy
