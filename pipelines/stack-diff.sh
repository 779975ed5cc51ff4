#!/usr/bin/env bash
# The offline diff of every stack file a pull request changes, as one Markdown document for a
# pull-request comment: `npm run --silent plan -- --stack <s> --base <base-ref> --format markdown`
# for each changed Pulumi.<s>.yaml (the plan CLI, tools/plan.ts: create, update, replace and
# delete per resource, and the hazards). Used by .github/workflows/pull-request.yml and
# pipelines/azure-devops.yml.
#
# Usage: pipelines/stack-diff.sh BASE_REF OUT_FILE
#   BASE_REF       the target branch as a ref of this checkout (origin/main): check out with the full
#                  history (GitHub fetch-depth: 0, Azure Pipelines fetchDepth: 0)
#   OUT_FILE       receives the Markdown, empty when no stack file changed
# Environment:
#   ALLOW_REPLACE  "true" when the pull request carries the label allow-replace: the plan gets
#                  --allow-replace and reports hazards instead of refusing them
#   STACK_DIFF_MAX_BYTES  cut the Markdown to this size (default 60000; a GitHub comment holds 65536)
#   STACK_DIFF_PLAN       the plan command (default "npm run --silent plan --"; tests replace it)
# Exit codes: 0 no stack file changed or every diff passed; otherwise the exit code of the first
# plan that failed (3 a hazard without allow-replace, 1 a config or program error, 4 a mandatory
# policy, 5 a missing permission); 2 usage.
set -euo pipefail

if [ "$#" -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: pipelines/stack-diff.sh BASE_REF OUT_FILE" >&2
  exit 2
fi
base="$1"
out="$2"
if ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
  echo "stack-diff: ${base} is not in this checkout: check out with the full history (GitHub fetch-depth: 0, Azure Pipelines fetchDepth: 0)." >&2
  exit 2
fi
read -r -a plan <<< "${STACK_DIFF_PLAN:-npm run --silent plan --}"
max_bytes="${STACK_DIFF_MAX_BYTES:-60000}"
marker='<!-- aks-workload-identity:stack-diff -->'

# Stack files of the main program live in the repository root; a deleted one is not deployed.
mapfile -t stacks < <(git diff --name-only --diff-filter=ACMR "${base}...HEAD" | sed -n 's/^Pulumi\.\([^/]*\)\.yaml$/\1/p' | sort)
: > "$out"
if [ "${#stacks[@]}" -eq 0 ]; then
  echo "stack-diff: no stack file changed against ${base}."
  exit 0
fi

overall=0
section="$(mktemp)"
trap 'rm -f "$section"' EXIT
{
  echo "$marker"
  echo "## Offline diff of the changed stacks against \`${base}\`"
  echo
  echo "The program under mocks, with each stack file as of \`${base}\` and as in this pull request (\`npm run plan -- --base\`)."
} >> "$out"
for stack in "${stacks[@]}"; do
  args=(--stack "$stack" --format markdown)
  new=false
  if git cat-file -e "${base}:Pulumi.${stack}.yaml" 2>/dev/null; then
    args+=(--base "$base")
  else
    new=true
  fi
  if [ "${ALLOW_REPLACE:-false}" = "true" ]; then
    args+=(--allow-replace)
  fi
  status=0
  "${plan[@]}" "${args[@]}" > "$section" || status=$?
  {
    echo
    echo "### \`Pulumi.${stack}.yaml\`"
    echo
    if [ "$new" = true ]; then
      echo "A new stack: not in \`${base}\`, so this is its whole plan."
      echo
    fi
    cat "$section"
    echo
    case "$status" in
      0) ;;
      3) echo "**Refused (exit 3): this change replaces or deletes something that breaks what depends on it (see the hazards above). If that is intended, add the label \`allow-replace\` to the pull request.**" ;;
      *) echo "**The plan failed (exit ${status}).**" ;;
    esac
  } >> "$out"
  case "$status" in
    0) echo "stack-diff: ${stack}: ok" ;;
    3) echo "stack-diff: ${stack}: a hazard without the label allow-replace (exit 3)" >&2 ;;
    *) echo "stack-diff: ${stack}: the plan failed (exit ${status})" >&2 ;;
  esac
  if [ "$status" -ne 0 ] && [ "$overall" -eq 0 ]; then
    overall="$status"
  fi
done

if [ "$(wc -c < "$out")" -gt "$max_bytes" ]; then
  head -c "$((max_bytes - 200))" "$out" > "$section"
  { cat "$section"; echo; echo; echo "_Cut at ${max_bytes} bytes: the job's log and summary have the whole diff._"; } > "$out"
fi
exit "$overall"
