/**
 * The event stream's batches (adapters/inspector/stream.ts) over a real HTTP response: at most MAX_BATCH
 * envelopes a batch, the rest counted as skipped, the id the seq reached (what a reconnecting page resumes
 * from), envelopes the page was sent already not sent again.
 */
import { afterEach, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_BATCH, StreamSubscriber } from "../../../adapters/inspector/stream.ts";
import type { Envelope } from "../../../events/envelope.ts";
import { envelopesOf } from "../../events/envelopes.ts";

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** What a page reads from a stream to which `feed` pushes and flushes, then ends. */
async function streamed(from: Record<string, number>, feed: (s: StreamSubscriber) => void): Promise<string> {
  server = createServer((_req, res) => {
    const subscriber = new StreamSubscriber(res, {}, from);
    feed(subscriber);
    subscriber.end();
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

/** The SSE events in a stream's text: their id and data. */
function events(text: string): { id: string; data: { envelopes: Envelope[]; skipped: number } }[] {
  return text
    .split("\n\n")
    .filter((block) => block.includes("event: envelopes"))
    .map((block) => ({
      id: /^id: (.*)$/m.exec(block)?.[1] ?? "",
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}"),
    }));
}

test("a batch carries at most MAX_BATCH envelopes and counts the rest as skipped; its id is the seq reached", async () => {
  const { ev } = envelopesOf("lns");
  const made = Array.from({ length: MAX_BATCH * 2 + 7 }, (_, i) =>
    ev(i, "session", { destination: "127.0.0.2:1701", tunnel: 1, session: i + 1 }, null, "idle", "x"),
  );
  const text = await streamed({ lns: 0 }, (s) => {
    for (const e of made) s.push(e);
    s.flush();
    s.push(made[3] as Envelope); // sent already: not again
    s.flush();
  });
  const batches = events(text);
  expect(batches).toHaveLength(1);
  const [batch] = batches;
  expect(batch?.id).toBe(`lns:${made.length}`);
  expect(batch?.data.envelopes.map((e) => e.seq)).toEqual(made.slice(0, MAX_BATCH).map((e) => e.seq));
  expect(batch?.data.skipped).toBe(made.length - MAX_BATCH);
});
