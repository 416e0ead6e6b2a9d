/**
 * The worker loop behind `skydiff worker`: poll the queue, dispatch each message,
 * and on stop (SIGTERM/SIGINT, or an aborted signal) finish the message in hand,
 * release the ones received but not started, and return.
 *
 * @module
 */
import { describeError } from "../errors.ts";
import type { Queue } from "../queue/queue.ts";
import { dispatch, type DispatchOptions, type Disposition } from "./dispatch.ts";

/** Options of {@linkcode runWorker}. */
export interface WorkerOptions extends DispatchOptions {
  /** Stops the loop when aborted. */
  signal: AbortSignal;
  /** Long-poll this long when the queue is empty. @default 10 */
  waitSeconds?: number;
  /** Messages taken per poll. @default 1 */
  batchSize?: number;
  /** Return once the queue is empty (for `skydiff run` and tests). @default false */
  untilEmpty?: boolean;
}

/** Counts of what a worker did; `failed`: dispatches the platform could not complete. */
export type WorkerStats = Record<Disposition | "failed", number>;

/** Runs the loop until the signal aborts (or the queue is empty, with `untilEmpty`). */
export async function runWorker(options: WorkerOptions): Promise<WorkerStats> {
  const stats: WorkerStats = { acked: 0, dead_lettered: 0, released: 0, failed: 0 };
  const queue: Queue = options.queue;
  const waitSeconds = options.untilEmpty ? 0 : options.waitSeconds ?? 10;
  while (!options.signal.aborted) {
    const batch = await queue.receive({ max: options.batchSize ?? 1, waitSeconds });
    if (batch.length === 0) {
      if (options.untilEmpty && (await queue.depth()) === 0) break;
      continue;
    }
    for (let i = 0; i < batch.length; i++) {
      if (options.signal.aborted) {
        for (const unstarted of batch.slice(i)) await queue.release(unstarted, 0);
        options.log.info("worker stopping: released messages not started", {
          released: batch.length - i,
        });
        break;
      }
      try {
        stats[await dispatch(batch[i], options)]++;
      } catch (err) {
        // the platform itself failed (e.g. the database went away while reporting):
        // keep polling; the message comes back when its visibility timeout ends
        options.log.error(`dispatch failed: ${describeError(err)}`, { message_id: batch[i].id });
        stats.failed++;
      }
    }
  }
  return stats;
}

/** An AbortSignal that aborts on SIGTERM or SIGINT (once); the message in hand still finishes. */
export function stopSignal(onStop?: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  for (const name of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(name, () => {
      if (!controller.signal.aborted) onStop?.(name);
      controller.abort(name);
    });
  }
  return controller.signal;
}
