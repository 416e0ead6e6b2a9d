/**
 * The queue interface: step messages (small JSON references, never pixels) go
 * through it. Adapters: in-process (embedded), Postgres (SKIP LOCKED) and SQS.
 *
 * Semantics are SQS's: at-least-once delivery; a received message is invisible
 * for the visibility timeout and comes back if it is neither acknowledged nor
 * released; after `maxReceives` receptions it goes to the dead-letter queue.
 *
 * @module
 */

/** A message as received. */
export interface Received {
  /** The adapter's id of the message (stable across redeliveries). */
  id: string;
  /** The message body, as sent. */
  body: string;
  /** How many times it has been received, this time included (1 on first delivery). */
  receiveCount: number;
  /** Opaque handle for ack / release / deadLetter of this reception. */
  receipt: string;
}

/** A message in the dead-letter queue. */
export interface DeadLetter {
  id: string;
  body: string;
  /** Why it was dead-lettered, when known (adapters that cannot store it give ""). */
  reason: string;
}

/** Options of {@linkcode Queue.receive}. */
export interface ReceiveOptions {
  /** At most this many messages. @default 1 */
  max?: number;
  /** Long-poll up to this many seconds when the queue is empty. @default 0 */
  waitSeconds?: number;
  /** Invisible for this many seconds after reception. @default the queue's visibility timeout */
  visibilitySeconds?: number;
}

/** A work queue with a dead-letter queue. */
export interface Queue {
  /** Which adapter this is, for logs and test output. */
  readonly kind: "memory" | "postgres" | "sqs";
  /** The queue's name. */
  readonly name: string;
  /** Sends a message, visible after `delaySeconds` (default 0). */
  send(body: string, options?: { delaySeconds?: number }): Promise<void>;
  /** Receives up to `max` visible messages. */
  receive(options?: ReceiveOptions): Promise<Received[]>;
  /** Deletes a received message: its work is done. */
  ack(message: Received): Promise<void>;
  /** Makes a received message visible again after `delaySeconds` (retry with delay). */
  release(message: Received, delaySeconds?: number): Promise<void>;
  /** Moves a received message to the dead-letter queue now, with a reason. */
  deadLetter(message: Received, reason: string): Promise<void>;
  /** Reads (without removing) up to `max` messages of the dead-letter queue. */
  peekDeadLetters(max?: number): Promise<DeadLetter[]>;
  /** Approximate number of messages waiting (visible or in flight), for progress. */
  depth(): Promise<number>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
