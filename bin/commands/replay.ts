/**
 * `l2tp replay SOURCE`: what happened, from the event log. By default the incident timeline, one line
 * per recorded transition (filters: time window, node, destination, tunnel, session, cause); with
 * `--at TIME` the tree of actors and their states at that moment (the replay fold, events/replay.ts),
 * printed like `l2tp show`; `--json` for machines (NDJSON envelopes, or the tree as JSON).
 */
import { statSync } from "node:fs";
import process from "node:process";
import { openEventLog, parseEventLogAddress } from "../../adapters/event-log/index.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import { type ActorTree, type EventFilter, evolve, initialTree, matchesFilter } from "../../events/replay.ts";
import { timelineLine, timeText, treeText } from "../../events/timeline.ts";
import { L2TP, parseCommandArgs, UsageError } from "./cli.ts";
import type { Command } from "./index.ts";
import { LAB_EVENTS_DIR } from "./lab.ts";
import { DEFAULT_EVENTS } from "./recording.ts";

const HELP = `usage: ${L2TP} replay SOURCE [filters] [--at TIME [--sessions]] [--json]

SOURCE is an event log as --events names it: file:DIR or a plain directory path (${L2TP} run writes
${DEFAULT_EVENTS}; each ${L2TP} lab run a folder of its own under ${LAB_EVENTS_DIR}, which it prints), or
nats://HOST:PORT[/STREAM]. Prints the timeline, one line per state transition:
  time  node  destination/tunnel/session  machine  from → to  cause  changed data
(a LAC's subscriber: subscriber:LINE, its decision, where its call went and why, its PPP link's phases)

  --since TIME        only events at or after TIME
  --until TIME        only events at or before TIME
  --node NAME         only this node's events
  --destination A:P   only this destination (and its tunnels and sessions)
  --tunnel ID         only this tunnel (local id) and its sessions
  --session ID        only this session (local id)
  --subscriber LINE   only this subscriber of a LAC (its line's id, e.g. sim:7) and its PPP link
  --cause TYPE        only this cause (an XState event type, e.g. rx.CDN, or a prefix: 'rx.*')
  --at TIME           instead: the tree of actors and their states at TIME (system → destinations →
                      tunnels → sessions); --node, --destination, --tunnel, --session narrow it
  --sessions          with --at: one line per session and subscriber (default: counts per state)
  --full              the whole changed data on each line (default: cut at 160 characters)
  --json              NDJSON envelopes; with --at, the tree as one JSON object
  --inspect           instead: serve the inspector page over the log (its URL is printed; Ctrl-C ends):
                      the incident timeline, step, play and scrub, the tree and statecharts at any
                      moment; the filters above select what is loaded
  --from-seq N        with --inspect: from this sequence number on (with --node: that node's range)
  --listen A:P        with --inspect: where the page is served (default 127.0.0.1:0, a free port)

TIME: ISO 8601 (2024-05-01T10:00:00Z, 2024-05-01T10:00:00.250+02:00), epoch milliseconds (1714557600000),
now, or relative to now: -30s, -5m, -2h, -1d, -250ms (write --since=-5m: a separate word starting with
'-' reads as an option).
`;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a TIME argument: ISO 8601, epoch milliseconds, `now`, or relative to `now` (`-5m`, `-30s`).
 * Throws an Error naming the flag and the accepted forms.
 */
export function parseTime(flag: string, text: string, now: number): number {
  const trimmed = text.trim();
  if (trimmed === "now") return now;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const relative = /^-(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(trimmed);
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2] as string] as number);
  // ISO 8601 only (a date, then optionally a time): Date.parse alone takes "May 1" and other guesses.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const ms = Date.parse(trimmed.replace(" ", "T"));
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `${flag}: '${text}' is not a time; expected ISO 8601 (2024-05-01T10:00:00Z), epoch milliseconds, now, or relative (-30s, -5m, -2h, -1d)`,
  );
}

/**
 * Opens SOURCE for reading. A file log must exist (a reader never creates one); `memory:` holds nothing
 * outside the process that recorded it. Throws an Error that says which forms are valid.
 */
export async function openReplaySource(source: string): Promise<EventLog> {
  // A plain path is the file log in that directory (what `ls var/lab` shows can be pasted).
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(source)) {
    if (isDirectory(source)) return await openEventLog(`file:${source}`);
    throw new UsageError(
      `${source}: no such directory, and not an event log address; give a directory, file:DIR or nats://HOST:PORT[/STREAM]`,
    );
  }
  const address = parseEventLogAddress(source);
  if (address.kind === "memory") {
    throw new Error(
      `${source}: a memory log is gone when its process ends; replay a file:DIR or nats://HOST:PORT[/STREAM] log`,
    );
  }
  if (address.kind === "file") {
    if (!isDirectory(address.dir)) {
      throw new Error(
        `${source}: no event log there (no directory ${address.dir}); l2tp run and l2tp lab write to ${DEFAULT_EVENTS} unless --events says otherwise`,
      );
    }
  }
  return await openEventLog(source);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Folds the envelopes of `log` that pass `filter` up to time `at` into the tree of actors. */
export async function treeAt(log: EventLog, at: number, filter: EventFilter = {}): Promise<ActorTree> {
  const tree = initialTree();
  const narrow: EventFilter = { ...filter, until: at };
  for await (const envelope of log.read({
    ...(filter.node !== undefined ? { node: filter.node } : {}),
    until: at,
  })) {
    if (matchesFilter(envelope, narrow)) evolve(tree, envelope);
  }
  return tree;
}

/** Calls `each` for every envelope of `log` that passes `filter`, in the log's order; returns how many. */
export async function timeline(
  log: EventLog,
  filter: EventFilter,
  each: (envelope: Envelope) => void | Promise<void>,
): Promise<{ matched: number; read: number }> {
  let matched = 0;
  let read = 0;
  const options = {
    ...(filter.node !== undefined ? { node: filter.node } : {}),
    ...(filter.until !== undefined ? { until: filter.until } : {}),
  };
  for await (const envelope of log.read(options)) {
    read++;
    if (!matchesFilter(envelope, filter)) continue;
    matched++;
    await each(envelope);
  }
  return { matched, read };
}

/** Writes text to stdout in large chunks, waiting when the pipe is full; a reader that left (`| head`) ends it. */
class Output {
  /** The reader closed the pipe: stop producing. */
  closed = false;
  private buffer: string[] = [];
  private size = 0;
  private wake: (() => void) | undefined;

  constructor() {
    process.stdout.on("error", (error: { code?: string }) => {
      if (error.code !== "EPIPE") throw error;
      this.closed = true;
      this.wake?.();
    });
  }

  async line(text: string): Promise<void> {
    if (this.closed) throw new ReaderGone();
    this.buffer.push(text);
    this.size += text.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0 || this.closed) return;
    const chunk = `${this.buffer.join("\n")}\n`;
    this.buffer = [];
    this.size = 0;
    let written: boolean;
    try {
      written = process.stdout.write(chunk);
    } catch (error) {
      if ((error as { code?: string }).code !== "EPIPE") throw error;
      this.closed = true;
      return;
    }
    if (!written) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        process.stdout.once("drain", () => resolve());
      });
      this.wake = undefined;
    }
  }
}

/** Thrown to stop reading when stdout's reader has gone. */
class ReaderGone extends Error {}

function idArgument(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`${flag}: expected a local id 0-65535, got '${text}'`);
  }
  return n;
}

export const replay: Command = {
  summary: "the event log as a timeline (filters), or the tree of actors at a moment (--at)",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("replay", {
      args: argv,
      allowPositionals: true,
      options: {
        since: { type: "string" },
        until: { type: "string" },
        node: { type: "string" },
        destination: { type: "string" },
        tunnel: { type: "string" },
        session: { type: "string" },
        subscriber: { type: "string" },
        cause: { type: "string" },
        at: { type: "string" },
        sessions: { type: "boolean", default: false },
        full: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        inspect: { type: "boolean", default: false },
        listen: { type: "string", default: "127.0.0.1:0" },
        "from-seq": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help || positionals.length !== 1) {
      (values.help ? process.stdout : process.stderr).write(
        values.help || positionals.length === 0
          ? HELP
          : `l2tp replay: one SOURCE, got ${positionals.length}\n${HELP}`,
      );
      return values.help ? 0 : 2;
    }
    const source = positionals[0] as string;
    const now = Date.now();
    const filter: EventFilter = {};
    if (values.since !== undefined) filter.since = parseTime("--since", values.since, now);
    if (values.until !== undefined) filter.until = parseTime("--until", values.until, now);
    if (values.node !== undefined) filter.node = values.node;
    if (values.destination !== undefined) filter.destination = values.destination;
    const tunnel = idArgument("--tunnel", values.tunnel);
    if (tunnel !== undefined) filter.tunnel = tunnel;
    const session = idArgument("--session", values.session);
    if (session !== undefined) filter.session = session;
    if (values.subscriber !== undefined) filter.subscriber = values.subscriber;
    if (values.cause !== undefined) filter.cause = values.cause;
    const at = values.at !== undefined ? parseTime("--at", values.at, now) : undefined;
    if (at !== undefined && (values.since ?? values.until ?? values.cause) !== undefined) {
      throw new UsageError(
        "--at folds every event up to TIME: --since, --until and --cause are for the timeline only (narrow the tree with --node, --destination, --tunnel, --session)",
      );
    }
    if (values.sessions && at === undefined) {
      throw new UsageError(
        "--sessions lists the sessions of the tree at a moment: give --at TIME with it (--at now for the end of the log)",
      );
    }
    if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
      throw new UsageError(`--since ${timeText(filter.since)} is after --until ${timeText(filter.until)}`);
    }

    const log = await openReplaySource(source);
    if (values.inspect) return inspectReplay(log, filter, values.listen, values["from-seq"]);
    const out = new Output();
    try {
      if (at !== undefined) {
        const tree = await treeAt(log, at, filter);
        if (values.json) await out.line(JSON.stringify({ at, ...tree }));
        else {
          await out.line(
            `${log.description} at ${timeText(at)}: ${tree.events.toLocaleString("en-US")} events folded`,
          );
          await out.line(treeText(tree, { sessions: values.sessions }).trimEnd());
        }
        await out.flush();
        return 0;
      }
      const maxData = values.full ? 0 : 160;
      const { matched, read } = await timeline(log, filter, (envelope) =>
        out.line(values.json ? JSON.stringify(envelope) : timelineLine(envelope, { maxData })),
      );
      await out.flush();
      if (!values.json && !out.closed) {
        process.stderr.write(
          `${matched.toLocaleString("en-US")} of ${read.toLocaleString("en-US")} events in ${log.description}\n`,
        );
      }
      return 0;
    } catch (error) {
      if (error instanceof ReaderGone) return 0;
      throw error;
    } finally {
      await log.close();
    }
  },
};

/** `replay SRC --inspect`: loads the selected envelopes and serves the page until Ctrl-C. */
async function inspectReplay(
  log: EventLog,
  filter: EventFilter,
  listenText: string,
  fromSeqText: string | undefined,
): Promise<number> {
  // Loaded only here: the timeline and the tree need none of the page (nor the machines it draws).
  const { createInspector, inspectorUrl, parseListen, RecordedLog, serveInspector } = await import(
    "../../adapters/inspector/index.ts"
  );
  const listen = parseListen(listenText);
  if (!listen) throw new Error(`--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:17012, got '${listenText}'`);
  const fromSeq = fromSeqText === undefined ? undefined : Number(fromSeqText);
  if (fromSeq !== undefined && !(Number.isInteger(fromSeq) && fromSeq >= 1)) {
    throw new Error(`--from-seq: expected a sequence number ≥ 1, got '${fromSeqText}'`);
  }
  const started = performance.now();
  const recorded = new RecordedLog();
  try {
    await timeline(log, filter, (envelope) => {
      if (fromSeq === undefined || envelope.seq >= fromSeq) recorded.add(envelope);
    });
  } finally {
    await log.close();
  }
  const inspector = createInspector({ mode: "replay", recorded, source: log.description });
  const server = await serveInspector(inspector, listen);
  process.stdout.write(
    `l2tp replay: ${recorded.length.toLocaleString("en-US")} events of ${log.description} loaded in ${Math.round(performance.now() - started)} ms (${recorded.checkpoints} checkpoints)\n` +
      `l2tp replay: inspector ${inspectorUrl(server.url)} (Ctrl-C to end)\n`,
  );
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await server.close();
  return 0;
}
