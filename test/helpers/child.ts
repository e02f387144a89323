/** Stopping the server processes that test helpers spawn (registry, PLC/PDS, openssl responders). */
import type { ChildProcess } from 'node:child_process';

/**
 * Stops `child` politely: SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves
 * when it has exited. Does nothing for a child that already exited.
 */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
