#!/usr/bin/env bash
# Renders the Mermaid trust map of a stack's offline plan to a picture, to check that it stays
# readable (GitHub renders the same diagram in docs/plans/<stack>.md and in pull requests).
#
# Usage: tools/render-mermaid.sh [STACK] [OUT]
#   STACK  a committed stack, Pulumi.STACK.yaml (default: prod, two clusters and three workloads)
#   OUT    the picture to write, .png, .svg or .pdf (default: /tmp/trust-map-STACK.png)
#
# Needs, and installs when missing (neither is a dependency of this repository):
#   - Debian's Chromium:  apt-get install -y chromium        (as root, or through sudo)
#   - the mermaid CLI, outside the repository:
#       PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix /tmp/mmdc @mermaid-js/mermaid-cli
# Environment: CHROMIUM (default /usr/bin/chromium), MMDC_PREFIX (default /tmp/mmdc).
# Exit codes: 0 picture written, 1 a tool failed, 2 usage.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "$#" -gt 2 ]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    [ "${1:-}" = "--help" ] && exit 0 || exit 2
fi

cd "$(dirname "$0")/.."
stack="${1:-prod}"
out="${2:-/tmp/trust-map-${stack}.png}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
prefix="${MMDC_PREFIX:-/tmp/mmdc}"

if [ ! -f "Pulumi.${stack}.yaml" ]; then
    echo "No stack file Pulumi.${stack}.yaml." >&2
    exit 2
fi

if [ ! -x "$chromium" ]; then
    echo "Installing Chromium: apt-get install -y chromium" >&2
    sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if_needed apt-get install -y chromium >&2 || { sudo_if_needed apt-get update >&2 && sudo_if_needed apt-get install -y chromium >&2; }
fi

mmdc="${prefix}/node_modules/.bin/mmdc"
if [ ! -x "$mmdc" ]; then
    echo "Installing the mermaid CLI into ${prefix} (outside the repository)" >&2
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$prefix" @mermaid-js/mermaid-cli >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Chromium as root in a container needs --no-sandbox; the diagram is this repository's own text.
cat > "${work}/puppeteer.json" <<JSON
{ "executablePath": "${chromium}", "args": ["--no-sandbox", "--disable-setuid-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] }
JSON

npm run --silent plan -- --stack "$stack" --format markdown | awk '/^```mermaid$/ { on = 1; next } /^```$/ { on = 0 } on' > "${work}/trust-map.mmd"
if [ ! -s "${work}/trust-map.mmd" ]; then
    echo "The plan of stack ${stack} has no Mermaid trust map." >&2
    exit 1
fi
"$mmdc" --quiet --input "${work}/trust-map.mmd" --output "$out" --puppeteerConfigFile "${work}/puppeteer.json" --backgroundColor white --scale 1.5
echo "Wrote ${out}" >&2
