/**
 * Options shared by the queue adapters.
 *
 * @module
 */
import type { ReceiveOptions } from "./queue.ts";

/** Per-queue settings every adapter takes. */
export interface QueueOptions {
  /** Seconds a received message stays invisible unless acked or released. @default 30 */
  visibilitySeconds?: number;
  /** Receptions before a message goes to the dead-letter queue (on its next receive). @default 5 */
  maxReceives?: number;
}

/** Receive options with defaults filled in and values checked. */
export function checkReceiveOptions(
  options: ReceiveOptions,
  defaultVisibility: number,
): { max: number; waitSeconds: number; visibilitySeconds: number } {
  const max = options.max ?? 1;
  const waitSeconds = options.waitSeconds ?? 0;
  const visibilitySeconds = options.visibilitySeconds ?? defaultVisibility;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`receive max ${max} is not >= 1`);
  if (!(waitSeconds >= 0)) throw new RangeError(`receive waitSeconds ${waitSeconds} is negative`);
  if (!(visibilitySeconds >= 0)) {
    throw new RangeError(`receive visibilitySeconds ${visibilitySeconds} is negative`);
  }
  return { max, waitSeconds, visibilitySeconds };
}
