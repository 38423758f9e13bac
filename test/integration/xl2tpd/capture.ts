/**
 * Captures loopback UDP traffic with tshark while an interop test runs, so that the test can assert on
 * what went over the wire (decoded by our own `protocol/l2tp`), not only on what xl2tpd chose to log.
 */
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CapturedDatagram, readCapture } from "../../../adapters/capture/pcap.ts";

/** A running tshark capture on `lo`. */
export interface LoopbackCapture {
  /** The pcapng file tshark writes (removed by `stop`). */
  readonly file: string;
  /**
   * Returns the UDP datagrams tshark saw, in capture order, once every datagram sent before the call is
   * in the file (a sentinel datagram proves it: about 0.75 s here, up to 20 s allowed), then stops tshark.
   */
  stop(): Promise<CapturedDatagram[]>;
}

/**
 * Starts `tshark -i lo -f "udp port A or udp port B …" -w FILE` and resolves once it says "Capture started"
 * (packets sent before that are missed). Throws a clear error when tshark is not installed.
 */
export async function startLoopbackCapture(ports: number[], timeoutMs = 10000): Promise<LoopbackCapture> {
  if (ports.length === 0) throw new Error("startLoopbackCapture: give at least one port");
  const dir = mkdtempSync(join(tmpdir(), "l2tp-capture-"));
  const file = join(dir, "capture.pcapng");
  // dumpcap writes packets about 0.75 s after they pass, and a SIGINT loses the ones not yet written: stop()
  // sends a sentinel datagram to this port of ours and waits until the file holds it.
  const sentinel = await bindSentinel();
  const sentinelPort = sentinel.address().port;
  const filter = [...ports, sentinelPort].map((port) => `udp port ${port}`).join(" or ");
  const child = spawn("tshark", ["-n", "-q", "-i", "lo", "-f", filter, "-w", file], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolveExit) => {
    child.once("exit", (code) => resolveExit(code));
    child.once("error", () => resolveExit(null));
  });
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`tshark did not start capturing within ${timeoutMs} ms: ${stderr}`)),
        timeoutMs,
      );
      child.once("error", (error) => {
        clearTimeout(timer);
        fail(new Error(`tshark could not run (run \`bash scripts/setup.sh\`): ${error.message}`));
      });
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => {
        stderr += chunk;
        // "Capturing on" comes about 15 ms before the filter is live (packets sent at once were missed
        // here); "Capture started" comes after it. Older tsharks may not print the second: allow 250 ms.
        if (stderr.includes("Capture started")) {
          clearTimeout(timer);
          ready();
        } else if (stderr.includes("Capturing on")) {
          setTimeout(() => {
            clearTimeout(timer);
            ready();
          }, 250);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`tshark exited (code ${code}) before capturing: ${stderr}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    sentinel.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped: Promise<CapturedDatagram[]> | undefined;
  return {
    file,
    stop() {
      stopped ??= (async () => {
        try {
          sentinel.send(SENTINEL, sentinelPort, "127.0.0.1");
          // Under load dumpcap falls seconds behind; a capture without its tail would fail a test for a
          // reason that is not the test's, so it is an error of its own.
          const deadline = Date.now() + 20_000;
          while (!hasSentinel(file, sentinelPort)) {
            if (Date.now() > deadline)
              throw new Error(`tshark wrote no sentinel to ${file} within 20 s: the capture is incomplete`);
            await sleep(25);
          }
          child.kill("SIGINT");
          await exited;
          const result = readCapture(readFileSync(file));
          if (!result.ok) throw new Error(`tshark capture ${file}: ${result.error}`);
          return result.datagrams.filter((d) => d.dstPort !== sentinelPort && d.srcPort !== sentinelPort);
        } finally {
          child.kill("SIGKILL");
          sentinel.close();
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}

const SENTINEL = new TextEncoder().encode("l2tp-capture-sentinel");

function bindSentinel(): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolveSocket(socket));
  });
}

/** Whether the (possibly half-written) capture file already holds the sentinel datagram. */
function hasSentinel(file: string, port: number): boolean {
  try {
    const result = readCapture(readFileSync(file));
    return result.ok && result.datagrams.some((d) => d.dstPort === port);
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
