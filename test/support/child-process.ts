/** Stopping the real servers the integration tests start (nats-server, FreeRADIUS). */
import type { ChildProcess } from "node:child_process";

/**
 * Sends SIGTERM to `proc`, SIGKILL if it has not exited `graceMs` later, and resolves once `exited`
 * (the promise its harness resolves on the exit event) has.
 */
export async function terminate(proc: ChildProcess, exited: Promise<void>, graceMs = 3000): Promise<void> {
  if (!proc.pid || proc.exitCode !== null || proc.signalCode !== null) return;
  process.kill(proc.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (proc.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
