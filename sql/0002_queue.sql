-- The Postgres work queue (functions/_shared/queue/postgres_queue.ts).
-- One row per message; receivers claim rows with FOR UPDATE SKIP LOCKED.
-- A row is in flight while visible_at is in the future; a reception's receipt is
-- (id, receive_count), so a stale receipt cannot touch a redelivered message.
-- Dead letters stay in the table with dead = true and the reason.

CREATE TABLE IF NOT EXISTS queue_messages (
  id uuid PRIMARY KEY,
  queue text NOT NULL,
  body text NOT NULL,
  visible_at timestamptz NOT NULL DEFAULT now(),
  receive_count integer NOT NULL DEFAULT 0 CHECK (receive_count >= 0),
  dead boolean NOT NULL DEFAULT false,
  dead_reason text,
  dead_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  modified_at timestamptz NOT NULL DEFAULT now()
);

-- Receivers scan the live messages of one queue by visibility time.
CREATE INDEX IF NOT EXISTS queue_messages_ready_idx
  ON queue_messages (queue, visible_at) WHERE NOT dead;

-- The dead-letter view of one queue, oldest first.
CREATE INDEX IF NOT EXISTS queue_messages_dead_idx
  ON queue_messages (queue, dead_at) WHERE dead;
