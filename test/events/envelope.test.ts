import { describe, expect, test } from "bun:test";
import { machineOfPath, nodeNameProblem, stateValueToString } from "../../events/envelope.ts";

describe("stateValueToString", () => {
  test("a flat state is its name", () => {
    expect(stateValueToString("established")).toBe("established");
  });

  test("nested states are joined with dots", () => {
    expect(stateValueToString({ closing: "waitAck" })).toBe("closing.waitAck");
    expect(stateValueToString({ up: { lcp: "opened" } })).toBe("up.lcp.opened");
  });

  test("parallel regions are listed in key order, so the text is stable", () => {
    expect(stateValueToString({ up: { lcp: "opened", ipcp: "reqSent" } })).toBe(
      "up.(ipcp.reqSent,lcp.opened)",
    );
    expect(stateValueToString({ b: "x", a: {} })).toBe("(a,b.x)");
  });
});

describe("paths and node names", () => {
  test("the machine of a path is its deepest level", () => {
    expect(machineOfPath({})).toBe("system");
    expect(machineOfPath({ destination: "127.0.0.1:1701" })).toBe("destination");
    expect(machineOfPath({ destination: "127.0.0.1:1701", tunnel: 1 })).toBe("tunnel");
    expect(machineOfPath({ destination: "127.0.0.1:1701", tunnel: 1, session: 2 })).toBe("session");
  });

  test("node names must be safe as a NATS subject token and a directory", () => {
    expect(nodeNameProblem("lns-1")).toBeNull();
    expect(nodeNameProblem("lns_A9")).toBeNull();
    for (const bad of ["", "lns.test", "a b", "x>", "*", "../etc", "a/b", "x".repeat(65)]) {
      expect(nodeNameProblem(bad)).toContain("must be");
    }
  });
});
