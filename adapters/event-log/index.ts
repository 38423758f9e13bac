/**
 * The EventLog adapters (memory, file, NATS JetStream) and `openEventLog(address)`, which picks one
 * from an address: `memory:`, `file:DIR` (or `file:///abs/dir`), `nats://host:port[,host:port…][/STREAM][?replicas=N]`
 * (several servers of one JetStream cluster; a stream created with N replicas).
 */
import type { EventLog } from "../../events/port.ts";
import { EventLogError } from "../../events/port.ts";
import { type FileEventLogOptions, openFileEventLog } from "./file.ts";
import { type JetStreamEventLogOptions, openJetStreamEventLog } from "./jetstream.ts";
import { MemoryEventLog } from "./memory.ts";

export {
  FileEventLog,
  type FileEventLogOptions,
  type FsyncPolicy,
  openFileEventLog,
  type Recovery,
} from "./file.ts";
export {
  JetStreamEventLog,
  type JetStreamEventLogOptions,
  type JetStreamStats,
  openJetStreamEventLog,
} from "./jetstream.ts";
export { MemoryEventLog } from "./memory.ts";

/** What an event-log address names. */
export type EventLogAddress =
  | { kind: "memory" }
  | { kind: "file"; dir: string }
  | { kind: "nats"; servers: string | string[]; stream?: string; replicas?: number };

const FORMS = "expected file:DIR, memory: or nats://host:port[,host:port…][/STREAM][?replicas=N]";

/** Parses an event-log address; throws an EventLogError "config" that shows the valid forms. */
export function parseEventLogAddress(address: string): EventLogAddress {
  const bad = (why: string) =>
    new EventLogError("config", `event log address '${address}': ${why}; ${FORMS}`);
  if (address === "memory:") return { kind: "memory" };
  if (address.startsWith("file:")) {
    const dir = address.startsWith("file://")
      ? address.slice("file://".length)
      : address.slice("file:".length);
    if (dir === "") throw bad("no directory");
    if (address.startsWith("file://") && !dir.startsWith("/")) throw bad("file:// needs an absolute path");
    return { kind: "file", dir };
  }
  if (address.startsWith("nats://")) {
    // Several servers of one cluster are comma-separated hosts: each is parsed as a URL of its own.
    const rest = address.slice("nats://".length);
    const cut = rest.search(/[/?#]/);
    const hosts = (cut < 0 ? rest : rest.slice(0, cut)).split(",");
    const tail = cut < 0 ? "" : rest.slice(cut);
    const servers: string[] = [];
    let url: URL | undefined;
    for (const host of hosts) {
      try {
        url = new URL(`nats://${host}${tail}`);
      } catch {
        throw bad(`'${host}' is not a host:port`);
      }
      if (!url.hostname) throw bad("no host");
      const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
      servers.push(`nats://${auth}${url.hostname}:${url.port || "4222"}`);
    }
    if (!url) throw bad("no host");
    if (url.hash) throw bad("no fragment allowed");
    let replicas: number | undefined;
    for (const [key, value] of url.searchParams) {
      if (key !== "replicas") throw bad(`unknown parameter '${key}' (only replicas)`);
      replicas = Number(value);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
        throw bad(`replicas must be 1-5, got '${value}'`);
    }
    const path = url.pathname.replace(/^\//, "");
    if (path.includes("/")) throw bad("only one path segment (the stream) allowed");
    if (path !== "" && !/^[A-Za-z0-9_-]+$/.test(path))
      throw bad(`stream '${path}' must be letters, digits, '-' or '_'`);
    return {
      kind: "nats",
      servers: servers.length === 1 ? servers[0] : servers,
      ...(path !== "" ? { stream: path } : {}),
      ...(replicas !== undefined ? { replicas } : {}),
    };
  }
  throw bad("unknown form");
}

/** Options passed to the adapter the address picks. */
export interface OpenEventLogOptions {
  file?: FileEventLogOptions;
  nats?: Omit<JetStreamEventLogOptions, "servers" | "stream">;
}

/** Opens the event log an address names (see parseEventLogAddress). */
export async function openEventLog(address: string, options: OpenEventLogOptions = {}): Promise<EventLog> {
  const parsed = parseEventLogAddress(address);
  switch (parsed.kind) {
    case "memory":
      return new MemoryEventLog();
    case "file":
      return openFileEventLog(parsed.dir, options.file);
    case "nats":
      return await openJetStreamEventLog({
        ...options.nats,
        servers: parsed.servers,
        stream: parsed.stream,
        ...(parsed.replicas !== undefined ? { replicas: parsed.replicas } : {}),
      });
  }
}
