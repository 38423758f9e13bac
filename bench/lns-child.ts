/**
 * The LNS side of bench/setup, in a process of its own so that each side's RSS is its own: the lab's
 * LNS (127.0.0.1, ephemeral port). Prints `{"port":N}`, then answers one JSON line per stdin command:
 * `count` (tunnels, sessions, RSS, peak RSS) and `close` (closes the node, prints its registries, exits).
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { startLabLns } from "../bin/commands/lab.ts";

const lns = await startLabLns(process.argv[2]);
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ port: lns.peer.port });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === "count") {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    answer({ ...(await lns.count()), rss, peakRss });
  } else if (line === "close") {
    clearInterval(sampler);
    answer({ registries: await lns.close(), sent: lns.sent, peakRss });
    process.exit(0);
  }
}
