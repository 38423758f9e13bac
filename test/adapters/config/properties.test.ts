import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type ConfigResult,
  decodeConfig,
  firstJsonError,
  parseConfig,
} from "../../../adapters/config/index.ts";

/** Every error is one line: "config", then a place, then what is wrong. */
function expectWellFormed(result: ConfigResult): void {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const line of result.errors) {
    expect(line).toMatch(/^config(: | \S.*: )\S/);
    expect(line).not.toContain("\n");
  }
}

const VALID = {
  node: { name: "n", hostName: "h" },
  listen: [{ address: "127.0.0.1", port: 1701 }],
  admin: { address: "127.0.0.1", port: 17010 },
  events: "memory:",
  timers: { helloSeconds: 60, retransmitInitialSeconds: 1, retransmitCapSeconds: 8 },
  limits: { maxTunnels: 10 },
  destinations: [{ address: "192.0.2.1", secret: "s", hide: ["callingNumber"] }, { address: "any" }],
};

/** The paths of VALID, so that a mutation hits a real field as often as a new one. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setIn(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<
    string | number,
    unknown
  >;
  copy[path[0]] = setIn(copy[path[0]], path.slice(1), value);
  return copy;
}

describe("parseConfig never throws and every error is one well-formed line", () => {
  test("any text, read as YAML and as JSON", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expectWellFormed(parseConfig(text, "yaml"));
        expectWellFormed(parseConfig(text, "json"));
      }),
      { numRuns: 500 },
    );
  });

  test("any value in any place of a valid file", () => {
    const places = paths(VALID);
    fc.assert(
      fc.property(fc.constantFrom(...places), fc.jsonValue({ maxDepth: 3 }), (path, generated) => {
        // As JSON text can carry it (-0 is written "0"), so that both readings see the same value.
        const value = JSON.parse(JSON.stringify(generated));
        const result = decodeConfig(setIn(VALID, path, value));
        expectWellFormed(result);
        const again = parseConfig(JSON.stringify(setIn(VALID, path, value)), "json");
        expect(again).toEqual(result);
      }),
      { numRuns: 500 },
    );
  });

  test("any JSON document as a whole", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => expectWellFormed(decodeConfig(value))),
      { numRuns: 300 },
    );
  });
});

describe("secrets stay out of error messages", () => {
  test("a secret of any length or content, next to other errors, is never echoed", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 400 }),
        fc.jsonValue({ maxDepth: 1 }),
        (tail, other) => {
          const secret = `SECRET-${tail}`;
          const file = setIn(
            setIn(VALID, ["destinations", 0, "secret"], secret),
            ["destinations", 0, "port"],
            other,
          );
          const result = decodeConfig(setIn(file, ["destinations", 1, "secret"], Number(tail.length)));
          if (result.ok) return;
          for (const line of result.errors) expect(line).not.toContain("SECRET-");
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("firstJsonError", () => {
  test("valid JSON has no error before its end", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        expect(firstJsonError(text)).toBe(text.length);
      }),
    );
  });

  test("a cut-off JSON text is found broken where it ends (unless cut inside a number)", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.nat(), (text, n) => {
        const prefix = text.slice(0, n % (text.length + 1));
        if (/[-+.eE0-9]$/.test(prefix)) return;
        try {
          JSON.parse(prefix);
          return; // still valid JSON
        } catch {
          expect(firstJsonError(prefix)).toBe(prefix.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("a million nested brackets do not overflow the stack", () => {
    const deep = "[".repeat(1_000_000);
    expect(firstJsonError(deep)).toBe(deep.length);
    const result = parseConfig(deep, "json");
    expect(result).toEqual({
      ok: false,
      errors: [
        "config line 1, column 1000001: invalid JSON, the text ends too early; fix the JSON syntax there",
      ],
    });
  });
});
