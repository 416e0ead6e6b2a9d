-- headersummary: the smallest real step (functions/headersummary), one summary of an
-- exposure's FITS headers per (exposure, provenance); the summary itself is a JSON
-- object in the object store at `filepath`, and a copy of it is kept in `summary`.
CREATE TABLE header_summaries (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  exposure_id   uuid        NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
  provenance_id varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  summary       jsonb       NOT NULL,
  filepath      text        NOT NULL,
  md5           text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT header_summaries_exposure_provenance_key UNIQUE (exposure_id, provenance_id),
  CONSTRAINT header_summaries_filepath_key UNIQUE (filepath),
  CONSTRAINT header_summaries_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);
CREATE TRIGGER header_summaries_touch BEFORE UPDATE ON header_summaries
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();

-- A report may be written before the step knew its provenance (a malformed product,
-- a crash while loading inputs): the provenance is then unknown.
ALTER TABLE reports ALTER COLUMN provenance_id DROP NOT NULL;
