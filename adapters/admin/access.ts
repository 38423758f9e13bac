/**
 * Who may use the admin API. It listens on loopback by default. Every mutating request (drain,
 * enable, shutdown, close, dial, takeover) needs the bearer token, whatever the bind:
 * `Authorization: Bearer TOKEN`. The token is the config's `admin.token`; a node without one makes a
 * random token at start and writes it to a file only its user can read (like a cookie file), where the
 * CLI on the same machine finds it, so that another local user or a web page cannot drive the node.
 *
 * Binding anywhere but loopback needs a configured token (refused at start otherwise), and then every
 * request needs it, reads included. The token is never put in an answer or a log line.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { PeerAddress } from "../../actors/ports.ts";

/** The environment variable the CLI reads the admin token from (before the token file). */
export const ADMIN_TOKEN_ENV = "L2TP_ADMIN_TOKEN";

/** What an admin server lets through. */
export interface AdminAccess {
  /** Why a request is refused (status and message), or undefined when it may go on. */
  check(req: IncomingMessage): { status: number; error: string } | undefined;
  /** Called once the server listens on its real port: writes the made token's file. */
  listening(port: number): void;
  /** Removes the token file this server wrote. */
  dispose(): void;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, "");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === "::1" || a === "localhost";
}

/** Where a node without a configured token writes the one it made, for the admin API at host:port. */
export function adminTokenFile(host: string, port: number): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return join(tmpdir(), `l2tp-admin-${uid}`, `${host.replace(/[^0-9A-Za-z.-]/g, "_")}-${port}.token`);
}

/**
 * The access rules of an admin API on `listen` with the configured `token` (if any). Throws an Error
 * that gives the reason and the fix when `listen` is not loopback and no token is configured.
 */
export function adminAccess(listen: PeerAddress, token: string | undefined): AdminAccess {
  const loopback = isLoopback(listen.address);
  if (!loopback && token === undefined) {
    throw new Error(
      `admin API: listening on ${listen.address}:${listen.port} (not loopback) needs admin.token in the config (16+ characters, e.g. openssl rand -hex 24): anyone who reaches the port could drain or close the node; or listen on 127.0.0.1`,
    );
  }
  const secret = token ?? randomBytes(24).toString("hex");
  const expected = Buffer.from(`Bearer ${secret}`);
  let written: string | undefined;
  return {
    check(req) {
      const mutating = req.method !== "GET" && req.method !== "HEAD";
      if (!mutating && loopback) return undefined;
      const given = Buffer.from(String(req.headers.authorization ?? ""));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
      const where = token === undefined ? ` (this node wrote it to ${written ?? "its token file"})` : "";
      return {
        status: given.length === 0 ? 401 : 403,
        error: `${given.length === 0 ? "this request needs" : "wrong"} admin token: send Authorization: Bearer TOKEN; the CLI reads it from ${ADMIN_TOKEN_ENV} or the node's token file${where}`,
      };
    },
    listening(port) {
      const file = adminTokenFile(listen.address, port);
      if (token !== undefined) {
        // We hold this address and port now: a token file for it was left by a node that held it before
        // and died unclean (SIGKILL), and the CLI would send that stale token to us instead of ours.
        rmSync(file, { force: true });
        return;
      }
      const dir = join(file, "..");
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      written = file;
    },
    dispose() {
      if (written) rmSync(written, { force: true });
      written = undefined;
    },
  };
}

/**
 * The token the CLI sends to the admin API at `adminUrl`: L2TP_ADMIN_TOKEN, else the token file a
 * node on this machine wrote for that address, else none.
 */
export function clientAdminToken(adminUrl: string): string | undefined {
  const fromEnv = process.env[ADMIN_TOKEN_ENV];
  if (fromEnv) return fromEnv;
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  try {
    return readFileSync(adminTokenFile(host, Number(url.port || 80)), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
