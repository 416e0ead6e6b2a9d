/**
 * What a step handler receives and returns. Handlers are thin glue: parse the
 * message, compute the provenance, return the existing product if there is one,
 * else load inputs, call the step's pure `run()`, store pixels, write rows in one
 * transaction, and say which messages come next.
 *
 * @module
 */
import type { Db } from "../db/db.ts";
import type { Logger } from "../log.ts";
import type { StepMessage } from "../message.ts";
import { nextInChain, type Process } from "../processes.ts";
import type { Queue } from "../queue/queue.ts";
import type { ObjectStore } from "../storage/object_store.ts";

/** The three interfaces a step sees, chosen by configuration. */
export interface Services {
  db: Db;
  store: ObjectStore;
  queue: Queue;
}

/** Everything a handler gets for one message. */
export interface HandlerContext extends Services {
  message: StepMessage;
  /** The validated configuration (all sections). */
  config: Record<string, unknown>;
  /** A logger stamped with the step, trace, exposure and section. */
  log: Logger;
}

/** What a handler did. */
export interface HandlerOutcome {
  /** The provenance the product was made (or found) under. */
  provenanceId: string;
  /** The product row's id. */
  productId: string;
  /** True when the product already existed and nothing was computed. */
  reused: boolean;
  /** Numbers worth keeping in the report. */
  metrics?: Record<string, number>;
  /** Non-fatal problems worth a look. */
  warnings?: string[];
  /** Messages to send once the work is acknowledged. */
  next: StepMessage[];
}

/** Handles one message of one step. */
export type Handler = (ctx: HandlerContext) => Promise<HandlerOutcome>;

/**
 * The message for the step after `message.step` in the chain, unless the chain
 * ends or the message's `through_step` was reached.
 */
export function nextMessages(
  message: StepMessage,
  overrides: Partial<StepMessage> = {},
): StepMessage[] {
  if (message.through_step === message.step) return [];
  const next = nextInChain(message.step as Process);
  if (next === null) return [];
  return [{ ...message, step: next, attempt: 1, ...overrides }];
}
