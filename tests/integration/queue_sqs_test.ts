/**
 * The queue contract on the SQS queue against the real ElasticMQ that
 * scripts/services.sh started, plus SQS-specific checks.
 */
import assert from "node:assert/strict";
import { DeleteQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { SqsQueue } from "../../functions/_shared/queue/sqs_queue.ts";
import { queueContract } from "../../functions/_shared/queue/queue_contract.ts";
import { requireService, serviceLabel } from "../services.ts";

const sqs = requireService("sqs");
const label = serviceLabel("sqs", sqs);

function open(name: string, options: { visibilitySeconds?: number; maxReceives?: number }) {
  return SqsQueue.open(name, {
    endpoint: sqs!.endpoint,
    accessKeyId: "skydiff",
    secretAccessKey: "skydiff",
    ...options,
  });
}

async function destroy(q: SqsQueue): Promise<void> {
  await q.client.send(new DeleteQueueCommand({ QueueUrl: q.url }));
  await q.client.send(new DeleteQueueCommand({ QueueUrl: q.deadLetterUrl }));
  await q.close();
}

queueContract(
  label,
  sqs && (async (options) => {
    const queue = await open(`contract-${crypto.randomUUID()}`, options);
    return { queue, close: () => destroy(queue) };
  }),
);

Deno.test({
  name:
    `SqsQueue.open [${label}]: creates the queue with a redrive policy to its dead-letter queue`,
  ignore: !sqs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const name = `open-${crypto.randomUUID()}`;
    const q = await open(name, { visibilitySeconds: 45, maxReceives: 3 });
    try {
      const attrs = await q.client.send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["All"] }),
      );
      const dlq = await q.client.send(
        new GetQueueAttributesCommand({ QueueUrl: q.deadLetterUrl, AttributeNames: ["QueueArn"] }),
      );
      assert.equal(attrs.Attributes?.VisibilityTimeout, "45");
      const redrive = JSON.parse(attrs.Attributes?.RedrivePolicy ?? "{}");
      assert.equal(Number(redrive.maxReceiveCount), 3);
      assert.equal(redrive.deadLetterTargetArn, dlq.Attributes?.QueueArn);
      assert.ok(q.deadLetterUrl.endsWith(`${name}-dlq`));
      // Opening again (another worker) finds the same queues.
      const again = await open(name, { visibilitySeconds: 45, maxReceives: 3 });
      assert.equal(again.url, q.url);
      await again.close();
    } finally {
      await destroy(q);
    }
  },
});

Deno.test({
  name: `SqsQueue.peekDeadLetters [${label}]: the original id and reason survive the move`,
  ignore: !sqs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const q = await open(`peek-${crypto.randomUUID()}`, { visibilitySeconds: 30 });
    try {
      await q.send("bad");
      const [m] = await q.receive({ waitSeconds: 2 });
      await q.deadLetter(m, "InputError: exposure_id: expected uuid");
      const first = await q.peekDeadLetters();
      const second = await q.peekDeadLetters();
      assert.deepEqual(first, [{
        id: m.id,
        body: "bad",
        reason: "InputError: exposure_id: expected uuid",
      }]);
      assert.deepEqual(second, first, "peeking leaves the dead letter in place");
    } finally {
      await destroy(q);
    }
  },
});
