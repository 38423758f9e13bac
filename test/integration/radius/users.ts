/** The users the RADIUS integration tests and the fixture recorder give FreeRADIUS. */
import type { RadiusUser } from "./freeradius.ts";

/** A password of three 16-octet blocks: RFC 2865 §5.2 chaining beyond the first block. */
export const LONG_PASSWORD = "a-password-of-more-than-three-blocks-0123456789";

/** alice (every reply attribute), long (a long password), lac@example.net (two tagged tunnel groups). */
export const TEST_USERS: RadiusUser[] = [
  {
    name: "alice",
    password: "wonderland",
    reply: [
      ["Framed-IP-Address", "10.20.30.40"],
      ["Class", "0x01ff02"],
      ["Session-Timeout", 3600],
      ["Idle-Timeout", 600],
      ["Acct-Interim-Interval", 300],
      ["Framed-Pool", "gold"],
      ["Reply-Message", "welcome"],
    ],
  },
  { name: "long", password: LONG_PASSWORD },
  {
    name: "lac@example.net",
    password: "x",
    reply: [
      ["Tunnel-Type:1", "L2TP"],
      ["Tunnel-Medium-Type:1", "IPv4"],
      ["Tunnel-Server-Endpoint:1", "192.0.2.1"],
      ["Tunnel-Password:1", "first-secret"],
      ["Tunnel-Preference:1", 1],
      ["Tunnel-Assignment-Id:1", "lns-a"],
      ["Tunnel-Client-Auth-Id:1", "lac-a"],
      ["Tunnel-Server-Auth-Id:1", "lns-a"],
      ["Tunnel-Type:2", "L2TP"],
      ["Tunnel-Medium-Type:2", "IPv4"],
      ["Tunnel-Server-Endpoint:2", "192.0.2.2"],
      ["Tunnel-Password:2", "a-second-tunnel-secret-longer-than-16"],
      ["Tunnel-Preference:2", 2],
    ],
  },
];
