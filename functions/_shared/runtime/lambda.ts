/**
 * AWS Lambda, SQS event source: a batch of records in, partial batch failures
 * out (`ReportBatchItemFailures`). The same dispatcher as the worker runs each
 * record; the queue operations map onto Lambda's model:
 *
 * - ack: the record succeeded (Lambda deletes it);
 * - release: the record failed (it is returned in `batchItemFailures` and SQS
 *   redelivers it after its visibility timeout, then its redrive policy
 *   dead-letters it);
 * - deadLetter: the step queue's adapter moves the record to its dead-letter queue
 *   now (the record's receipt handle is a valid SQS receipt) and the record succeeds.
 *
 * @module
 */
import type { Queue, Received } from "../queue/queue.ts";
import { dispatch, type DispatchOptions } from "./dispatch.ts";

/** The part of an SQS event record the adapter reads. */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string };
}

/** The SQS event Lambda passes. */
export interface SqsEvent {
  Records: SqsRecord[];
}

/** Lambda's partial batch response. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** What the batch adapter needs: the dispatcher's options; `queue` is the SQS step queue. */
export type LambdaOptions = DispatchOptions;

/** Handles one SQS batch; returns the records to retry. */
export async function handleSqsBatch(
  event: SqsEvent,
  options: LambdaOptions,
): Promise<SqsBatchResponse> {
  const failures = new Set<string>();
  const batchQueue: Queue = {
    kind: options.queue.kind,
    name: options.queue.name,
    send: (body, opts) => options.queue.send(body, opts),
    receive: () => Promise.reject(new Error("a Lambda batch does not receive")),
    ack: () => Promise.resolve(),
    release: (message: Received) => {
      failures.add(message.id);
      return Promise.resolve();
    },
    deadLetter: (message: Received, reason: string) => options.queue.deadLetter(message, reason),
    peekDeadLetters: (max) => options.queue.peekDeadLetters(max),
    depth: () => options.queue.depth(),
    close: () => Promise.resolve(),
  };
  for (const record of event.Records) {
    const received: Received = {
      id: record.messageId,
      body: record.body,
      receipt: record.receiptHandle,
      receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    };
    try {
      await dispatch(received, { ...options, queue: batchQueue });
    } catch (err) {
      options.log.error("record failed outside the step (will retry)", {
        message_id: record.messageId,
        error: err instanceof Error ? err.message : String(err),
      });
      failures.add(record.messageId);
    }
  }
  return { batchItemFailures: [...failures].map((id) => ({ itemIdentifier: id })) };
}
