/**
 * Turns one received queue message into a handler call and disposes of the
 * message by the outcome (DESIGN.md, "The step contract"):
 *
 * - success: send the next messages, then acknowledge;
 * - {@linkcode NoWorkFound} / {@linkcode AlgorithmError}: acknowledge, record why;
 * - {@linkcode InputError} (bad message or product): dead-letter, log the bad field;
 * - anything else: release for a delayed retry; the queue dead-letters it after
 *   its maximum number of receptions.
 *
 * Every outcome is logged and recorded as a report.
 *
 * @module
 */
import { AlgorithmError, describeError, InputError, NoWorkFound, StepError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { formatMessage, parseMessage, type StepMessage } from "../message.ts";
import type { Received } from "../queue/queue.ts";
import type { Handler, HandlerContext, HandlerOutcome, Services } from "./handler.ts";

/** A report of one message's handling, as stored in the `reports` table. */
export interface Report {
  message: StepMessage;
  outcome: "done" | "reused" | "no_work" | "bad_data" | "bad_input" | "retry";
  provenanceId?: string;
  productId?: string;
  runtimeMs: number;
  peakMemoryMb: number;
  warnings: string[];
  error?: string;
  metrics: Record<string, number>;
}

/** Stores reports; the database implementation writes `reports` rows. */
export type ReportSink = (report: Report) => Promise<void>;

/** What the dispatcher needs besides the message. */
export interface DispatchOptions extends Services {
  handlers: Partial<Record<string, Handler>>;
  config: Record<string, unknown>;
  log: Logger;
  reports: ReportSink;
  /** Delay before a failed message is retried, in seconds. @default 30 */
  retryDelaySeconds?: number;
}

/** How a message was disposed of. */
export type Disposition = "acked" | "dead_lettered" | "released";

function residentMb(): number {
  return Math.round(Deno.memoryUsage().rss / (1024 * 1024));
}

/** Handles one received message end to end; never throws for the message's own faults. */
export async function dispatch(received: Received, options: DispatchOptions): Promise<Disposition> {
  const { queue, log } = options;
  let message: StepMessage;
  try {
    message = parseMessage(received.body);
  } catch (err) {
    const field = err instanceof InputError ? String(err.fields.field) : "(body)";
    log.error(`malformed message dead-lettered: ${describeError(err)}`, {
      field,
      message_id: received.id,
      body: received.body.slice(0, 500),
    });
    await queue.deadLetter(received, describeError(err));
    return "dead_lettered";
  }

  const stepLog = log.child({
    step: message.step,
    trace_id: message.trace_id,
    exposure: message.exposure_id,
    section: message.section_id,
  });
  const handler = options.handlers[message.step];
  const started = performance.now();
  const base = { message, warnings: [] as string[], metrics: {} };
  const elapsed = () => Math.round(performance.now() - started);

  if (!handler) {
    const reason = `no handler for step "${message.step}" in this worker`;
    stepLog.error(`message dead-lettered: ${reason}`, { field: "step" });
    await queue.deadLetter(received, reason);
    await options.reports({
      ...base,
      outcome: "bad_input",
      error: reason,
      runtimeMs: 0,
      peakMemoryMb: residentMb(),
    });
    return "dead_lettered";
  }

  const ctx: HandlerContext = { ...options, message, log: stepLog };
  let outcome: HandlerOutcome;
  try {
    stepLog.info("step started", { attempt: received.receiveCount });
    outcome = await handler(ctx);
  } catch (err) {
    const error = describeError(err);
    const fields = err instanceof StepError ? err.fields : {};
    const report = { ...base, error, runtimeMs: elapsed(), peakMemoryMb: residentMb() };
    if (err instanceof NoWorkFound || err instanceof AlgorithmError) {
      stepLog.warn(`step found nothing to do or bad data: ${error}`, fields);
      await options.reports({
        ...report,
        outcome: err instanceof NoWorkFound ? "no_work" : "bad_data",
      });
      await queue.ack(received);
      return "acked";
    }
    if (err instanceof InputError) {
      stepLog.error(`step input is malformed, dead-lettered: ${error}`, fields);
      await options.reports({ ...report, outcome: "bad_input" });
      await queue.deadLetter(received, error);
      return "dead_lettered";
    }
    stepLog.error(`step failed, will retry: ${error}`, {
      ...fields,
      attempt: received.receiveCount,
      stack: err instanceof Error ? err.stack : undefined,
    });
    await options.reports({ ...report, outcome: "retry" });
    await queue.release(received, options.retryDelaySeconds ?? 30);
    return "released";
  }

  for (const next of outcome.next) await queue.send(formatMessage(next));
  await queue.ack(received);
  stepLog.info(outcome.reused ? "step product already existed" : "step done", {
    provenance: outcome.provenanceId,
    product: outcome.productId,
    runtime_ms: elapsed(),
    next: outcome.next.map((m) => m.step),
  });
  await options.reports({
    ...base,
    outcome: outcome.reused ? "reused" : "done",
    provenanceId: outcome.provenanceId,
    productId: outcome.productId,
    warnings: outcome.warnings ?? [],
    metrics: outcome.metrics ?? {},
    runtimeMs: elapsed(),
    peakMemoryMb: residentMb(),
  });
  return "acked";
}
