-- Indexes on foreign-key columns that no other index leads with, so that cascading
-- deletes (and RESTRICT checks) along the product chain do not scan whole tables.
-- (Added after 0001 was applied: migrations are forward-only.)

CREATE INDEX deepscores_measurement_idx ON deepscores (measurement_id);
CREATE INDEX fake_analyses_orig_deepscore_set_idx ON fake_analyses (orig_deepscore_set_id);
CREATE INDEX refs_image_idx ON refs (image_id);
CREATE INDEX calibrator_files_image_idx ON calibrator_files (image_id);
CREATE INDEX known_exposures_exposure_idx ON known_exposures (exposure_id);
CREATE INDEX provenances_code_version_idx ON provenances (code_version_id);
CREATE INDEX refset_provenances_provenance_idx ON refset_provenances (provenance_id);
CREATE INDEX backgrounds_provenance_idx ON backgrounds (provenance_id);
CREATE INDEX psfs_provenance_idx ON psfs (provenance_id);
CREATE INDEX exposures_provenance_idx ON exposures (provenance_id);
