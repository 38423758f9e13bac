/**
 * Bounds on half-open tunnels: the tunnels peers asked for (SCCRQ) that have not completed their
 * handshake (SCCCN). Such a peer has proved nothing (its address may be forged), yet each tunnel costs
 * an actor, a control channel and SCCRP retransmissions. A node limits them in all and per source
 * address; an SCCRQ over a limit is refused with StopCCN 2/4 (RFC 2661 §4.4.2: insufficient resources).
 * The node-wide limit is for peers that only a wildcard profile (`address: any`) admits: a peer
 * configured by its own address is bounded per address only, so that a flood from elsewhere cannot
 * keep the node's known LACs from setting up their tunnels.
 */

/** Default bound on half-open tunnels, node-wide. */
export const MAX_HALF_OPEN_TUNNELS = 1024;
/** Default bound on half-open tunnels from one source address (a LAC opens many tunnels at once). */
export const MAX_HALF_OPEN_PER_ADDRESS = 128;
/** Default SCCRP retransmissions toward a peer that has not authenticated (the channel's own default is 5). */
export const MAX_RETRANSMITS_UNAUTHENTICATED = 2;

/** The half-open tunnels of a node, counted in all and by source address. */
export class HalfOpenTunnels {
  readonly maxTotal: number;
  readonly maxPerAddress: number;
  #total = 0;
  readonly #byAddress = new Map<string, number>();

  constructor(maxTotal = MAX_HALF_OPEN_TUNNELS, maxPerAddress = MAX_HALF_OPEN_PER_ADDRESS) {
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
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
   * profile names this address (the node-wide limit is for the others).
   */
  refuses(address: string, configured: boolean): string | null {
    if (!configured && this.#total >= this.maxTotal) {
      return `${this.#total} tunnels are in their handshake (the node's limit); try later`;
    }
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (fromAddress >= this.maxPerAddress) {
      return `${fromAddress} tunnels from ${address} are in their handshake (the limit per address); try later`;
    }
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
