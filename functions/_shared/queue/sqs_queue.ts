/**
 * The SQS queue (AWS SQS, ElasticMQ) over @aws-sdk/client-sqs.
 *
 * `SqsQueue.open` creates the queue and its dead-letter queue (`<name>-dlq`) when
 * missing, with a RedrivePolicy of `maxReceives`, so SQS itself moves a message that
 * was received too often. An explicit {@linkcode SqsQueue.deadLetter} sends the body
 * to the dead-letter queue with the reason as a message attribute, then deletes the
 * original (at-least-once: a crash in between leaves a copy in both, never none).
 *
 * @module
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { DeadLetter, Queue, Received, ReceiveOptions } from "./queue.ts";
import { checkReceiveOptions, type QueueOptions } from "./options.ts";

/** Options of {@linkcode SqsQueue.open}. */
export interface SqsQueueOptions extends QueueOptions {
  /** Endpoint of an SQS-compatible server (ElasticMQ: http://127.0.0.1:9324). @default AWS */
  endpoint?: string;
  /** @default "us-east-1" */
  region?: string;
  /** Static credentials; else the SDK's default chain (ElasticMQ accepts any). */
  accessKeyId?: string;
  /** Static credentials; else the SDK's default chain. */
  secretAccessKey?: string;
  /** Name of the dead-letter queue. @default `${name}-dlq` */
  deadLetterName?: string;
  /** Use this client instead of building one. */
  client?: SQSClient;
}

const SQS_MAX_BATCH = 10;
const SQS_MAX_WAIT = 20;
const SQS_MAX_DELAY = 900;

function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? "";
}

/** A {@linkcode Queue} on SQS. */
export class SqsQueue implements Queue {
  readonly kind = "sqs" as const;
  readonly name: string;
  readonly url: string;
  readonly deadLetterUrl: string;
  readonly visibilitySeconds: number;
  readonly maxReceives: number;
  readonly client: SQSClient;
  readonly #ownsClient: boolean;
  #closed = false;

  private constructor(
    name: string,
    url: string,
    deadLetterUrl: string,
    client: SQSClient,
    ownsClient: boolean,
    visibilitySeconds: number,
    maxReceives: number,
  ) {
    this.name = name;
    this.url = url;
    this.deadLetterUrl = deadLetterUrl;
    this.client = client;
    this.#ownsClient = ownsClient;
    this.visibilitySeconds = visibilitySeconds;
    this.maxReceives = maxReceives;
  }

  /** Opens (creating when missing) the queue `name` and its dead-letter queue. */
  static async open(name: string, options: SqsQueueOptions = {}): Promise<SqsQueue> {
    const visibilitySeconds = options.visibilitySeconds ?? 30;
    const maxReceives = options.maxReceives ?? 5;
    const client = options.client ?? new SQSClient({
      region: options.region ?? "us-east-1",
      endpoint: options.endpoint,
      credentials: options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    });
    try {
      const dlqUrl = await ensureQueue(client, options.deadLetterName ?? `${name}-dlq`, {
        MessageRetentionPeriod: "1209600",
      });
      const dlq = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
      );
      const attributes = {
        VisibilityTimeout: String(Math.round(visibilitySeconds)),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.Attributes!.QueueArn,
          maxReceiveCount: maxReceives,
        }),
      };
      const url = await ensureQueue(client, name, attributes);
      return new SqsQueue(
        name,
        url,
        dlqUrl,
        client,
        !options.client,
        visibilitySeconds,
        maxReceives,
      );
    } catch (e) {
      if (!options.client) client.destroy();
      throw e;
    }
  }

  async send(body: string, options: { delaySeconds?: number } = {}): Promise<void> {
    const delay = Math.round(Math.max(0, options.delaySeconds ?? 0));
    if (delay > SQS_MAX_DELAY) throw new RangeError(`SQS delays are at most ${SQS_MAX_DELAY} s`);
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.url, MessageBody: body, DelaySeconds: delay }),
    );
  }

  async #receiveFrom(
    url: string,
    max: number,
    waitSeconds: number,
    visibilitySeconds: number,
  ): Promise<Message[]> {
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(max, SQS_MAX_BATCH),
        WaitTimeSeconds: Math.min(Math.ceil(waitSeconds), SQS_MAX_WAIT),
        VisibilityTimeout: Math.round(visibilitySeconds),
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        MessageAttributeNames: ["All"],
      }),
    );
    return out.Messages ?? [];
  }

  async receive(options: ReceiveOptions = {}): Promise<Received[]> {
    const { max, waitSeconds, visibilitySeconds } = checkReceiveOptions(
      options,
      this.visibilitySeconds,
    );
    const out: Received[] = [];
    const deadline = Date.now() + waitSeconds * 1000;
    while (out.length < max && !this.#closed) {
      // Long-poll only while nothing has arrived; then top up without waiting.
      const wait = out.length === 0 ? Math.max(0, (deadline - Date.now()) / 1000) : 0;
      const batch = await this.#receiveFrom(this.url, max - out.length, wait, visibilitySeconds);
      for (const m of batch) {
        out.push({
          id: m.MessageId!,
          body: m.Body ?? "",
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          receipt: m.ReceiptHandle!,
        });
      }
      if (batch.length === 0 && (out.length > 0 || Date.now() >= deadline)) break;
    }
    return out;
  }

  async ack(message: Received): Promise<void> {
    try {
      await this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: message.receipt }),
      );
    } catch (e) {
      // A receipt that is no longer valid: the message is someone else's now.
      if (errorName(e) !== "ReceiptHandleIsInvalid") throw e;
    }
  }

  async release(message: Received, delaySeconds = 0): Promise<void> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.url,
          ReceiptHandle: message.receipt,
          VisibilityTimeout: Math.round(Math.max(0, delaySeconds)),
        }),
      );
    } catch (e) {
      const name = errorName(e);
      if (name !== "ReceiptHandleIsInvalid" && name !== "MessageNotInflight") throw e;
    }
  }

  async deadLetter(message: Received, reason: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterUrl,
        MessageBody: message.body,
        MessageAttributes: {
          reason: { DataType: "String", StringValue: reason || "(no reason)" },
          original_id: { DataType: "String", StringValue: message.id },
          receive_count: { DataType: "Number", StringValue: String(message.receiveCount) },
        },
      }),
    );
    await this.ack(message);
  }

  async peekDeadLetters(max = 10): Promise<DeadLetter[]> {
    const seen = new Map<string, DeadLetter>();
    // Received with visibility 0, so the messages stay where they are. Several
    // receives are needed because SQS samples a subset of its servers each time.
    for (let round = 0; round < 5 && seen.size < max; round++) {
      const batch = await this.#receiveFrom(this.deadLetterUrl, max - seen.size, 0, 0);
      if (batch.length === 0) break;
      let fresh = 0;
      for (const m of batch) {
        const id = m.MessageAttributes?.original_id?.StringValue ?? m.MessageId!;
        if (seen.has(id)) continue;
        fresh++;
        seen.set(id, {
          id,
          body: m.Body ?? "",
          reason: m.MessageAttributes?.reason?.StringValue ?? "",
        });
      }
      if (fresh === 0) break;
    }
    return [...seen.values()].slice(0, max);
  }

  async depth(): Promise<number> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.url,
        AttributeNames: [
          "ApproximateNumberOfMessages",
          "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed",
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#ownsClient) this.client.destroy();
    }
    return Promise.resolve();
  }
}

/** The URL of queue `name`, created with `attributes` when missing (and updated when present). */
async function ensureQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const found = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    await client.send(
      new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl!, Attributes: attributes }),
    );
    return found.QueueUrl!;
  } catch (e) {
    const n = errorName(e);
    if (n !== "QueueDoesNotExist" && n !== "AWS.SimpleQueueService.NonExistentQueue") throw e;
  }
  const created = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return created.QueueUrl!;
}
