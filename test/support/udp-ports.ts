/** UDP ports for tests and benchmarks that start a real UDP server (FreeRADIUS). */
import { createSocket } from "node:dgram";

/**
 * `count` distinct UDP ports on 127.0.0.1 that were free a moment ago: all are bound at once before
 * any is released, so the same port is never handed out twice in one call.
 */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
          const socket = createSocket("udp4");
          socket.once("error", reject);
          socket.bind(0, "127.0.0.1", () => resolve(socket));
        }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
