#!/usr/bin/env bash
# Installs what the project and its tests need on a fresh Debian machine: npm packages (Bun and Deno
# come with them) and the real peers the integration tests run (tshark, xl2tpd, l2tpns, nats-server, FreeRADIUS, Chromium) and
# promtool (Prometheus's own parser of the metrics format).
# Safe to run again; daemons are kept from auto-starting (docs/INTEROP.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# Node runs npm only (the engine runs on Bun and Deno, installed by npm): npm ci needs Node 20 or later.
# On Node 20 npm warns that @nats-io/nuid (under the NATS client) wants Node 22: that engine field
# is about Node itself, and the client runs on Bun and Deno here, so the warning is harmless.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node 20 or later is needed to install the packages (found: $(node --version 2>/dev/null || echo none)); install Node 20+ and run again" >&2
  exit 1
fi

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

need=()
command -v tshark >/dev/null || need+=(tshark)
command -v xl2tpd >/dev/null || need+=(xl2tpd)
command -v nats-server >/dev/null || need+=(nats-server)
command -v freeradius >/dev/null || need+=(freeradius)
command -v radclient >/dev/null || need+=(freeradius-utils)
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus) # promtool checks the admin API's /metrics
[ -x /usr/sbin/l2tpns ] || need+=(l2tpns) # an independent LNS (test/integration/l2tpns)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  ours=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    echo 'exit 101' | $sudo tee /usr/sbin/policy-rc.d >/dev/null; $sudo chmod +x /usr/sbin/policy-rc.d; ours=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  # An `if`, not `[ … ] && …`: as the last command under set -e a false test would fail the script.
  if [ -n "$ours" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
fi
