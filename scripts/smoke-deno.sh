#!/usr/bin/env bash
# The CLI under Deno prints exactly what it prints under Bun (issue 2), and the UDP adapter works there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
fixture=test/fixtures/captures/xl2tpd-lns-seq-proxy.pcapng
for args in "decode --pcap $fixture --secret s3cret" "decode --pcap $fixture --json" \
            "decode --hex c802000c1092000000020003"; do
  diff <(bun bin/l2tp.ts $args) <(deno run -A bin/l2tp.ts $args) \
    || { echo "Bun and Deno differ on: l2tp $args"; exit 1; }
done
deno run -A test/adapters/udp/deno-smoke.ts
deno run -A test/integration/radius/deno-smoke.ts
# The README's main job, under Deno: it exits non-zero unless every session opened and every actor ended.
deno run -A bin/l2tp.ts lab --sessions 200 --tunnels 2 --hold 0
echo "deno smoke: ok"
