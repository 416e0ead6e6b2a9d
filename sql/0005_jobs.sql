-- Jobs: work asked for through the HTTP API (functions/api) that is bigger than one
-- step message — building a coadd or a reference for a place on the sky. The API
-- inserts the row and sends a job message (functions/api/jobs.ts, JobMessageSchema)
-- on the jobs queue; the worker that runs it (with the coadd / reference pipelines)
-- moves `status` along and fills `result` or `error`.
--
-- Enums are smallint with their names in TypeScript (functions/api/jobs.ts):
--   kind   1 coadd, 2 reference
--   status 1 queued, 2 running, 3 succeeded, 4 failed

CREATE TABLE jobs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind         smallint    NOT NULL,             -- JOB_KIND
  request      jsonb       NOT NULL,             -- the validated request body
  status       smallint    NOT NULL DEFAULT 1,   -- JOB_STATUS
  result       jsonb,                            -- e.g. {image_id, ref_id, provenance_id}
  error        text,                             -- why it failed
  trace_id     text,                             -- ties the job's log lines together
  attempts     integer     NOT NULL DEFAULT 0,   -- times a worker started it
  started_at   timestamptz,
  finished_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  modified_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT jobs_kind_range CHECK (kind IN (1, 2)),
  CONSTRAINT jobs_status_range CHECK (status BETWEEN 1 AND 4),
  CONSTRAINT jobs_request_object CHECK (jsonb_typeof(request) = 'object'),
  CONSTRAINT jobs_finished_has_outcome
    CHECK (status NOT IN (3, 4) OR finished_at IS NOT NULL)
);
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at);
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
