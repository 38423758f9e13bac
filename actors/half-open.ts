/**
 * Bounds on half-open tunnels: the tunnels peers asked for (SCCRQ) that have not completed their
 * handshake (SCCCN). Such a peer has proved nothing (its address may be forged), yet each tunnel costs
 * an actor, a control channel and SCCRP retransmissions. A node limits them in all and per source
 * address; an SCCRQ over a limit is refused with StopCCN 2/4 (RFC 2661 §4.4.2: insufficient resources).
 * The node-wide limit is for peers that only a wildcard profile (`address: any`) admits: a peer
 * configured by its own address is bounded per address only, so that a flood from elsewhere cannot
 * keep the node's known LACs from setting up their tunnels.
 *
 * Under a flood most SCCRQs are over a limit, so a refusal is made to cost little: its StopCCN is
 * encoded once per limit (the same words every time) and only re-addressed per SCCRQ, and the router
 * refuses from the SCCRQ's header and Assigned Tunnel ID alone, without decoding it (node.ts).
 */
import { encodeControl } from "../protocol/l2tp/messages.ts";
import { GeneralError } from "../protocol/l2tp/result.ts";
import { StopCcnResult } from "../protocol/l2tp/result-codes.ts";

/** Default bound on half-open tunnels, node-wide. */
export const MAX_HALF_OPEN_TUNNELS = 1024;
/** Default bound on half-open tunnels from one source address (a LAC opens many tunnels at once). */
export const MAX_HALF_OPEN_PER_ADDRESS = 128;
/** Default SCCRP retransmissions toward a peer that has not authenticated (the channel's own default is 5). */
export const MAX_RETRANSMITS_UNAUTHENTICATED = 2;

/** Why an SCCRQ is refused for a limit, and the StopCCN that says so (to be re-addressed per SCCRQ). */
export interface HalfOpenRefusal {
  readonly message: string;
  /** StopCCN 2/4 with this message, Assigned Tunnel ID 0, encoded under a header of zeros. */
  readonly stopCcn: Uint8Array;
}

/** RFC 2661 §4.4.2: StopCCN result 2 (general error), error 4 (insufficient resources), saying `message`. */
function refusal(message: string): HalfOpenRefusal {
  const resultCode = {
    result: StopCcnResult.generalError,
    error: GeneralError.insufficientResources,
    message,
  };
  const stopCcn = encodeControl(
    { tunnelId: 0, sessionId: 0, ns: 0, nr: 0 },
    { type: "StopCCN", avps: { assignedTunnelId: 0, resultCode } },
  ).slice(); // kept for the node's life: a copy of its own, not a view that holds a whole slab
  return { message, stopCcn };
}

/** The half-open tunnels of a node, counted in all and by source address. */
export class HalfOpenTunnels {
  readonly maxTotal: number;
  readonly maxPerAddress: number;
  #total = 0;
  readonly #byAddress = new Map<string, number>();

  /** The refusal when the node-wide limit is reached, and when an address's is. */
  readonly nodeFull: HalfOpenRefusal;
  readonly addressFull: HalfOpenRefusal;

  constructor(maxTotal = MAX_HALF_OPEN_TUNNELS, maxPerAddress = MAX_HALF_OPEN_PER_ADDRESS) {
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
    this.nodeFull = refusal(`${maxTotal} tunnels are in their handshake (the node's limit); try later`);
    this.addressFull = refusal(
      `${maxPerAddress} tunnels from this address are in their handshake (the limit per address); try later`,
    );
  }

  /** Half-open tunnels now. */
  get total(): number {
    return this.#total;
  }

  /** Source addresses with a half-open tunnel now. */
  get addresses(): number {
    return this.#byAddress.size;
  }

  /**
   * Null when one more tunnel may start its handshake from `address`, else why not; `configured`: a
   * profile names this address (the node-wide limit is for the others). Allocates nothing.
   */
  refuses(address: string, configured: boolean): HalfOpenRefusal | null {
    if (!configured && this.#total >= this.maxTotal) return this.nodeFull;
    if ((this.#byAddress.get(address) ?? 0) >= this.maxPerAddress) return this.addressFull;
    return null;
  }

  /** Counts a tunnel from `address` in its handshake; the function returned uncounts it (once). */
  open(address: string): () => void {
    this.#total++;
    this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#total--;
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#byAddress.set(address, left);
      else this.#byAddress.delete(address);
    };
  }
}
