/**
 * Work queues: the interface, its adapters and the factory.
 *
 * @module
 */
export * from "./queue.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export { checkReceiveOptions, type QueueOptions } from "./options.ts";
export {
  MemoryBroker,
  memoryBroker,
  MemoryQueue,
  type MemoryQueueOptions,
} from "./memory_queue.ts";
export { PostgresQueue, type PostgresQueueOptions } from "./postgres_queue.ts";
export { SqsQueue, type SqsQueueOptions } from "./sqs_queue.ts";
export { openQueue, type QueueConfig, queueConfigSchema, type QueueDeps } from "./open.ts";
