/**
 * The in-process queue (embedded mode and unit tests), with SQS semantics:
 * visibility timeout, delayed release, dead letter after `maxReceives`.
 *
 * Nothing runs in the background: visibility and delays are compared with the
 * clock when a receiver asks, so no timer keeps the process alive. Only a
 * long-polling `receive` sleeps, bounded by its `waitSeconds`, and a `send` or
 * `release` wakes it early.
 *
 * @module
 */
import type { DeadLetter, Queue, Received, ReceiveOptions } from "./queue.ts";
import { type Clock, systemClock } from "./clock.ts";
import { checkReceiveOptions, type QueueOptions } from "./options.ts";

interface Message {
  id: string;
  body: string;
  seq: number;
  visibleAt: number;
  receiveCount: number;
}

/** Options of {@linkcode MemoryQueue}. */
export interface MemoryQueueOptions extends QueueOptions {
  /** Time source (tests pass a ManualClock). @default systemClock */
  clock?: Clock;
}

/** A receipt is `id:receiveCount`; one from an earlier reception is stale. */
function parseReceipt(receipt: string): { id: string; count: number } {
  const at = receipt.lastIndexOf(":");
  return { id: receipt.slice(0, at), count: Number(receipt.slice(at + 1)) };
}

/** An in-process {@linkcode Queue}. */
export class MemoryQueue implements Queue {
  readonly kind = "memory" as const;
  readonly name: string;
  readonly visibilitySeconds: number;
  readonly maxReceives: number;
  readonly #clock: Clock;
  readonly #messages = new Map<string, Message>();
  readonly #dead: DeadLetter[] = [];
  readonly #waiters = new Set<() => void>();
  #seq = 0;
  #closed: AbortController = new AbortController();

  constructor(name: string, options: MemoryQueueOptions = {}) {
    this.name = name;
    this.visibilitySeconds = options.visibilitySeconds ?? 30;
    this.maxReceives = options.maxReceives ?? 5;
    this.#clock = options.clock ?? systemClock;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  send(body: string, options: { delaySeconds?: number } = {}): Promise<void> {
    const id = crypto.randomUUID();
    const delay = Math.max(0, options.delaySeconds ?? 0);
    this.#messages.set(id, {
      id,
      body,
      seq: this.#seq++,
      visibleAt: this.#clock.now() + delay * 1000,
      receiveCount: 0,
    });
    this.#wake();
    return Promise.resolve();
  }

  #take(max: number, visibilitySeconds: number): Received[] {
    const now = this.#clock.now();
    const ready = [...this.#messages.values()]
      .filter((m) => m.visibleAt <= now)
      .sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    const out: Received[] = [];
    for (const m of ready) {
      if (out.length >= max) break;
      if (m.receiveCount >= this.maxReceives) {
        this.#messages.delete(m.id);
        this.#dead.push({
          id: m.id,
          body: m.body,
          reason: `received ${m.receiveCount} times (maxReceives ${this.maxReceives})`,
        });
        continue;
      }
      m.receiveCount++;
      m.visibleAt = now + visibilitySeconds * 1000;
      out.push({
        id: m.id,
        body: m.body,
        receiveCount: m.receiveCount,
        receipt: `${m.id}:${m.receiveCount}`,
      });
    }
    return out;
  }

  async receive(options: ReceiveOptions = {}): Promise<Received[]> {
    const { max, waitSeconds, visibilitySeconds } = checkReceiveOptions(
      options,
      this.visibilitySeconds,
    );
    const deadline = this.#clock.now() + waitSeconds * 1000;
    const closed = this.#closed.signal;
    while (true) {
      const got = this.#take(max, visibilitySeconds);
      const now = this.#clock.now();
      if (got.length > 0 || now >= deadline || closed.aborted) return got;
      // Sleep until the deadline, the next message becomes visible, or a send.
      let until = deadline;
      for (const m of this.#messages.values()) {
        if (m.visibleAt > now) until = Math.min(until, m.visibleAt);
      }
      const stop = new AbortController();
      const wake = () => stop.abort();
      const onClose = () => stop.abort();
      this.#waiters.add(wake);
      closed.addEventListener("abort", onClose, { once: true });
      try {
        await this.#clock.sleep(until - now, stop.signal);
      } finally {
        this.#waiters.delete(wake);
        closed.removeEventListener("abort", onClose);
      }
    }
  }

  #current(message: Received): Message | null {
    const { id, count } = parseReceipt(message.receipt);
    const m = this.#messages.get(id);
    return m && m.receiveCount === count ? m : null;
  }

  ack(message: Received): Promise<void> {
    const m = this.#current(message);
    if (m) this.#messages.delete(m.id);
    return Promise.resolve();
  }

  release(message: Received, delaySeconds = 0): Promise<void> {
    const m = this.#current(message);
    if (m) {
      m.visibleAt = this.#clock.now() + Math.max(0, delaySeconds) * 1000;
      this.#wake();
    }
    return Promise.resolve();
  }

  deadLetter(message: Received, reason: string): Promise<void> {
    const m = this.#current(message);
    if (m) {
      this.#messages.delete(m.id);
      this.#dead.push({ id: m.id, body: m.body, reason });
    }
    return Promise.resolve();
  }

  peekDeadLetters(max = 10): Promise<DeadLetter[]> {
    return Promise.resolve(this.#dead.slice(0, max).map((d) => ({ ...d })));
  }

  depth(): Promise<number> {
    return Promise.resolve(this.#messages.size);
  }

  /** Ends pending long-polls (they return what they have). The queue stays usable. */
  close(): Promise<void> {
    this.#closed.abort();
    this.#closed = new AbortController();
    return Promise.resolve();
  }
}

/**
 * The in-process queues of this process by name, so a producer and a consumer that
 * open the same name share one queue.
 */
export class MemoryBroker {
  readonly #queues = new Map<string, MemoryQueue>();

  /** The queue of this name, created with `options` on first use. */
  queue(name: string, options: MemoryQueueOptions = {}): MemoryQueue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new MemoryQueue(name, options);
      this.#queues.set(name, q);
    }
    return q;
  }

  /** Forgets every queue. */
  clear(): void {
    this.#queues.clear();
  }
}

/** This process's broker, used by `openQueue({kind: "memory"}, name)`. */
export const memoryBroker: MemoryBroker = new MemoryBroker();
