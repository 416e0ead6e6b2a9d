/**
 * The body every handler shares: compute the step's provenance under the
 * message's tag, return the existing product when there is one (idempotence),
 * else load inputs, run the pure step, save, and name the next messages.
 * A handler supplies only what is specific to its products.
 *
 * @module
 */
import type { z } from "zod";
import { isUniqueViolation } from "../db/errors.ts";
import {
  ensureProvenance,
  type Provenance,
  TagConflict,
  tagProvenance,
} from "../db/provenances.ts";
import { InputError } from "../errors.ts";
import type { Db } from "../db/db.ts";
import { DataStore } from "../datastore.ts";
import type { HandlerContext, HandlerOutcome } from "./handler.ts";
import { nextMessages } from "./handler.ts";
import { criticalParameters, type StepDefinition } from "./step.ts";

/** What a handler tells {@linkcode executeStep}. */
export interface StepIo<P extends z.ZodObject, I, O> {
  // deno-lint-ignore no-explicit-any
  step: StepDefinition<P, I, O, any>;
  /** Ids of the upstream provenances (the inputs' provenances). */
  upstreams(ds: DataStore): Promise<string[]>;
  /** The id of the product made under `provenance` from this message's input, if any. */
  findExisting(db: Db, ds: DataStore, provenance: Provenance): Promise<string | null>;
  /** Loads the inputs `run()` needs. */
  loadInputs(ds: DataStore): Promise<I>;
  /** The imaging core, when the step needs one. */
  core?: () => Promise<unknown>;
  /**
   * Stores the outputs: pixels to the object store first, then rows in one
   * transaction (`tx`). Returns the product id.
   */
  save(ds: DataStore, outputs: O, provenance: Provenance, tx: Db): Promise<string>;
}

/** Runs one step for one message, idempotently. */
export async function executeStep<P extends z.ZodObject, I, O>(
  ctx: HandlerContext,
  io: StepIo<P, I, O>,
): Promise<HandlerOutcome> {
  const { step } = io;
  const ds = new DataStore(ctx, ctx.message);
  const params = step.params.parse(ctx.config[step.process] ?? {}) as z.infer<P>;
  const provenance = await ensureProvenance(ctx.db, {
    process: step.process,
    codeVersion: step.codeVersion,
    parameters: criticalParameters(step, params),
    upstreams: await io.upstreams(ds),
  });
  try {
    await tagProvenance(ctx.db, ctx.message.provenance_tag, provenance);
  } catch (err) {
    // the configuration changed under a tag in use: no retry can fix that
    if (err instanceof TagConflict) {
      throw new InputError(err.message, {
        tag: err.tag,
        existing: err.existing,
        wanted: err.wanted,
      });
    }
    throw err;
  }
  const next = nextMessages(ctx.message);

  const existing = await io.findExisting(ctx.db, ds, provenance);
  if (existing !== null) {
    return { provenanceId: provenance.id, productId: existing, reused: true, next };
  }

  const inputs = await io.loadInputs(ds);
  const core = io.core ? await io.core() : undefined;
  const { outputs, metrics } = await step.run(inputs, params, core);
  try {
    const productId = await ctx.db.transaction((tx) => io.save(ds, outputs, provenance, tx));
    return { provenanceId: provenance.id, productId, reused: false, metrics, next };
  } catch (err) {
    // another worker saved the same product first: theirs stands
    if (!isUniqueViolation(err)) throw err;
    const winner = await io.findExisting(ctx.db, ds, provenance);
    if (winner === null) throw err;
    ctx.log.info("product saved meanwhile by another worker", { product: winner });
    return { provenanceId: provenance.id, productId: winner, reused: true, next };
  }
}
