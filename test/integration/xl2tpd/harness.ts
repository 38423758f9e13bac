/**
 * Runs real xl2tpd 1.3.18 instances for the interop tests (issue 3): each in the foreground with its own
 * config directory, port, auth file and control FIFO on loopback, its log captured line by line. With
 * `pppd: "stand-in"` xl2tpd runs in a private mount namespace where `test/integration/stand-in-pppd/pppd.sh`
 * is bound over /usr/sbin/pppd (the path is compiled into xl2tpd), because the real pppd exits at once on
 * this kernel (no /dev/ppp) and xl2tpd then closes the call with a CDN (docs/INTEROP.md).
 *
 * Typical use (an xl2tpd LNS that our node dials, or an xl2tpd LAC that dials our node):
 *
 *   const lns = await startXl2tpd({ label: "lns", secrets: [{ ours: "lns.test", theirs: "lac.test", secret: "s3cret" }],
 *     lns: { hostname: "lns.test", challenge: true }, pppd: "stand-in" });
 *   // … our LAC sends SCCRQ to lns.endpoint …
 *   await lns.waitForLog(XL2TPD_LOG.tunnelEstablished, 5000);
 *   await lns.stop("SIGINT");  // StopCCN to every tunnel, process reaped, directory removed
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A UDP address and port on loopback: where an xl2tpd listens, or where its LAC dials. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * One line of xl2tpd's auth file. xl2tpd picks the line whose first name is our own host name (the
 * section's `hostname`, else the machine's) and whose second is the peer's Host Name AVP; `*` matches any.
 */
export interface TunnelSecret {
  ours: string;
  theirs: string;
  secret: string;
}

/** Config keys xl2tpd accepts in both `[lns default]` and `[lac NAME]`. */
interface SectionOptions {
  /** Host Name AVP we send, and our name when looking up the auth file. */
  hostname?: string;
  /** `challenge = yes`: send a Challenge AVP and require the peer's response (RFC 2661 §5.1.1). */
  challenge?: boolean;
  /** `hidden bit = yes`: xl2tpd 1.3.18 then only adds a Random Vector AVP; it hides nothing (docs/INTEROP.md). */
  hiddenBit?: boolean;
  /** `tunnel rws`: our control-channel receive window (RFC 2661 §5.8); xl2tpd's default is 4. */
  tunnelRws?: number;
  /** `require authentication` (PPP authentication, not the tunnel's): default no. */
  requireAuthentication?: boolean;
  /** `ppp debug = yes`: adds `debug` to pppd's arguments. */
  pppDebug?: boolean;
  /** Lines of the pppd options file written for this section (`pppoptfile`); default `noauth`. */
  pppOptions?: string[];
  /** Any other key of this section, written as `key = value` (booleans as yes/no). */
  extra?: Record<string, string | number | boolean>;
}

/** The `[lns default]` section: xl2tpd answers SCCRQs from anyone (`access control = no`). */
export interface LnsSectionOptions extends SectionOptions {
  /** Addresses handed to pppd for the peers (`ip range`); default 192.0.2.2-192.0.2.254 (TEST-NET-1, never routed here). */
  ipRange?: string;
  /** Our end of each PPP link (`local ip`); default 192.0.2.1. */
  localIp?: string;
}

/** One `[lac NAME]` section: a tunnel xl2tpd opens to `lns` when told `c NAME`. */
export interface LacSectionOptions extends SectionOptions {
  /** The section name, used by `dial(name)` and `hangup(name)`. */
  name: string;
  /** Where to dial: written as `lns = ADDRESS:PORT` (xl2tpd's set_lns splits at the colon). */
  lns: Endpoint;
}

/** Everything `startXl2tpd` needs; every field has a default except what the test is about. */
export interface Xl2tpdOptions {
  /** A short name for log prefixes, the temp dir and error messages (default "xl2tpd"). */
  label?: string;
  /** `listen-addr` (default 127.0.0.1; any 127.x works without set-up). */
  address?: string;
  /** `port` in `[global]`; default a free port found by binding UDP port 0. */
  port?: number;
  /** Lines of the auth file (`auth file` in `[global]`). */
  secrets?: TunnelSecret[];
  /** The `[lns default]` section; absent: xl2tpd refuses incoming tunnels. */
  lns?: LnsSectionOptions;
  /** `[lac NAME]` sections. */
  lacs?: LacSectionOptions[];
  /** What xl2tpd starts when a call is up: the real pppd (fails here), the stand-in, or any executable. */
  pppd?: "real" | "stand-in" | { path: string };
  /**
   * With `pppd: "stand-in"`: the script the stand-in runs with Bun once the pty is raw (default
   * `stand-in-pppd/main.ts`). The pty is its stdin and stdout, xl2tpd's log its stderr; a PPP peer of
   * our own can be plugged in here. Its PID is tracked and reaped like the default one.
   */
  standInMain?: string;
  /** The default stand-in sends one LCP Echo-Request when it starts (to prove the data path end to end). */
  standInEchoRequest?: boolean;
  /** `max retries` in `[global]`: control message retransmissions before xl2tpd gives up (default 5). */
  maxRetries?: number;
  /** xl2tpd's debug flags (`debug avp`, `debug network`, `debug packet`, `debug state`, `debug tunnel`). */
  debug?: { avp?: boolean; network?: boolean; packet?: boolean; state?: boolean; tunnel?: boolean };
  /** The xl2tpd binary (default: `xl2tpd` on PATH or in /usr/sbin). */
  program?: string;
  /** Extra environment for xl2tpd and the pppd it starts. */
  env?: Record<string, string>;
  /** How long to wait for "Listening on IP address" (default 5000 ms). */
  readyTimeoutMs?: number;
  /** Print every log line as it arrives (default: when XL2TPD_HARNESS_ECHO=1). */
  echo?: boolean;
}

/** How the xl2tpd process ended. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/**
 * Log lines of xl2tpd 1.3.18 worth waiting for, seen on this machine. Capture groups are noted per pattern.
 * "Connection established" is logged by the LAC on SCCRP (before the LNS has checked its SCCCN), by the
 * LNS on a valid SCCCN.
 */
export const XL2TPD_LOG = {
  /** Ready: (1) address, (2) port. */
  listening: /Listening on IP address (\S+), port (\d+)/,
  /** LAC only, on `c NAME`: (1) address, (2) port. */
  connecting: /Connecting to host (\S+), port (\d+)/,
  /** Both: (1) peer address, (2) peer port, (3) our tunnel id, (4) peer's tunnel id. */
  tunnelEstablished: /Connection established to (\S+), (\d+)\.\s+Local: (\d+), Remote: (\d+)/,
  /** Both, on ICCN: (1) peer address, (2) pppd PID (LNS only), (3) our call id, (4) peer's call id, (5) serial. */
  callEstablished: /Call established with (\S+),(?: PID: (\d+),)? Local: (\d+), Remote: (\d+), Serial: (\d+)/,
  /** A tunnel went away, whichever side ended it: (1) peer address, (2) peer port, (3) reason. */
  tunnelClosed: /Connection (?:\d+ )?closed to (\S+), port (\d+) \(([^)]*)\)/,
  /** We sent a CDN (pppd ended, or `h CALLID`): (1) our call id, (2) peer address. */
  callClosedByUs: /call_close: Call (\d+) to (\S+) disconnected/,
  /** The peer's CDN arrived: (1) peer address, (2) serial, (3) result text. */
  callClosedByPeer: /Connection closed to (\S+), serial (\d+) \(([^)]*)\)/,
  /** The peer's challenge response was wrong (or ours, seen from the peer): (1) the peer's host name. */
  authenticationFailed: /Invalid authentication for host '([^']*)'/,
  /** pppd (or the stand-in) ended: (1) "exited" or "terminated", (2) the peer's call id, (3) exit code or signal. */
  pppdExited: /pppd (exited|terminated) for call (\d+) (?:with code|by signal) (\d+)/,
  /** SIGINT / SIGTERM received: (1) signal number. */
  fatalSignal: /death_handler: Fatal signal (\d+) received/,
} as const;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const STAND_IN = join(REPO, "test/integration/stand-in-pppd/pppd.sh");
const STAND_IN_MAIN = join(REPO, "test/integration/stand-in-pppd/main.ts");
/** Compiled into xl2tpd (PPPD in its Makefile); the stand-in is bound over this path. */
const PPPD_PATH = "/usr/sbin/pppd";
const SETUP_HINT = "run `bash scripts/setup.sh` (it installs xl2tpd, tshark and nats-server)";

/** Finds a program on PATH or in the sbin directories (xl2tpd lives in /usr/sbin). */
function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The Bun binary that runs the stand-in's TypeScript (xl2tpd execs it by path from another cwd). */
function bunBinary(): string {
  if (process.versions.bun) return process.execPath;
  const local = join(REPO, "node_modules/.bin/bun");
  if (existsSync(local)) return realpathSync(local);
  throw new Error(`the stand-in pppd needs Bun at ${local}: run \`npm ci\``);
}

/** A UDP port that was free on `address` a moment ago (bound to port 0, then released). */
export function freeUdpPort(address = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolvePort(port));
    });
  });
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

function sectionLines(section: SectionOptions, optionsFile: string): string[] {
  const lines: string[] = [];
  if (section.hostname !== undefined) lines.push(`hostname = ${section.hostname}`);
  if (section.challenge !== undefined) lines.push(`challenge = ${yesNo(section.challenge)}`);
  if (section.hiddenBit !== undefined) lines.push(`hidden bit = ${yesNo(section.hiddenBit)}`);
  if (section.tunnelRws !== undefined) lines.push(`tunnel rws = ${section.tunnelRws}`);
  lines.push(`require authentication = ${yesNo(section.requireAuthentication ?? false)}`);
  if (section.pppDebug !== undefined) lines.push(`ppp debug = ${yesNo(section.pppDebug)}`);
  lines.push(`pppoptfile = ${optionsFile}`);
  for (const [key, value] of Object.entries(section.extra ?? {})) {
    lines.push(`${key} = ${typeof value === "boolean" ? yesNo(value) : value}`);
  }
  return lines;
}

/** The files of one instance's config directory, by name, as `startXl2tpd` writes them. */
export function renderConfig(options: Xl2tpdOptions & { port: number }, dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const global = [
    "[global]",
    `port = ${options.port}`,
    `listen-addr = ${options.address ?? "127.0.0.1"}`,
    `auth file = ${join(dir, "l2tp-secrets")}`,
    "access control = no",
  ];
  if (options.maxRetries !== undefined) global.push(`max retries = ${options.maxRetries}`);
  for (const [flag, on] of Object.entries(options.debug ?? {})) global.push(`debug ${flag} = ${yesNo(on)}`);
  const sections = [global.join("\n")];
  if (options.lns) {
    const lns = options.lns;
    const optionsFile = join(dir, "options.lns");
    files["options.lns"] = `${(lns.pppOptions ?? ["noauth"]).join("\n")}\n`;
    sections.push(
      [
        "[lns default]",
        `ip range = ${lns.ipRange ?? "192.0.2.2-192.0.2.254"}`,
        `local ip = ${lns.localIp ?? "192.0.2.1"}`,
        ...sectionLines(lns, optionsFile),
      ].join("\n"),
    );
  }
  for (const lac of options.lacs ?? []) {
    if (!/^[A-Za-z0-9_.-]+$/.test(lac.name)) {
      throw new Error(`xl2tpd lac name ${JSON.stringify(lac.name)}: use letters, digits, '.', '_' or '-'`);
    }
    const optionsFile = join(dir, `options.lac-${lac.name}`);
    files[`options.lac-${lac.name}`] = `${(lac.pppOptions ?? ["noauth"]).join("\n")}\n`;
    sections.push(
      [
        `[lac ${lac.name}]`,
        `lns = ${lac.lns.address}:${lac.lns.port}`,
        ...sectionLines(lac, optionsFile),
      ].join("\n"),
    );
  }
  files["xl2tpd.conf"] = `${sections.join("\n\n")}\n`;
  files["l2tp-secrets"] = (options.secrets ?? []).map((s) => `${s.ours} ${s.theirs} ${s.secret}\n`).join("");
  return files;
}

/** Whether a process exists and is not a zombie (a zombie has ended, only its parent has not reaped it). */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The PIDs whose parent is `parent` (from /proc; the comm field may hold spaces, so parse after ')'). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent) children.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return children;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(isProcessAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(isProcessAlive);
  }
  return left;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

interface LogWaiter {
  pattern: RegExp;
  since: number;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Instances not yet stopped: killed by the exit hook if a test forgets or crashes. */
const live = new Set<Xl2tpd>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const instance of live) instance.killNow();
  });
}

/** One running xl2tpd, started by `startXl2tpd`. */
export class Xl2tpd {
  /** Every log line so far (xl2tpd's stdout and stderr, and the stand-in pppd's stderr), in arrival order. */
  readonly lines: string[] = [];
  /** Settles when the xl2tpd process has exited. */
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;
  private waiters = new Set<LogWaiter>();
  private commandCount = 0;
  private stopping: Promise<ExitStatus> | undefined;
  private knownChildren = new Set<number>();
  private standIns = new Set<number>();

  /** @internal Use `startXl2tpd`. */
  constructor(
    /** The label given in the options. */
    readonly label: string,
    /** Address and port it listens on (its control and data traffic comes from this port too). */
    readonly endpoint: Endpoint,
    /** Its private config directory (removed by `stop`). */
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly echo: boolean,
  ) {
    this.exited = new Promise((resolveExit) => {
      const finish = (code: number | null, signal: string | null) => {
        if (this.exitStatus) return;
        this.exitStatus = { code, signal };
        live.delete(this);
        for (const waiter of this.waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(
            this.failure(`exited (code ${code}, signal ${signal}) before a line matched ${waiter.pattern}`),
          );
        }
        this.waiters.clear();
        resolveExit({ code, signal });
      };
      child.once("exit", finish);
      // A spawn failure (ENOENT) emits "error" and no "exit".
      child.once("error", () => finish(null, null));
    });
    this.readLines(child.stdout);
    this.readLines(child.stderr);
    live.add(this);
    installExitHook();
  }

  /** The UDP port it listens on. */
  get port(): number {
    return this.endpoint.port;
  }

  /** The address it listens on. */
  get address(): string {
    return this.endpoint.address;
  }

  /** The PID of xl2tpd itself (unshare and sh exec into it, so it is the spawned PID). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Whether the xl2tpd process is still running. */
  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Dials the `[lac NAME]` section: `c NAME` (SCCRQ, then an ICRQ once the tunnel is up). */
  async dial(lac: string): Promise<void> {
    await this.expectOk(`c ${lac}`);
  }

  /** Tears down the tunnel of `[lac NAME]`: `d NAME` (StopCCN; xl2tpd sends no CDN first). */
  async hangup(lac: string): Promise<void> {
    await this.expectOk(`d ${lac}`);
  }

  /** Hangs up one call by our (xl2tpd's) call id: `h ID` (xl2tpd stops its pppd, then sends a CDN). */
  async hangupCall(localCallId: number): Promise<void> {
    await this.expectOk(`h ${localCallId}`);
  }

  /**
   * Writes one command to the control FIFO and returns xl2tpd's answer ("00 OK", "01 Session 'x' not up").
   * The `@RESULTFILE` prefix makes xl2tpd answer into a FIFO of ours, which also proves the command was read.
   */
  async command(line: string, timeoutMs = 3000): Promise<string> {
    if (!this.running) throw this.failure(`is not running; cannot send ${JSON.stringify(line)}`);
    const resultPath = join(this.dir, `result-${++this.commandCount}`);
    const made = spawnSync("mkfifo", ["-m", "600", resultPath]);
    if (made.status !== 0) throw new Error(`mkfifo ${resultPath} failed: ${made.stderr}`);
    // Non-blocking read end first, so xl2tpd's fopen(…, "w") finds a reader and never blocks.
    const result = openSync(resultPath, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const deadline = Date.now() + timeoutMs;
      await this.writeControl(`@${resultPath} ${line}\n`, deadline);
      let answer = "";
      const buffer = Buffer.alloc(1024);
      for (;;) {
        let n = -1;
        try {
          n = readSync(result, buffer, 0, buffer.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        }
        if (n > 0) answer += buffer.toString("utf8", 0, n);
        // 0 with an answer: xl2tpd closed its end. 0 before any answer: it has not opened it yet.
        else if (n === 0 && answer) return answer.trim();
        if (Date.now() > deadline || !this.running) {
          throw this.failure(`did not answer ${JSON.stringify(line)} within ${timeoutMs} ms`);
        }
        await sleep(5);
      }
    } finally {
      closeSync(result);
      rmSync(resultPath, { force: true });
    }
  }

  /**
   * Resolves with the first log line from index `since` on (default: from the start) that matches
   * `pattern`; rejects after `timeoutMs`, or when xl2tpd exits first, with the log in the message.
   * Pass `instance.lines.length` as `since` to wait only for lines that come after an action.
   */
  waitForLog(pattern: RegExp, timeoutMs = 5000, since = 0): Promise<RegExpMatchArray> {
    const plain = new RegExp(pattern.source, pattern.flags.replace("g", "").replace("y", ""));
    for (let i = since; i < this.lines.length; i++) {
      const match = this.lines[i].match(plain);
      if (match) return Promise.resolve(match);
    }
    if (!this.running) {
      return Promise.reject(this.failure(`has exited; no log line matched ${pattern}`));
    }
    return new Promise((resolveMatch, reject) => {
      const waiter: LogWaiter = {
        pattern: plain,
        since,
        resolve: resolveMatch,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(this.failure(`logged no line matching ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Log lines from index `since` that match `pattern` (for asserting that something did NOT happen). */
  matching(pattern: RegExp, since = 0): string[] {
    const plain = new RegExp(pattern.source, pattern.flags.replace("g", "").replace("y", ""));
    return this.lines.slice(since).filter((line) => plain.test(line));
  }

  /** The whole log, one line each, prefixed with the label (for failure messages). */
  logText(): string {
    return this.lines.map((line) => `[${this.label}] ${line}`).join("\n");
  }

  /** PIDs of the stand-ins this instance started (from their PID files), alive or not; kept after `stop`. */
  standInPids(): number[] {
    const dir = join(this.dir, "stand-in-pids");
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) if (/^\d+$/.test(name)) this.standIns.add(Number(name));
    }
    return [...this.standIns];
  }

  /** Live processes of this instance: xl2tpd itself and every pppd (real or stand-in) it started; [] after `stop`. */
  processes(): number[] {
    const pids = new Set<number>([...this.knownChildren, ...this.standInPids()]);
    if (this.running) {
      pids.add(this.pid);
      for (const child of childrenOf(this.pid)) pids.add(child);
    }
    return [...pids].filter(isProcessAlive);
  }

  /**
   * Stops xl2tpd and everything it started, then removes its directory. SIGINT makes xl2tpd send StopCCN
   * to every tunnel first; SIGTERM sends nothing. It is reaped (SIGKILL after 5 s if it hangs), its
   * pppds get up to 2 s to notice the closed pty before they are killed. Idempotent.
   */
  stop(signal: "SIGINT" | "SIGTERM" | "SIGKILL" = "SIGINT"): Promise<ExitStatus> {
    this.stopping ??= this.stopNow(signal);
    return this.stopping;
  }

  private async stopNow(signal: NodeJS.Signals): Promise<ExitStatus> {
    if (this.running) {
      for (const child of childrenOf(this.pid)) this.knownChildren.add(child);
      signalQuietly(this.pid, signal);
      const exited = await Promise.race([this.exited, sleep(5000).then(() => undefined)]);
      if (!exited) signalQuietly(this.pid, "SIGKILL");
    }
    const status = await this.exited;
    const pppds = [...new Set([...this.knownChildren, ...this.standInPids()])];
    let left = await waitUntilGone(pppds, 2000);
    for (const pid of left) signalQuietly(pid, "SIGTERM");
    left = await waitUntilGone(left, 1000);
    for (const pid of left) signalQuietly(pid, "SIGKILL");
    await waitUntilGone(left, 1000);
    rmSync(this.dir, { recursive: true, force: true });
    return status;
  }

  /** @internal Synchronous last resort at process exit: SIGKILL everything, remove the directory. */
  killNow(): void {
    if (this.running) {
      for (const child of childrenOf(this.pid)) this.knownChildren.add(child);
      signalQuietly(this.pid, "SIGKILL");
    }
    for (const pid of [...this.knownChildren, ...this.standInPids()]) signalQuietly(pid, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** An Error naming this instance, with its log. */
  failure(what: string): Error {
    return new Error(`xl2tpd "${this.label}" on ${this.address}:${this.port} ${what}\n${this.logText()}`);
  }

  private async expectOk(line: string): Promise<void> {
    const answer = await this.command(line);
    if (!answer.startsWith("00")) throw this.failure(`answered ${JSON.stringify(answer)} to ${line}`);
  }

  /** xl2tpd closes and reopens the FIFO after each read burst: with no reader, open fails ENXIO; retry. */
  private async writeControl(text: string, deadline: number): Promise<void> {
    const control = join(this.dir, "control");
    for (;;) {
      let fd: number | undefined;
      try {
        fd = openSync(control, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, text);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== "ENXIO" && code !== "ENOENT" && code !== "EAGAIN") || Date.now() > deadline) {
          throw this.failure(`control FIFO ${control}: ${String(error)}`);
        }
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      await sleep(5);
    }
  }

  private readLines(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return;
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) this.addLine(part);
    });
    stream.on("end", () => {
      if (partial) this.addLine(partial);
      partial = "";
    });
  }

  private addLine(raw: string): void {
    const line = raw.trimEnd();
    if (!line) return;
    this.lines.push(line);
    if (this.echo) console.error(`[${this.label}] ${line}`);
    const index = this.lines.length - 1;
    for (const waiter of this.waiters) {
      if (index < waiter.since) continue;
      const match = line.match(waiter.pattern);
      if (!match) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(match);
    }
  }
}

/**
 * Starts xl2tpd in the foreground (`xl2tpd -D -c CONF -p PIDFILE -C CONTROL`) with a private config
 * directory, and resolves once it logs that it listens. Throws with the log if it exits or stays silent;
 * throws a clear error if xl2tpd (or, for the stand-in, unshare or root) is missing.
 */
export async function startXl2tpd(options: Xl2tpdOptions = {}): Promise<Xl2tpd> {
  const xl2tpd = options.program ?? findProgram("xl2tpd");
  if (!xl2tpd || !existsSync(xl2tpd)) {
    throw new Error(
      `xl2tpd is not installed${options.program ? ` at ${options.program}` : ""}: ${SETUP_HINT}`,
    );
  }
  const pppd = options.pppd ?? "stand-in";
  if (pppd !== "real") {
    if (!findProgram("unshare")) throw new Error("the stand-in pppd needs unshare (util-linux)");
    if (process.getuid?.() !== 0) {
      throw new Error("the stand-in pppd needs root (a private mount namespace to bind it over pppd)");
    }
    if (!existsSync(PPPD_PATH)) throw new Error(`${PPPD_PATH} is missing (the ppp package): ${SETUP_HINT}`);
  }
  const address = options.address ?? "127.0.0.1";
  if (!address.startsWith("127.")) throw new Error(`xl2tpd address ${address}: tests use 127.0.0.0/8 only`);
  // A free port can be taken between our probe and xl2tpd's bind: try again with another one.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeUdpPort(address));
    try {
      return await startOnce(xl2tpd, { ...options, address, port, pppd });
    } catch (error) {
      if (attempt >= attempts || !String(error).includes("Unable to bind socket")) throw error;
    }
  }
}

async function startOnce(
  xl2tpd: string,
  options: Xl2tpdOptions & { address: string; port: number; pppd: NonNullable<Xl2tpdOptions["pppd"]> },
): Promise<Xl2tpd> {
  const label = options.label ?? "xl2tpd";
  const dir = mkdtempSync(join(tmpdir(), `xl2tpd-${label.replace(/[^A-Za-z0-9_-]/g, "_")}-`));
  for (const [name, text] of Object.entries(renderConfig(options, dir))) {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
  }
  const pidDir = join(dir, "stand-in-pids");
  mkdirSync(pidDir);
  const args = [
    "-D",
    "-c",
    join(dir, "xl2tpd.conf"),
    "-p",
    join(dir, "xl2tpd.pid"),
    "-C",
    join(dir, "control"),
  ];
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  let command: string;
  let commandArgs: string[];
  if (options.pppd === "real") {
    command = xl2tpd;
    commandArgs = args;
  } else {
    const standIn = options.pppd === "stand-in" ? STAND_IN : resolve(options.pppd.path);
    if (options.pppd === "stand-in") {
      env.STAND_IN_PPPD_RUNTIME = bunBinary();
      env.STAND_IN_PPPD_MAIN = resolve(options.standInMain ?? STAND_IN_MAIN);
      env.STAND_IN_PPPD_PIDS = pidDir;
      if (options.standInEchoRequest) env.STAND_IN_PPPD_ECHO_REQUEST = "1";
    }
    // sh gets the stand-in as $0 and xl2tpd's command line as "$@", so no path is ever re-quoted.
    command = "unshare";
    commandArgs = [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount --bind "$0" ${PPPD_PATH} && exec "$@"`,
      standIn,
      xl2tpd,
      ...args,
    ];
  }
  const child = spawn(command, commandArgs, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  const spawnError = new Promise<Error>((resolveError) => child.once("error", resolveError));
  const echo = options.echo ?? process.env.XL2TPD_HARNESS_ECHO === "1";
  const instance = new Xl2tpd(label, { address: options.address, port: options.port }, dir, child, echo);
  const readyTimeoutMs = options.readyTimeoutMs ?? 5000;
  try {
    const ready = await Promise.race([
      instance.waitForLog(XL2TPD_LOG.listening, readyTimeoutMs),
      spawnError.then((error) => {
        throw new Error(`could not start ${command}: ${error.message}`);
      }),
    ]);
    if (Number(ready[2]) !== options.port) throw instance.failure(`listens on port ${ready[2]}`);
    return instance;
  } catch (error) {
    await instance.stop("SIGKILL");
    throw error;
  }
}
