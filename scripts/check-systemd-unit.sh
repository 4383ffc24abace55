#!/usr/bin/env bash
# Checks contrib/faxbridge.service with `systemd-analyze verify` (syntax, known options, ExecStart runnable).
# The unit starts /usr/local/bin/faxbridge, where `npm install -g` puts it; here that is this checkout's
# built CLI run by this machine's node, so the check needs no global install.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
[ -f dist/src/cli.js ] || { echo "dist/src/cli.js is missing: run npm run build first" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#^ExecStart=/usr/local/bin/faxbridge #ExecStart=$(command -v node) $PWD/dist/src/cli.js #" \
  contrib/faxbridge.service >"$dir/faxbridge.service"
grep -q "^ExecStart=$(command -v node) " "$dir/faxbridge.service" || { echo "ExecStart not found in the unit" >&2; exit 1; }
# verify prints warnings and errors only; any output about our unit is a failure.
out=$(systemd-analyze verify "$dir/faxbridge.service" 2>&1) || { echo "$out" >&2; exit 1; }
if echo "$out" | grep -q 'faxbridge.service'; then echo "$out" >&2; exit 1; fi
echo "contrib/faxbridge.service: systemd-analyze verify passed"
