import { describe, expect, test } from "bun:test";
import { closestName, editDistance } from "../../../adapters/config/suggest.ts";

describe("editDistance", () => {
  test("insertions, deletions, substitutions and swapped neighbours each cost one", () => {
    expect(editDistance("secret", "secret")).toBe(0);
    expect(editDistance("secrett", "secret")).toBe(1);
    expect(editDistance("secet", "secret")).toBe(1);
    expect(editDistance("sexret", "secret")).toBe(1);
    expect(editDistance("scerte", "secret")).toBe(2);
    expect(editDistance("", "port")).toBe(4);
  });
});

describe("closestName", () => {
  const keys = ["address", "port", "peerHostName", "secret", "hostName", "hide", "accept", "lockoutSeconds"];

  test("a typo within a third of the word", () => {
    expect(closestName("secrett", keys)).toBe("secret");
    expect(closestName("adress", keys)).toBe("address");
    expect(closestName("prot", keys)).toBe("port");
    expect(closestName("peerHostNmae", keys)).toBe("peerHostName");
  });

  test("case, dashes and underscores do not matter", () => {
    expect(closestName("HOSTNAME", keys)).toBe("hostName");
    expect(closestName("peer-host-name", keys)).toBe("peerHostName");
    expect(closestName("lockout_seconds", keys)).toBe("lockoutSeconds");
  });

  test("a unique prefix finds the key with its unit", () => {
    expect(closestName("lockout", keys)).toBe("lockoutSeconds");
    expect(closestName("helloSeconds", ["helloSeconds", "helloMs"])).toBe("helloSeconds");
    // Ambiguous prefixes fall back to edit distance, which finds nothing close here.
    expect(closestName("hel", ["helloSeconds", "helloMs"])).toBeUndefined();
  });

  test("nothing close, nothing suggested", () => {
    expect(closestName("colour", keys)).toBeUndefined();
    expect(closestName("", keys)).toBeUndefined();
    expect(closestName("x".repeat(65), ["x".repeat(65)])).toBeUndefined();
  });
});
