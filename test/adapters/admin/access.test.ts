/**
 * The admin token file as the CLI finds it (adapters/admin/access.ts): a node that made its token writes
 * it for its address and port; a node with a configured token removes a file left there by a node that
 * held the same address and port before and was killed without removing it (seen: the CLI sent that
 * stale token, and admin-surface.test.ts failed when a port was reused).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  ADMIN_TOKEN_ENV,
  adminAccess,
  adminTokenFile,
  clientAdminToken,
} from "../../../adapters/admin/access.ts";

const ADDRESS = "127.0.0.1";
/** A port no node of the suite listens on (privileged), so the file is only ever this test's. */
const PORT = 7;
const URL_ = `http://${ADDRESS}:${PORT}`;
const file = adminTokenFile(ADDRESS, PORT);

function leaveStaleToken(): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, "stale-token-of-a-killed-node\n", { mode: 0o600 });
}

const savedEnv = process.env[ADMIN_TOKEN_ENV];
afterEach(() => {
  rmSync(file, { force: true });
  if (savedEnv === undefined) delete process.env[ADMIN_TOKEN_ENV];
  else process.env[ADMIN_TOKEN_ENV] = savedEnv;
});

describe("the admin token file", () => {
  test("a node with a configured token removes a stale file for its address and port: the CLI finds none", () => {
    delete process.env[ADMIN_TOKEN_ENV];
    leaveStaleToken();
    expect(clientAdminToken(URL_)).toBe("stale-token-of-a-killed-node");
    const access = adminAccess({ address: ADDRESS, port: PORT }, "configured-token");
    access.listening(PORT);
    expect(existsSync(file)).toBe(false);
    expect(clientAdminToken(URL_)).toBeUndefined();
    access.dispose();
  });

  test("a node without one overwrites a stale file with the token it made, and removes it when it ends", () => {
    delete process.env[ADMIN_TOKEN_ENV];
    leaveStaleToken();
    const access = adminAccess({ address: ADDRESS, port: PORT }, undefined);
    access.listening(PORT);
    const made = clientAdminToken(URL_);
    expect(made).toBeDefined();
    expect(made).not.toBe("stale-token-of-a-killed-node");
    access.dispose();
    expect(existsSync(file)).toBe(false);
  });
});
