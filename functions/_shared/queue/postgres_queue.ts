/**
 * The Postgres queue: rows of `queue_messages` (sql/0002_queue.sql) claimed with
 * `FOR UPDATE SKIP LOCKED`, so many workers share a queue without ever holding the
 * same message while it is invisible. Works over any {@linkcode Db} (PGlite or a
 * Postgres server); time is the database's clock, so workers on different hosts agree.
 *
 * A receipt is `id:receive_count`: ack, release and deadLetter match both, so a
 * receiver whose visibility expired cannot touch the message once it was received
 * again (its calls change nothing). After `maxReceives` receptions a message goes
 * dead on its next receive. Long-polls re-poll with bounded backoff.
 *
 * @module
 */
import type { Db } from "../db/db.ts";
import type { DeadLetter, Queue, Received, ReceiveOptions } from "./queue.ts";
import { checkReceiveOptions, type QueueOptions } from "./options.ts";

/** Options of {@linkcode PostgresQueue}. */
export interface PostgresQueueOptions extends QueueOptions {
  /** First re-poll interval of a long-poll, doubled up to `maxPollMs`. @default 50 */
  minPollMs?: number;
  /** Longest re-poll interval of a long-poll. @default 1000 */
  maxPollMs?: number;
}

function parseReceipt(receipt: string): [string, number] {
  const at = receipt.lastIndexOf(":");
  return [receipt.slice(0, at), Number(receipt.slice(at + 1))];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A {@linkcode Queue} stored in Postgres. The Db stays the caller's: close() does not close it. */
export class PostgresQueue implements Queue {
  readonly kind = "postgres" as const;
  readonly name: string;
  readonly visibilitySeconds: number;
  readonly maxReceives: number;
  readonly #db: Db;
  readonly #minPoll: number;
  readonly #maxPoll: number;
  #closed = new AbortController();

  constructor(db: Db, name: string, options: PostgresQueueOptions = {}) {
    this.#db = db;
    this.name = name;
    this.visibilitySeconds = options.visibilitySeconds ?? 30;
    this.maxReceives = options.maxReceives ?? 5;
    this.#minPoll = options.minPollMs ?? 50;
    this.#maxPoll = options.maxPollMs ?? 1000;
  }

  async send(body: string, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.#db.query(
      `INSERT INTO queue_messages (id, queue, body, visible_at)
       VALUES ($1, $2, $3, now() + $4::float8 * interval '1 second')`,
      [crypto.randomUUID(), this.name, body, Math.max(0, options.delaySeconds ?? 0)],
    );
  }

  /** One claim: up to `max` visible rows; those past maxReceives go dead instead. */
  async #claim(max: number, visibilitySeconds: number): Promise<{ got: Received[]; died: number }> {
    const rows = await this.#db.query<
      { id: string; body: string; receive_count: number; dead: boolean }
    >(
      `WITH picked AS (
         SELECT id FROM queue_messages
         WHERE queue = $1 AND NOT dead AND visible_at <= now()
         ORDER BY visible_at, created_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE queue_messages m SET
         dead = m.receive_count >= $4,
         dead_reason = CASE WHEN m.receive_count >= $4
           THEN 'received ' || m.receive_count || ' times (maxReceives ' || $4 || ')' END,
         dead_at = CASE WHEN m.receive_count >= $4 THEN now() END,
         receive_count = CASE WHEN m.receive_count >= $4 THEN m.receive_count
           ELSE m.receive_count + 1 END,
         visible_at = CASE WHEN m.receive_count >= $4 THEN m.visible_at
           ELSE now() + $3::float8 * interval '1 second' END,
         modified_at = now()
       FROM picked WHERE m.id = picked.id
       RETURNING m.id, m.body, m.receive_count, m.dead`,
      [this.name, max, visibilitySeconds, this.maxReceives],
    );
    const got: Received[] = [];
    let died = 0;
    for (const r of rows) {
      if (r.dead) {
        died++;
        continue;
      }
      const count = Number(r.receive_count);
      got.push({ id: r.id, body: r.body, receiveCount: count, receipt: `${r.id}:${count}` });
    }
    return { got, died };
  }

  async receive(options: ReceiveOptions = {}): Promise<Received[]> {
    const { max, waitSeconds, visibilitySeconds } = checkReceiveOptions(
      options,
      this.visibilitySeconds,
    );
    const deadline = Date.now() + waitSeconds * 1000;
    const closed = this.#closed.signal;
    let pause = this.#minPoll;
    const out: Received[] = [];
    while (true) {
      const { got, died } = await this.#claim(max - out.length, visibilitySeconds);
      out.push(...got);
      // Rows that just went dead took slots of the LIMIT: claim again at once.
      if (died > 0 && out.length < max) continue;
      const left = deadline - Date.now();
      if (out.length > 0 || left <= 0 || closed.aborted) return out;
      await sleep(Math.min(pause, left), closed);
      pause = Math.min(pause * 2, this.#maxPoll);
    }
  }

  async ack(message: Received): Promise<void> {
    const [id, count] = parseReceipt(message.receipt);
    await this.#db.query(
      `DELETE FROM queue_messages WHERE id = $1 AND receive_count = $2 AND NOT dead`,
      [id, count],
    );
  }

  async release(message: Received, delaySeconds = 0): Promise<void> {
    const [id, count] = parseReceipt(message.receipt);
    await this.#db.query(
      `UPDATE queue_messages SET visible_at = now() + $3::float8 * interval '1 second',
         modified_at = now()
       WHERE id = $1 AND receive_count = $2 AND NOT dead`,
      [id, count, Math.max(0, delaySeconds)],
    );
  }

  async deadLetter(message: Received, reason: string): Promise<void> {
    const [id, count] = parseReceipt(message.receipt);
    await this.#db.query(
      `UPDATE queue_messages SET dead = true, dead_reason = $3, dead_at = now(), modified_at = now()
       WHERE id = $1 AND receive_count = $2 AND NOT dead`,
      [id, count, reason],
    );
  }

  async peekDeadLetters(max = 10): Promise<DeadLetter[]> {
    const rows = await this.#db.query<{ id: string; body: string; dead_reason: string | null }>(
      `SELECT id, body, dead_reason FROM queue_messages
       WHERE queue = $1 AND dead ORDER BY dead_at, id LIMIT $2`,
      [this.name, max],
    );
    return rows.map((r) => ({ id: r.id, body: r.body, reason: r.dead_reason ?? "" }));
  }

  async depth(): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM queue_messages WHERE queue = $1 AND NOT dead`,
      [this.name],
    );
    return Number(rows[0].n);
  }

  /** Ends pending long-polls. The Db is not closed (it belongs to the caller). */
  close(): Promise<void> {
    this.#closed.abort();
    this.#closed = new AbortController();
    return Promise.resolve();
  }
}
