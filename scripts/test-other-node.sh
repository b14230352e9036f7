#!/usr/bin/env bash
# Run the library test suites (vitest) on another Node.js major, fetched from the npm registry's
# `node` package into a temp prefix (its install script downloads the official binary).
#
#   scripts/test-other-node.sh 22                 # every package under packages/
#   scripts/test-other-node.sh 22 catalog-client  # some of them
#
# Needs `pnpm install` and the packages built (`pnpm turbo run build`): the suites import each
# other's dist/, which is plain ES2023 JavaScript and the same for every runtime. The packages
# declare engines >=22.19 (undici 8, vitest 5), so majors below 22 are refused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

major=${1:-}
if ! [[ "$major" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/test-other-node.sh <node-major> [package…]" >&2
  exit 2
fi
shift
if ((major < 22)); then
  echo "Node $major cannot run these packages (engines >=22.19: undici 8 and vitest 5 need it)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbee-node$major-XXXXXX")
# mktemp makes it 0700: suites that run node as the unprivileged build user need to reach it
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
echo "::group::node@$major from the npm registry"
npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$major" >&2
echo "::endgroup::"
node_bin="$tmp/node_modules/node/bin/node"
[ -x "$node_bin" ] || { echo "node@$major did not install a binary at $node_bin" >&2; exit 1; }
# first on PATH, so suites that spawn `node` get this one too
export PATH="$tmp/node_modules/node/bin:$PATH"
echo "running the test suites with $("$node_bin" --version) ($node_bin)"

if (($#)); then pkgs=("$@"); else pkgs=(); for d in packages/*/; do pkgs+=("$(basename "$d")"); done; fi
failed=()
for p in "${pkgs[@]}"; do
  echo "::group::$p (node $("$node_bin" --version))"
  if ! (cd "$root/packages/$p" && "$node_bin" "$root/node_modules/vitest/vitest.mjs" run); then failed+=("$p"); fi
  echo "::endgroup::"
done
echo "node $("$node_bin" --version): ${#pkgs[@]} suites in $(( $(date +%s) - started ))s${failed:+; failed: ${failed[*]}}"
((${#failed[@]} == 0))
