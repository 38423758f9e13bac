/**
 * The PPP stand-in's reading of pppd's command line and options file (no pty, no xl2tpd): who it is,
 * which authentication it refuses, and a clear error for an option without its value.
 */
import { describe, expect, test } from "bun:test";
import { optionWords, parsePppdOptions } from "./ppp-standin.ts";

describe("pppd options for the stand-in", () => {
  test("an options file is split as pppd splits it: comments dropped, quoted words kept whole", () => {
    expect(
      optionWords('# who\nuser alice   # the subscriber\npassword "two words \\" here"\nrefuse-pap\n'),
    ).toEqual(["user", "alice", "password", 'two words " here', "refuse-pap"]);
  });

  test("xl2tpd's command line with `file OPTFILE` expanded where it stands", () => {
    const files: Record<string, string> = {
      "/tmp/opts": "name lac-box\nuser bob\npassword pw\nrefuse-pap\nmru 1400\nusepeerdns\n",
    };
    const options = parsePppdOptions(
      ["/dev/pts/3", "passive", "nodetach", ":", "file", "/tmp/opts", "ipparam", "x"],
      (path) => files[path] ?? "",
    );
    expect(options).toEqual({
      user: "bob",
      password: "pw",
      authProtocols: ["chap"],
      mru: 1400,
      usePeerDns: true,
      ignored: ["passive", "nodetach", ":", "ipparam x"],
    });
  });

  test("`name` stands for the user when no `user` is given; refusing both leaves no protocol", () => {
    const options = parsePppdOptions(
      ["name carol", "refuse-chap", "refuse-pap"].join(" ").split(" "),
      () => "",
    );
    expect(options.user).toBe("carol");
    expect(options.authProtocols).toEqual([]);
  });

  test("an option without its value, or a bad MRU, is an error that names it", () => {
    expect(() => parsePppdOptions(["password"], () => "")).toThrow("pppd option password: needs a value");
    expect(() => parsePppdOptions(["mru", "big"], () => "")).toThrow('pppd option mru: "big" is not a size');
  });
});
