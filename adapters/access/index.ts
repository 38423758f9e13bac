/**
 * The Access port: where a LAC's subscribers' PPP frames enter the node. One `AccessLine` per
 * subscriber carries whole PPP frames (Address/Control, Protocol, Information: RFC 1662 §3 without the
 * HDLC flags and FCS) both ways. The in-process subscriber simulator (simulator.ts) is the first
 * implementation; PPPoE (RFC 2516, a session per PADS) fits the same shape later: the LAC logic
 * (actors/lac-access.ts) sees lines and frames only.
 */

/** One subscriber's line. */
export interface AccessLine {
  /** For people and the log: "sim:7", a PPPoE session "aa:bb:cc:dd:ee:ff/0x0012". */
  readonly id: string;
  /** The subscriber's Calling Number (RFC 2661 §4.4.5), when the access medium knows it. */
  readonly callingNumber?: string;
  /** Sends a PPP frame to the subscriber. */
  send(frame: Uint8Array): void;
  /** Sets the receiver of the subscriber's frames (a later call replaces it). */
  onFrame(handler: (frame: Uint8Array) => void): void;
  /** Sets what runs when the line goes down under PPP (PPPoE PADT, the simulator hanging up). */
  onDown(handler: () => void): void;
  /** Takes the line down from our side (after LCP Terminate, or when the call is refused). */
  close(): void;
}

/** The Access port: the lines of subscribers as they come. */
export interface Access {
  /** Sets the receiver of new lines (a later call replaces it). */
  onLine(handler: (line: AccessLine) => void): void;
}
