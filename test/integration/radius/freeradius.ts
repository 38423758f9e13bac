/**
 * A real FreeRADIUS 3.2 for integration tests and benchmarks (docs/INTEROP.md): a config directory of its
 * own in a temp folder (radiusd.conf listening on 127.0.0.1 on free auth/acct ports, clients with a
 * secret, the `files` module with a users file, `pap`, `chap`, and `detail` writing accounting into one
 * file), started in the foreground, ready when it says "Ready to process requests", stopped by PID and
 * restartable on the same ports and directory (an outage test stops it and starts it again).
 * Runs on Bun and Deno (node: APIs only).
 *
 *   const radius = await startFreeRadius({ users: [{ name: "alice", password: "pw", reply: [["Framed-IP-Address", "10.0.0.5"]] }] });
 *   // radius.authPort, radius.acctPort, radius.secret, radius.detailFile
 *   await radius.dispose();
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terminate } from "../../support/child-process.ts";
import { freeUdpPorts } from "../../support/udp-ports.ts";

/** A reply or check item of a users-file entry: an attribute (with `:tag` if tagged) and its value. */
export type RadiusItem = readonly [attribute: string, value: string | number];

/** One users-file entry: the user's Cleartext-Password and what the server replies when it accepts. */
export interface RadiusUser {
  name: string;
  /** Cleartext-Password: lets both `pap` and `chap` check the user. */
  password: string;
  /** Further check items (`Auth-Type := Reject`, `NAS-Port-Type == Virtual`). */
  check?: readonly RadiusItem[];
  /** Reply items: `["Framed-IP-Address", "10.0.0.5"]`, `["Tunnel-Type:1", "L2TP"]`, `["Class", "0x01ff"]`. */
  reply?: readonly RadiusItem[];
}

/** A client entry: who may send requests and with which shared secret. */
export interface RadiusClient {
  /** An address or a prefix (`127.0.0.0/8`). */
  address: string;
  secret: string;
}

export interface FreeRadiusOptions {
  /** The users file: structured entries, or the raw text of a users file. */
  users: readonly RadiusUser[] | string;
  /** Default: every loopback address (127.0.0.0/8) with `secret`. */
  clients?: readonly RadiusClient[];
  /** The secret of the default client; default "testing123". */
  secret?: string;
  /** Fixed ports (a restart keeps them anyway); default two free UDP ports. */
  authPort?: number;
  acctPort?: number;
  /**
   * `-X` (single-threaded, every request logged to the kept output): the default, what a failing test
   * wants to read. `false` runs `-f` with a thread pool of `threads`, what a benchmark wants.
   */
  debug?: boolean;
  /** Worker threads when not debugging; default 4. */
  threads?: number;
  /** The config directory; default a new temp folder, removed by dispose(). */
  dir?: string;
}

/** One running (or stopped) FreeRADIUS. */
export interface FreeRadius {
  readonly authPort: number;
  readonly acctPort: number;
  readonly secret: string;
  /** The config directory. */
  readonly dir: string;
  /** The file the `detail` module appends every accounting request to. */
  readonly detailFile: string;
  /** The PID of the current process, undefined while stopped. */
  readonly pid: number | undefined;
  /** The last lines FreeRADIUS printed (with `debug`, every request it handled). */
  output(): string;
  /**
   * Resolves with the output once `pattern` is in it: FreeRADIUS's log of a request reaches us a moment
   * after its reply does. Rejects after `timeoutMs` (default 2000) with the output's tail.
   */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** The accounting records written to `detailFile` so far, each as attribute → values. */
  detailRecords(): Array<Record<string, string[]>>;
  /** Stops the process with `signal` (default SIGTERM) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and directory; resolves when it is ready. */
  restart(): Promise<void>;
  /** Stops it (SIGKILL if SIGTERM is not enough) and removes a temp directory it created. */
  dispose(): Promise<void>;
}

const READY = "Ready to process requests";

/** Where scripts/setup.sh installs the server (Debian's freeradius package). */
function freeRadiusBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v freeradius || command -v radiusd"], { encoding: "utf8" });
  const path = found.stdout?.trim().split("\n")[0];
  if (found.status !== 0 || !path) {
    throw new Error(
      "freeradius is not installed: run scripts/setup.sh (it installs Debian's freeradius 3.2)",
    );
  }
  return path;
}

/** A value as the users file wants it: numbers and `0x…` octets bare, everything else double-quoted. */
function usersValue(value: string | number): string {
  if (typeof value === "number" || /^0x[0-9a-fA-F]*$/.test(value)) return String(value);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The text of a users file for structured entries. */
export function usersFileText(users: readonly RadiusUser[]): string {
  return users
    .map((user) => {
      const check = [
        `Cleartext-Password := ${usersValue(user.password)}`,
        ...(user.check ?? []).map(
          ([a, v]) => `${a} ${a.startsWith("Auth-Type") ? ":=" : "=="} ${usersValue(v)}`,
        ),
      ].join(", ");
      const reply = (user.reply ?? []).map(([a, v]) => `\t${a} = ${usersValue(v)}`).join(",\n");
      return `${usersValue(user.name)}\t${check}${reply ? `\n${reply}` : ""}\n`;
    })
    .join("\n");
}

/** radiusd.conf: only what the tests use, every path inside `dir`. */
function radiusdConf(
  dir: string,
  authPort: number,
  acctPort: number,
  clients: readonly RadiusClient[],
  threads: number,
): string {
  const clientBlocks = clients
    .map(
      (c, i) => `client c${i} {
	ipaddr = ${c.address}
	secret = "${c.secret.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"
	require_message_authenticator = no
}`,
    )
    .join("\n");
  return `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}/log
raddbdir = ${dir}
radacctdir = ${dir}/acct
name = freeradius
confdir = ${dir}
modconfdir = ${dir}
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = ${dir}/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
correct_escapes = true

log {
	destination = stdout
	colourise = no
	stripped_names = no
	auth = no
}

security {
	allow_core_dumps = no
	max_attributes = 200
	# The tests want a reject at once, not after the default second.
	reject_delay = 0
	status_server = no
}

thread pool {
	start_servers = ${threads}
	max_servers = ${threads}
	min_spare_servers = 1
	max_spare_servers = ${threads}
	max_requests_per_server = 0
	auto_limit_acct = no
}

# Each listen names its server: at the top level a listen serves the (empty) top-level sections, and
# every request is rejected with "No Auth-Type found".
listen {
	type = auth
	ipaddr = 127.0.0.1
	port = ${authPort}
	virtual_server = default
}

listen {
	type = acct
	ipaddr = 127.0.0.1
	port = ${acctPort}
	virtual_server = default
}

${clientBlocks}

modules {
	pap {
		normalise = yes
	}
	chap {
	}
	files {
		filename = ${dir}/users
	}
	detail {
		filename = ${dir}/detail
		escape_filenames = no
		permissions = 0600
		header = "%t"
		locking = no
		log_packet_header = no
	}
	always reject {
		rcode = reject
	}
}

server default {
	authorize {
		chap
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
	}
	preacct {
	}
	accounting {
		detail
	}
	post-auth {
		Post-Auth-Type REJECT {
			reject
		}
	}
}
`;
}

/** Parses a detail file: records separated by blank lines, each a date line then `Attr = value` lines. */
export function parseDetail(text: string): Array<Record<string, string[]>> {
  const records: Array<Record<string, string[]>> = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    const record: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const m = /^\s*([A-Za-z0-9:_-]+)\s*=\s*(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2].startsWith('"') && m[2].endsWith('"') ? m[2].slice(1, -1) : m[2];
      record[m[1]] ??= [];
      record[m[1]].push(value);
    }
    records.push(record);
  }
  return records;
}

/** Starts FreeRADIUS with its own config directory and resolves when it is ready to process requests. */
export async function startFreeRadius(options: FreeRadiusOptions): Promise<FreeRadius> {
  const binary = freeRadiusBinary();
  const secret = options.secret ?? "testing123";
  const [freeAuth, freeAcct] = await freeUdpPorts(2);
  const authPort = options.authPort ?? freeAuth;
  const acctPort = options.acctPort ?? freeAcct;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "l2tp-radius-"));
  const debug = options.debug ?? true;
  const clients = options.clients ?? [{ address: "127.0.0.0/8", secret }];
  for (const sub of ["log", "run", "acct"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(
    join(dir, "radiusd.conf"),
    radiusdConf(dir, authPort, acctPort, clients, options.threads ?? 4),
  );
  writeFileSync(
    join(dir, "users"),
    typeof options.users === "string" ? options.users : usersFileText(options.users),
  );
  const detailFile = join(dir, "detail");

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";

  const launch = async (): Promise<void> => {
    output = "";
    const args = debug ? ["-X", "-d", dir] : ["-f", "-l", "stdout", "-d", dir];
    const proc = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let exitedWith: string | undefined;
    let onLine: (() => void) | undefined;
    const keep = (chunk: Uint8Array) => {
      // Keep a tail: enough to say why a start or a request failed.
      output = (output + new TextDecoder().decode(chunk)).slice(-200_000);
      onLine?.();
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        exitedWith = `code ${code} signal ${signal}`;
        if (child === proc) child = undefined;
        onLine?.();
        resolve();
      });
      proc.once("error", (error) => {
        exitedWith = String(error);
        if (child === proc) child = undefined;
        onLine?.();
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        onLine = undefined;
        reject(new Error(`freeradius was not ready within 15 s: ${tail(output)}`));
      }, 15_000);
      onLine = () => {
        if (output.includes(READY)) {
          clearTimeout(timer);
          onLine = undefined;
          resolve();
        } else if (exitedWith) {
          clearTimeout(timer);
          onLine = undefined;
          reject(new Error(`freeradius exited before it was ready (${exitedWith}): ${tail(output)}`));
        }
      };
      onLine();
    });
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    process.kill(proc.pid, signal);
    await exited;
  };

  await launch();
  return {
    authPort,
    acctPort,
    secret,
    dir,
    detailFile,
    get pid() {
      return child?.pid;
    },
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      const found = () => (typeof pattern === "string" ? output.includes(pattern) : pattern.test(output));
      while (!found()) {
        if (Date.now() > deadline) throw new Error(`freeradius never printed ${pattern}: ${tail(output)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return output;
    },
    detailRecords: () => (existsSync(detailFile) ? parseDetail(readFileSync(detailFile, "utf8")) : []),
    stop,
    restart: launch,
    async dispose() {
      if (child) await terminate(child, exited);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tail(text: string): string {
  return text.trim().split("\n").slice(-8).join(" | ");
}
