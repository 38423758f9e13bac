/**
 * A stand-in for Stately's inspector in tests of the Stately bridge (adapters/inspector/stately.ts): a
 * real WebSocket server on 127.0.0.1 (Bun.serve) that keeps every message it is sent, and a wait on a
 * condition in real time.
 */

/** One message of the bridge, as the server parsed it. */
export type StatelyMessage = Record<string, unknown> & { type: string; id: string; sessionId: string };

/** A WebSocket server on 127.0.0.1 that keeps every message; `stop` closes it and its connections. */
export function statelyInspector(): { url: string; received: StatelyMessage[]; stop: () => void } {
  const received: StatelyMessage[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("WebSocket only", { status: 400 })),
    websocket: {
      message(_ws, text) {
        received.push(JSON.parse(String(text)) as StatelyMessage);
      },
    },
  });
  return { url: `ws://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}

/** Waits (real time) until `ok`, or fails saying `what`. */
export async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}
