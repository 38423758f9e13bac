/**
 * A new user's trip (issue 11 item 5), tried as a new user would: the README and the docs of a clone,
 * the one way to call the CLI, and each mistake of the command line answered by a message that names
 * the option and the fix, with exit code 2. Every test runs the real CLI in a process of its own.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { L2TP } from "../../bin/commands/cli.ts";
import { commands } from "../../bin/commands/index.ts";
import { killStartedNodes, l2tp, l2tpWithin, startNode } from "../integration/l2tp-cli.ts";
import { freePort } from "../support/ports.ts";

const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "l2tp-new-user-"));
afterAll(() => {
  killStartedNodes();
  rmSync(dir, { recursive: true, force: true });
});

/** The repository's own text files (no node_modules, no var, no git). */
function repositoryFiles(): string[] {
  const out = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  return out.stdout
    .split("\n")
    .filter((f) => /\.(ts|md|sh|yaml|json)$/.test(f) && f !== "node_modules")
    .filter((f) => !f.startsWith("node_modules/"));
}

test("a clone stands on its own: no pointer to notes outside the repository, and the docs it points to exist", () => {
  const outside: string[] = [];
  const missing: string[] = [];
  for (const file of repositoryFiles()) {
    let text: string;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      continue;
    }
    if (file === "test/bin/new-user.test.ts") continue;
    text.split("\n").forEach((line, i) => {
      if (/\.\.\/shared\/|\/work\/shared|(?<![/\w])(DESIGN|TOOLCHAIN|STYLE)(\.md|:)/.test(line))
        outside.push(`${file}:${i + 1}: ${line.trim()}`);
      for (const m of line.matchAll(/\bdocs\/([A-Z]+\.md)/g))
        if (!repositoryFiles().includes(`docs/${m[1]}`)) missing.push(`${file}:${i + 1}: docs/${m[1]}`);
      // Inside docs/ a link is relative ([INTEROP.md](INTEROP.md)); elsewhere it names docs/.
      if (/(?<![\w/([])INTEROP\.md/.test(line) && !line.includes("docs/INTEROP.md"))
        outside.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(outside).toEqual([]);
  expect(missing).toEqual([]);
  const architecture = readFileSync(join(root, "docs/ARCHITECTURE.md"), "utf8");
  // The map names every top-level folder of the code.
  for (const folder of [
    "protocol/",
    "machines/",
    "actors/",
    "events/",
    "adapters/",
    "bin/",
    "test/",
    "bench/",
  ])
    expect(architecture).toContain(folder);
});

test(`one way to call the CLI after npm ci: '${L2TP}', in the README and every help text`, () => {
  const help = spawnSync("npx", ["--no-install", "l2tp", "-h"], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain(`usage: ${L2TP} <command>`);

  const readme = readFileSync(join(root, "README.md"), "utf8");
  // Commands in the README: only `npx l2tp …`, or Deno's own form.
  const stray = readme
    .split("\n")
    .filter((line) => /`bun |\bbun bin\/|node_modules\/\.bin\/bun bin\/l2tp/.test(line));
  expect(stray).toEqual([]);
  expect(readme).toContain(`${L2TP} lab`);

  for (const name of Object.keys(commands)) {
    const r = l2tp(name, "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`usage: ${L2TP} ${name}`);
    // A command named in a help text is written the way it can be run.
    const bare = r.out.match(/(?<!npx )\bl2tp (run|lab|replay|show|takeover|dial|close|decode)\b/g);
    expect({ name, bare }).toEqual({ name, bare: null });
  }
}, 60_000);

test("-h, --help and help at the top level print the usage and exit 0", () => {
  for (const flag of ["-h", "--help", "help"]) {
    const r = l2tp(flag);
    expect({ flag, code: r.code }).toEqual({ flag, code: 0 });
    expect(r.out).toContain("commands:");
  }
}, 30_000);

test("an unknown command and an unknown option: both exit 2, with a suggestion", () => {
  const command = l2tp("replya", "file:x");
  expect(command.code).toBe(2);
  expect(command.err).toContain("unknown command 'replya'; did you mean 'replay'?");
  const option = l2tp("lab", "--sesions", "3");
  expect(option.code).toBe(2);
  expect(option.err).toContain("unknown option --sesions; did you mean --sessions?");
  expect(l2tp("dial", "127.0.0.1:1701", "--cuont", "2").err).toContain("did you mean --count?");
}, 30_000);

test("dial --count abc is refused before any call, naming --count", () => {
  // No node listens there: a call placed anyway would fail with 'no node answers', exit 1.
  const r = l2tp("dial", "127.0.0.1:1701", "--count", "abc", "--admin", "http://127.0.0.1:9");
  expect(r.code).toBe(2);
  expect(r.err).toContain("--count: expected a whole number from 1 to 65,535, got 'abc'");
});

test("close names its target: no target is a usage error, and its help names no default", () => {
  const help = l2tp("close", "--help");
  expect(help.out).not.toContain("default");
  expect(help.out).toContain("TARGET (required)");
  const r = l2tp("close", "--admin", "http://127.0.0.1:9");
  expect(r.code).toBe(2);
  expect(r.err).toContain("name what to close");
}, 30_000);

test("`events: memory:` in a YAML config: the hint says to quote it", () => {
  const path = join(dir, "memory.yaml");
  writeFileSync(path, "node: { name: lns1 }\nevents: memory:\n");
  const r = l2tp("run", "--config", path);
  expect(r.code).toBe(2);
  expect(r.err).toContain('must be quoted, e.g. events: "memory:"');
  expect(r.err).not.toContain("put a space after the colon");
});

test("lab --tunnels more than --sessions is refused, naming --tunnels", () => {
  const r = l2tpWithin(20_000, ["lab", "--sessions", "10", "--tunnels", "20", "--events", "memory:"], dir);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--tunnels: 20 tunnels for 10 sessions");
});

test("an address in use names the address and the port", async () => {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  try {
    const path = join(dir, "busy.yaml");
    writeFileSync(
      path,
      `node: { name: busy }\nlisten: [{ address: 127.0.0.1, port: ${port} }]\nadmin: { address: 127.0.0.1, port: ${await freePort()} }\nevents: "memory:"\n`,
    );
    const r = l2tp("run", "--config", path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot bind UDP 127.0.0.1:${port}: EADDRINUSE`);
  } finally {
    socket.close();
  }
});

test("lab runs: --json alone on stdout, each run a folder of its own (printed), replayed by plain path", () => {
  const work = join(dir, "labs");
  mkdirSync(work);
  const first = l2tpWithin(60_000, ["lab", "--sessions", "3", "--hold", "0", "--json"], work);
  expect(first.code).toBe(0);
  const lines = first.out.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  const report = JSON.parse(lines[0] as string) as { events: { recorded: Record<string, number> } };
  expect(first.err).toContain("lab: ok");

  const second = l2tpWithin(60_000, ["lab", "--sessions", "2", "--hold", "0"], work);
  expect(second.code).toBe(0);
  const folder = (text: string) => /replay with {2}npx l2tp replay file:(\S+)/.exec(text)?.[1] as string;
  const [a, b] = [folder(first.err), folder(second.out)];
  expect(a).toBeString();
  expect(b).toBeString();
  expect(a).not.toBe(b);
  expect(readdirSync(join(work, "var/lab"))).toHaveLength(2);

  // A plain directory path is the file log; the first run's folder holds the first run only.
  const replayed = l2tpWithin(30_000, ["replay", relative(work, a), "--json"], work);
  expect(replayed.code).toBe(0);
  const recorded = Object.values(report.events.recorded).reduce((x, y) => x + y, 0);
  expect(replayed.out.trimEnd().split("\n")).toHaveLength(recorded);
  expect(l2tpWithin(30_000, ["replay", "no-such-dir"], work).err).toContain("no such directory");
}, 120_000);

test("replay --sessions without --at, decode --hex with --pcap: refused, not half ignored", () => {
  const sessions = l2tp("replay", dir, "--sessions");
  expect(sessions.code).toBe(2);
  expect(sessions.err).toContain("--sessions lists the sessions of the tree at a moment: give --at TIME");
  const both = l2tp("decode", "--hex", "c802", "--pcap", "test/fixtures/captures/xl2tpd-lns-hello.pcapng");
  expect(both.code).toBe(2);
  expect(both.err).toContain("give --hex or --pcap, not both");
}, 30_000);

test("decode --pcap DIR says it is a directory", () => {
  const r = l2tp("decode", "--pcap", dir);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`--pcap ${dir}: is a directory; give the path of a pcap or pcapng capture`);
  expect(r.err).not.toContain("EISDIR");
});

test("takeover against a primary says it is not a standby", async () => {
  const admin = await freePort();
  await startNode(
    dir,
    "primary",
    `node: { name: primary }\nlisten: [{ address: 127.0.0.1, port: 0 }]\nadmin: { address: 127.0.0.1, port: ${admin} }\nevents: "memory:"\n`,
  );
  const r = l2tp("takeover", "--admin", `http://127.0.0.1:${admin}`);
  expect(r.code).toBe(1);
  expect(r.err).toContain("is not a standby");
  expect(r.err).not.toContain("no such endpoint");
  killStartedNodes();
}, 30_000);

test("a takeover that fails says that the standby has stopped", async () => {
  const events = `file:${join(dir, "standby-events")}`;
  const udp = 20000 + Math.floor(Math.random() * 20000);
  const config = (admin: number) =>
    `node: { name: pair }\nlisten: [{ address: 127.0.0.1, port: ${udp} }]\nadmin: { address: 127.0.0.1, port: ${admin} }\nevents: "${events}"\n`;
  await startNode(dir, "pair-primary", config(await freePort()));
  const standbyAdmin = await freePort();
  const standby = await startNode(dir, "pair-standby", config(standbyAdmin), [
    "--standby",
    "--takeover-after",
    "0",
  ]);
  const exited = new Promise<number | null>((resolve) => standby.child.once("exit", resolve));
  // The primary still holds the UDP address: the standby cannot bind it.
  const r = l2tpWithin(20_000, ["takeover", "--admin", `http://127.0.0.1:${standbyAdmin}`]);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`cannot bind UDP 127.0.0.1:${udp}: EADDRINUSE`);
  expect(r.err).toContain("this standby has stopped (exit 1)");
  expect(await exited).toBe(1);
  killStartedNodes();
}, 30_000);

test("npm test -- FILE runs that file alone", () => {
  const r = spawnSync("npm", ["test", "--", "./test/actors/ids.test.ts"], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(r.status).toBe(0);
  expect(`${r.stdout}${r.stderr}`).toMatch(/Ran \d+ tests? across 1 file/);
}, 70_000);

test("the README names the Node version npm needs, and the setup checks it", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  expect(readme).toMatch(/Node(\.js)? 20 or later/);
  // A machine with Node 18: the setup stops before npm, naming what is needed.
  const fake = join(dir, "node18");
  mkdirSync(fake);
  writeFileSync(join(fake, "node"), "#!/bin/sh\necho 18\n");
  chmodSync(join(fake, "node"), 0o755);
  const r = spawnSync("bash", ["scripts/setup.sh"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: `${fake}:${process.env.PATH}` },
    timeout: 30_000,
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("Node 20 or later is needed");
});
