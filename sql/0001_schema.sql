-- skydiff v1 schema (forward-only; never edit this file once applied: add 0002_*, 0003_* ...).
--
-- Runs unchanged on PGlite, plain Postgres 15+ and managed Postgres: no extensions.
-- The migrator (functions/_shared/db/migrate.ts) creates `schema_migrations` itself
-- before it applies this file, and applies each file in one transaction.
--
-- Conventions (DESIGN.md "Database"):
--   * Primary keys are UUIDs generated client-side (so workers can build object graphs
--     without a round trip); `gen_random_uuid()` (core since Postgres 13) is only a
--     fallback default. Provenances are the exception: their id is the 20-character
--     base32 provenance hash.
--   * `created_at` / `modified_at` timestamptz on every table; the trigger
--     `skydiff_touch_modified_at` keeps `modified_at` current on UPDATE.
--   * Enums are smallint; their names live in TypeScript (functions/_shared/db/enums.ts).
--   * Free-form information is JSONB (`info`, `header`, ...).
--   * Badness: products carry `_bitflag` (their own badness bits) and
--     `_upstream_bitflag` (OR of their upstreams' badness), both bigint (bit numbers in
--     enums.ts, "badness"). A product is bad when `_bitflag | _upstream_bitflag <> 0`.
--   * Files: `filepath` is the object-store key (derived from the product and its
--     provenance, never changes, unique), `md5` the lower-case hex MD5 of the stored
--     object; a row is written only after its file is stored.
--   * Sky positions: `ra`, `dec` in degrees (ICRS) and `healpix`, the HEALPix NESTED
--     pixel index of (ra, dec) at ORDER 12 (nside 4096, ~0.86 arcmin pixels), computed
--     in TypeScript (functions/_shared/sky). Cone searches are btree range scans on
--     `healpix` plus an exact distance filter. The CHECKs pin the order:
--     0 <= healpix < 12 * 4^12 = 201326592.
--   * FourCorners: ra/dec of the four corners of a rectangular footprint,
--     `*_corner_XY` with X = 0 for the lower RA side and 1 for the higher, Y = 0 for the
--     lower Dec side and 1 for the higher (as SeeChange orders them), plus the bounding
--     box minra/maxra/mindec/maxdec (minra > maxra when the footprint crosses RA = 0).
--   * Racing workers: UNIQUE constraints on (product input, provenance) so two workers
--     cannot both insert the same product; the loser gets a unique violation (SQLSTATE
--     23505), rolls back and loads the winner's row.
--   * Foreign keys along the product chain cascade on delete (deleting an image deletes
--     what was made from it); foreign keys to provenances and code versions restrict.

-- ---------------------------------------------------------------------------
-- modified_at maintenance
-- ---------------------------------------------------------------------------

CREATE FUNCTION skydiff_touch_modified_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.modified_at := now();
  RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------
-- Provenance: code versions, provenances, their upstream links, tags
-- ---------------------------------------------------------------------------

-- One row per (process, full semver) that ever produced a product. Only MAJOR.MINOR
-- enters provenance hashes; the patch is kept here for the record.
CREATE TABLE code_versions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  process       smallint    NOT NULL,           -- enums.ts PROCESS
  version       text        NOT NULL,           -- full semver "MAJOR.MINOR.PATCH[-pre]"
  version_major integer     NOT NULL,
  version_minor integer     NOT NULL,
  version_patch integer     NOT NULL,
  info          jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- e.g. git commit
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT code_versions_process_version_key UNIQUE (process, version)
);

-- A provenance: process + code version (MAJOR.MINOR) + critical parameters + upstream
-- provenances, hashed (functions/_shared/provenance.ts) into a 20-character base32 id.
CREATE TABLE provenances (
  id              varchar(20) PRIMARY KEY,
  process         smallint    NOT NULL,         -- enums.ts PROCESS
  code_version_id uuid        NOT NULL REFERENCES code_versions (id) ON DELETE RESTRICT,
  parameters      jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the critical parameters
  is_bad          boolean     NOT NULL DEFAULT false,
  bad_comment     text,
  is_outdated     boolean     NOT NULL DEFAULT false,
  replaced_by     varchar(20) REFERENCES provenances (id) ON DELETE SET NULL,
  is_testing      boolean     NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  modified_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT provenances_id_length CHECK (char_length(id) = 20),
  -- target of provenance_tags' composite foreign key (tag rows repeat the process)
  CONSTRAINT provenances_id_process_key UNIQUE (id, process)
);
CREATE INDEX provenances_process_idx ON provenances (process);

-- The upstream provenances of each provenance (the edges of the provenance graph).
CREATE TABLE provenance_upstreams (
  downstream_id varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE CASCADE,
  upstream_id   varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (downstream_id, upstream_id),
  CONSTRAINT provenance_upstreams_not_self CHECK (downstream_id <> upstream_id)
);
CREATE INDEX provenance_upstreams_upstream_idx ON provenance_upstreams (upstream_id);

-- A provenance tag: a named set of provenances with at most one provenance per process,
-- except referencing (several reference provenances may share a tag). The process is
-- repeated here (checked against the provenance by the composite foreign key) so the
-- partial unique index can enforce the rule.
CREATE TABLE provenance_tags (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tag           text        NOT NULL,
  provenance_id varchar(20) NOT NULL,
  process       smallint    NOT NULL,           -- enums.ts PROCESS, = the provenance's
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT provenance_tags_provenance_fkey FOREIGN KEY (provenance_id, process)
    REFERENCES provenances (id, process) ON DELETE CASCADE,
  CONSTRAINT provenance_tags_tag_provenance_key UNIQUE (tag, provenance_id)
);
-- 14 = referencing in enums.ts PROCESS
CREATE UNIQUE INDEX provenance_tags_tag_process_key ON provenance_tags (tag, process)
  WHERE process <> 14;
CREATE INDEX provenance_tags_provenance_idx ON provenance_tags (provenance_id);

-- ---------------------------------------------------------------------------
-- Exposures
-- ---------------------------------------------------------------------------

-- An exposure that exists somewhere (an instrument archive) and that we may process;
-- enough for the instrument module to fetch it. Maintained by ingest / the conductor.
CREATE TABLE known_exposures (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  instrument   text        NOT NULL,
  identifier   text        NOT NULL,           -- the archive's id of the exposure
  params       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- what the instrument needs to fetch it
  hold         boolean     NOT NULL DEFAULT false,       -- do not process (yet)
  exposure_id  uuid,                             -- set once loaded (FK added below)
  mjd          double precision,
  exp_time     double precision,
  filter       text,
  project      text,
  target       text,
  ra           double precision,
  dec          double precision,
  healpix      bigint,                           -- NESTED, order 12
  claimed_by   text,                             -- worker / cluster that claimed it
  claim_time   timestamptz,
  release_time timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  modified_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT known_exposures_instrument_identifier_key UNIQUE (instrument, identifier),
  CONSTRAINT known_exposures_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX known_exposures_healpix_idx ON known_exposures (healpix);
CREATE INDEX known_exposures_mjd_idx ON known_exposures (mjd);

-- A raw exposure of the whole focal plane (all sections), as delivered (MEF, fpack
-- allowed). A row here means the exposure is "in" skydiff.
CREATE TABLE exposures (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  type               smallint    NOT NULL DEFAULT 1,  -- enums.ts IMAGE_TYPE (1 = sci)
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts FILE_FORMAT (1 = fits)
  instrument         text        NOT NULL,
  telescope          text        NOT NULL,
  project            text,
  target             text,
  origin_identifier  text,                          -- the instrument archive's id
  filter             text,
  mjd                double precision NOT NULL,     -- start of exposure (MJD, UTC)
  exp_time           double precision NOT NULL,     -- seconds
  airmass            double precision,
  n_sections         integer,
  ra                 double precision NOT NULL,     -- telescope pointing
  dec                double precision NOT NULL,
  healpix            bigint      NOT NULL,          -- NESTED, order 12, of (ra, dec)
  ra_corner_00       double precision,
  ra_corner_01       double precision,
  ra_corner_10       double precision,
  ra_corner_11       double precision,
  dec_corner_00      double precision,
  dec_corner_01      double precision,
  dec_corner_10      double precision,
  dec_corner_11      double precision,
  minra              double precision,
  maxra              double precision,
  mindec             double precision,
  maxdec             double precision,
  header             jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- primary header cards
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  preproc_bitflag    bigint      NOT NULL DEFAULT 0,  -- enums.ts PREPROCESSING steps already done
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text        NOT NULL,
  md5                text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT exposures_filepath_key UNIQUE (filepath),
  CONSTRAINT exposures_instrument_origin_key UNIQUE (instrument, origin_identifier),
  CONSTRAINT exposures_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
  CONSTRAINT exposures_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX exposures_healpix_idx ON exposures (healpix);
CREATE INDEX exposures_mjd_idx ON exposures (mjd);
CREATE INDEX exposures_instrument_filter_idx ON exposures (instrument, filter);

ALTER TABLE known_exposures ADD CONSTRAINT known_exposures_exposure_fkey
  FOREIGN KEY (exposure_id) REFERENCES exposures (id) ON DELETE SET NULL;

-- ---------------------------------------------------------------------------
-- Images (science, coadd, difference) and their calibration products
-- ---------------------------------------------------------------------------

-- One image: a multi-extension FITS (IMAGE float32, WEIGHT float32, FLAGS uint16).
-- A science image comes from one section of one exposure; a coadd from the zero points
-- listed in image_coadd_components; a difference image from a new image's zero point
-- and a reference (image_subtraction_components).
CREATE TABLE images (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  exposure_id        uuid REFERENCES exposures (id) ON DELETE CASCADE,  -- science images
  section_id         text,                        -- CCD / section of the exposure
  -- coadds: sha256 hex of the sorted component zero-point ids (their natural key)
  components_hash    text,
  type               smallint    NOT NULL,        -- enums.ts IMAGE_TYPE
  is_coadd           boolean     NOT NULL GENERATED ALWAYS AS (type IN (2, 4)) STORED,
  is_sub             boolean     NOT NULL GENERATED ALWAYS AS (type IN (3, 4)) STORED,
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts FILE_FORMAT
  instrument         text        NOT NULL,
  telescope          text        NOT NULL,
  project            text,
  target             text,
  filter             text,
  mjd                double precision NOT NULL,   -- start (first component for coadds)
  end_mjd            double precision,            -- end (last component for coadds)
  exp_time           double precision NOT NULL,   -- seconds (effective, for coadds)
  airmass            double precision,
  width              integer     NOT NULL,        -- pixels along x (NAXIS1)
  height             integer     NOT NULL,        -- pixels along y (NAXIS2)
  ra                 double precision NOT NULL,   -- centre of the image
  dec                double precision NOT NULL,
  healpix            bigint      NOT NULL,        -- NESTED, order 12, of (ra, dec)
  ra_corner_00       double precision NOT NULL,
  ra_corner_01       double precision NOT NULL,
  ra_corner_10       double precision NOT NULL,
  ra_corner_11       double precision NOT NULL,
  dec_corner_00      double precision NOT NULL,
  dec_corner_01      double precision NOT NULL,
  dec_corner_10      double precision NOT NULL,
  dec_corner_11      double precision NOT NULL,
  minra              double precision NOT NULL,
  maxra              double precision NOT NULL,
  mindec             double precision NOT NULL,
  maxdec             double precision NOT NULL,
  fwhm_estimate      double precision,            -- arcsec
  zero_point_estimate double precision,
  lim_mag_estimate   double precision,
  bkg_mean_estimate  double precision,
  bkg_rms_estimate   double precision,
  preproc_bitflag    bigint      NOT NULL DEFAULT 0,  -- enums.ts PREPROCESSING steps done
  header             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text        NOT NULL,
  md5                text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT images_exposure_section_provenance_key
    UNIQUE (exposure_id, section_id, provenance_id),
  CONSTRAINT images_components_provenance_key UNIQUE (components_hash, provenance_id),
  CONSTRAINT images_filepath_key UNIQUE (filepath),
  CONSTRAINT images_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
  CONSTRAINT images_healpix_range CHECK (healpix >= 0 AND healpix < 201326592),
  CONSTRAINT images_section_with_exposure CHECK (exposure_id IS NULL OR section_id IS NOT NULL),
  CONSTRAINT images_size_positive CHECK (width > 0 AND height > 0)
);
CREATE INDEX images_healpix_idx ON images (healpix);
CREATE INDEX images_mjd_idx ON images (mjd);
CREATE INDEX images_instrument_filter_idx ON images (instrument, filter, section_id);
CREATE INDEX images_provenance_idx ON images (provenance_id);
CREATE INDEX images_dec_range_idx ON images (mindec, maxdec);

-- A source catalog extracted from an image (FITS BINTABLE).
CREATE TABLE source_lists (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  image_id           uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts SOURCE_LIST_FORMAT
  num_sources        integer     NOT NULL,
  aper_rads          double precision[],           -- aperture radii in pixels
  inf_aper_num       smallint,                     -- index of the "infinite" aperture
  best_aper_num      smallint,                     -- index of the best aperture
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text        NOT NULL,
  md5                text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT source_lists_image_provenance_key UNIQUE (image_id, provenance_id),
  CONSTRAINT source_lists_filepath_key UNIQUE (filepath),
  CONSTRAINT source_lists_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
  CONSTRAINT source_lists_num_sources CHECK (num_sources >= 0)
);
CREATE INDEX source_lists_provenance_idx ON source_lists (provenance_id);

-- The sky background of an image, made with its source list (1:1, same extraction
-- provenance): a small FITS of mesh values + noise + interpolation info.
CREATE TABLE backgrounds (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sources_id         uuid        NOT NULL REFERENCES source_lists (id) ON DELETE CASCADE,
  image_id           uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts BACKGROUND_FORMAT
  method             smallint    NOT NULL DEFAULT 1,  -- enums.ts BACKGROUND_METHOD
  value              double precision NOT NULL,       -- mean background level
  noise              double precision NOT NULL,       -- mean background rms
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- mesh size, filter size ...
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text,                            -- null for a scalar background
  md5                text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT backgrounds_sources_key UNIQUE (sources_id),
  CONSTRAINT backgrounds_image_provenance_key UNIQUE (image_id, provenance_id),
  CONSTRAINT backgrounds_filepath_key UNIQUE (filepath),
  CONSTRAINT backgrounds_file_md5 CHECK ((filepath IS NULL) = (md5 IS NULL)),
  CONSTRAINT backgrounds_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);

-- The PSF of an image, made with its source list (1:1, same extraction provenance):
-- FITS of basis images + spatial polynomial coefficients.
CREATE TABLE psfs (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sources_id         uuid        NOT NULL REFERENCES source_lists (id) ON DELETE CASCADE,
  image_id           uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts PSF_FORMAT
  fwhm_pixels        double precision NOT NULL,
  stamp_size         integer,                         -- pixels, odd
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text        NOT NULL,
  md5                text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT psfs_sources_key UNIQUE (sources_id),
  CONSTRAINT psfs_image_provenance_key UNIQUE (image_id, provenance_id),
  CONSTRAINT psfs_filepath_key UNIQUE (filepath),
  CONSTRAINT psfs_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);

-- The astrometric solution of an image, fitted from its source list (header cards as
-- JSON; no file).
CREATE TABLE world_coordinates (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sources_id         uuid        NOT NULL REFERENCES source_lists (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  projection         smallint    NOT NULL,            -- enums.ts WCS_PROJECTION
  header             jsonb       NOT NULL,            -- FITS WCS cards {CTYPE1: ..., ...}
  n_matched          integer,                         -- catalog stars matched
  rms_arcsec         double precision,                -- residual rms of the fit
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT world_coordinates_sources_provenance_key UNIQUE (sources_id, provenance_id)
);

-- The photometric calibration of an image (from its WCS-matched sources): zero point,
-- aperture corrections and limiting magnitude. No file.
CREATE TABLE zero_points (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  wcs_id             uuid        NOT NULL REFERENCES world_coordinates (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  zp                 double precision NOT NULL,   -- mag = -2.5 log10(flux [ADU]) + zp
  dzp                double precision NOT NULL,   -- its uncertainty
  aper_cor_radii     double precision[],          -- pixels
  aper_cors          double precision[],          -- mag added to aperture mags, per radius
  lim_mag            double precision,            -- 5-sigma point-source limiting magnitude
  n_stars            integer,
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT zero_points_wcs_provenance_key UNIQUE (wcs_id, provenance_id),
  CONSTRAINT zero_points_aper_cors_length
    CHECK (cardinality(aper_cor_radii) IS NOT DISTINCT FROM cardinality(aper_cors))
);

-- ---------------------------------------------------------------------------
-- Coadds, references, subtractions
-- ---------------------------------------------------------------------------

-- The zero points (and so the whole chains) of the images that went into a coadd.
CREATE TABLE image_coadd_components (
  coadd_image_id uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  zp_id          uuid        NOT NULL REFERENCES zero_points (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  modified_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (coadd_image_id, zp_id)
);
CREATE INDEX image_coadd_components_zp_idx ON image_coadd_components (zp_id);

-- A reference: a pointer to a coadd's zero point (and so its whole chain), for one
-- instrument, filter and place on the sky (footprint copied from the coadd image).
CREATE TABLE refs (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  zp_id              uuid        NOT NULL REFERENCES zero_points (id) ON DELETE CASCADE,
  image_id           uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  instrument         text        NOT NULL,
  filter             text,
  section_id         text,
  target             text,
  ra                 double precision NOT NULL,
  dec                double precision NOT NULL,
  healpix            bigint      NOT NULL,        -- NESTED, order 12, of (ra, dec)
  ra_corner_00       double precision NOT NULL,
  ra_corner_01       double precision NOT NULL,
  ra_corner_10       double precision NOT NULL,
  ra_corner_11       double precision NOT NULL,
  dec_corner_00      double precision NOT NULL,
  dec_corner_01      double precision NOT NULL,
  dec_corner_10      double precision NOT NULL,
  dec_corner_11      double precision NOT NULL,
  minra              double precision NOT NULL,
  maxra              double precision NOT NULL,
  mindec             double precision NOT NULL,
  maxdec             double precision NOT NULL,
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT refs_zp_provenance_key UNIQUE (zp_id, provenance_id),
  CONSTRAINT refs_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX refs_healpix_idx ON refs (healpix);
CREATE INDEX refs_instrument_filter_idx ON refs (instrument, filter);
CREATE INDEX refs_provenance_idx ON refs (provenance_id);

-- A named reference set. It names exactly one upstream chain (`upstream_hash`, the hash
-- of the coadd and its products' provenances); reference provenances are appended to it
-- (refset_provenances) only when their upstream hash matches.
CREATE TABLE refsets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text        NOT NULL,
  description   text,
  upstream_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT refsets_name_key UNIQUE (name)
);

-- The reference (referencing) provenances of each refset, in the order they were
-- appended (try the lowest `position` first).
CREATE TABLE refset_provenances (
  refset_id     uuid        NOT NULL REFERENCES refsets (id) ON DELETE CASCADE,
  provenance_id varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  position      integer     NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (refset_id, provenance_id),
  CONSTRAINT refset_provenances_position_key UNIQUE (refset_id, position)
);

-- What a difference image was made from: the new image's zero point and a reference.
-- `provenance_id` repeats the difference image's so that one (new, ref, provenance)
-- yields one difference image even when workers race.
CREATE TABLE image_subtraction_components (
  image_id      uuid        PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
  new_zp_id     uuid        NOT NULL REFERENCES zero_points (id) ON DELETE CASCADE,
  ref_id        uuid        NOT NULL REFERENCES refs (id) ON DELETE CASCADE,
  provenance_id varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT image_subtraction_components_new_ref_provenance_key
    UNIQUE (new_zp_id, ref_id, provenance_id)
);
CREATE INDEX image_subtraction_components_ref_idx ON image_subtraction_components (ref_id);

-- ---------------------------------------------------------------------------
-- Detections, cutouts, measurements, scores, objects
-- ---------------------------------------------------------------------------

-- Stamps (FITS cubes, N x size x size) of new/ref/sub data/weight/flags around every
-- detection of a difference image's source list.
CREATE TABLE cutouts (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sources_id         uuid        NOT NULL REFERENCES source_lists (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  format             smallint    NOT NULL DEFAULT 1,  -- enums.ts FILE_FORMAT
  num_cutouts        integer     NOT NULL,
  stamp_size         integer     NOT NULL,            -- pixels (e.g. 41)
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  filepath           text        NOT NULL,
  md5                text        NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cutouts_sources_provenance_key UNIQUE (sources_id, provenance_id),
  CONSTRAINT cutouts_filepath_key UNIQUE (filepath),
  CONSTRAINT cutouts_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);

-- A sky object: a position on the sky that detections associate with (within the
-- association radius); created by the first detection there. Not versioned.
CREATE TABLE objects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text        NOT NULL,              -- year + counter, e.g. "2026aabc"
  ra          double precision NOT NULL,
  dec         double precision NOT NULL,
  healpix     bigint      NOT NULL,              -- NESTED, order 12, of (ra, dec)
  is_test     boolean     NOT NULL DEFAULT false,
  is_fake     boolean     NOT NULL DEFAULT false,
  is_bad      boolean     NOT NULL DEFAULT false,
  info        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  modified_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT objects_name_key UNIQUE (name),
  CONSTRAINT objects_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX objects_healpix_idx ON objects (healpix);

-- The measurements made on one cutouts product.
CREATE TABLE measurement_sets (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  cutouts_id         uuid        NOT NULL REFERENCES cutouts (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  num_measurements   integer     NOT NULL DEFAULT 0,
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT measurement_sets_cutouts_provenance_key UNIQUE (cutouts_id, provenance_id)
);

-- One measurement: photometry and shape of one detection on its new/ref/sub stamps,
-- its analytic cuts and its association to an object.
CREATE TABLE measurements (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  measurement_set_id  uuid        NOT NULL REFERENCES measurement_sets (id) ON DELETE CASCADE,
  index_in_sources    integer     NOT NULL,      -- row in the detections' source list
  object_id           uuid        REFERENCES objects (id) ON DELETE SET NULL,
  ra                  double precision NOT NULL,
  dec                 double precision NOT NULL,
  healpix             bigint      NOT NULL,      -- NESTED, order 12, of (ra, dec)
  x                   double precision NOT NULL, -- centroid on the new image (0-based px)
  y                   double precision NOT NULL,
  flux_psf            double precision,
  flux_psf_err        double precision,
  flux_apertures      double precision[],
  flux_apertures_err  double precision[],
  aper_radii          double precision[],
  mag_psf             double precision,
  mag_psf_err         double precision,
  bkg_mean            double precision,
  bkg_std             double precision,
  offset_x            double precision,          -- Gaussian fit offset from detection, px
  offset_y            double precision,
  width               double precision,          -- Gaussian fit sigma, px
  elongation          double precision,
  position_angle      double precision,          -- degrees
  nbad_pixels         integer,
  negative_fraction   double precision,
  negative_flux_fraction double precision,
  disqualifier_scores jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- each analytic cut's value
  is_bad              boolean     NOT NULL DEFAULT false,       -- failed the "bad" cuts
  is_test             boolean     NOT NULL DEFAULT false,
  is_fake             boolean     NOT NULL DEFAULT false,
  info                jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag            bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag   bigint      NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT now(),
  modified_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT measurements_set_index_key UNIQUE (measurement_set_id, index_in_sources),
  CONSTRAINT measurements_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX measurements_healpix_idx ON measurements (healpix);
CREATE INDEX measurements_object_idx ON measurements (object_id);

-- The scores given to one measurement set by one algorithm (its provenance).
CREATE TABLE deepscore_sets (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  measurement_set_id uuid        NOT NULL REFERENCES measurement_sets (id) ON DELETE CASCADE,
  provenance_id      varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  algorithm          smallint    NOT NULL,        -- enums.ts SCORE_ALGORITHM
  info               jsonb       NOT NULL DEFAULT '{}'::jsonb,
  _bitflag           bigint      NOT NULL DEFAULT 0,
  _upstream_bitflag  bigint      NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  modified_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deepscore_sets_measurement_set_provenance_key
    UNIQUE (measurement_set_id, provenance_id)
);

-- One score in [0, 1] (higher = more likely real) for one measurement.
CREATE TABLE deepscores (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  deepscore_set_id uuid        NOT NULL REFERENCES deepscore_sets (id) ON DELETE CASCADE,
  measurement_id   uuid        NOT NULL REFERENCES measurements (id) ON DELETE CASCADE,
  index_in_sources integer     NOT NULL,
  score            double precision NOT NULL,
  info             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  modified_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deepscores_set_index_key UNIQUE (deepscore_set_id, index_in_sources),
  CONSTRAINT deepscores_set_measurement_key UNIQUE (deepscore_set_id, measurement_id),
  CONSTRAINT deepscores_score_range CHECK (score >= 0 AND score <= 1)
);

-- ---------------------------------------------------------------------------
-- Fakes
-- ---------------------------------------------------------------------------

-- A set of fakes to inject into one image (via its zero point); the fakes' positions
-- and fluxes are in the file.
CREATE TABLE fake_sets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  zp_id         uuid        NOT NULL REFERENCES zero_points (id) ON DELETE CASCADE,
  provenance_id varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  num_fakes     integer     NOT NULL,
  random_seed   bigint,
  info          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  filepath      text        NOT NULL,
  md5           text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  modified_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fake_sets_zp_provenance_key UNIQUE (zp_id, provenance_id),
  CONSTRAINT fake_sets_filepath_key UNIQUE (filepath),
  CONSTRAINT fake_sets_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);

-- What became of the fakes of one fake set when subtraction .. scoring reran on the
-- faked image: per fake detected / kept / bad (in the file), summary counts here. It
-- points at the deep score set of the un-faked image, whose provenance chain the
-- analysis must follow.
CREATE TABLE fake_analyses (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fake_set_id           uuid        NOT NULL REFERENCES fake_sets (id) ON DELETE CASCADE,
  orig_deepscore_set_id uuid        NOT NULL REFERENCES deepscore_sets (id) ON DELETE CASCADE,
  provenance_id         varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  num_detected          integer,
  num_kept              integer,
  num_bad               integer,
  info                  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  filepath              text        NOT NULL,
  md5                   text        NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  modified_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fake_analyses_set_scores_provenance_key
    UNIQUE (fake_set_id, orig_deepscore_set_id, provenance_id),
  CONSTRAINT fake_analyses_filepath_key UNIQUE (filepath),
  CONSTRAINT fake_analyses_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$')
);

-- ---------------------------------------------------------------------------
-- Catalogs and calibrators
-- ---------------------------------------------------------------------------

-- A cached excerpt of a reference catalog (Gaia-DR3-like) covering a footprint, reused
-- by every image with about the same pointing. Keyed by its object key, which encodes
-- origin, footprint and magnitude range.
CREATE TABLE catalog_excerpts (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  origin       smallint    NOT NULL,             -- enums.ts CATALOG_ORIGIN
  format       smallint    NOT NULL DEFAULT 1,   -- enums.ts FILE_FORMAT
  num_items    integer     NOT NULL,
  min_mag      double precision,
  max_mag      double precision,
  filters      text[]      NOT NULL DEFAULT '{}',  -- bands the magnitude cuts apply to
  ra           double precision NOT NULL,
  dec          double precision NOT NULL,
  healpix      bigint      NOT NULL,             -- NESTED, order 12, of (ra, dec)
  ra_corner_00 double precision NOT NULL,
  ra_corner_01 double precision NOT NULL,
  ra_corner_10 double precision NOT NULL,
  ra_corner_11 double precision NOT NULL,
  dec_corner_00 double precision NOT NULL,
  dec_corner_01 double precision NOT NULL,
  dec_corner_10 double precision NOT NULL,
  dec_corner_11 double precision NOT NULL,
  minra        double precision NOT NULL,
  maxra        double precision NOT NULL,
  mindec       double precision NOT NULL,
  maxdec       double precision NOT NULL,
  info         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  filepath     text        NOT NULL,
  md5          text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  modified_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT catalog_excerpts_filepath_key UNIQUE (filepath),
  CONSTRAINT catalog_excerpts_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
  CONSTRAINT catalog_excerpts_healpix_range CHECK (healpix >= 0 AND healpix < 201326592)
);
CREATE INDEX catalog_excerpts_healpix_idx ON catalog_excerpts (healpix);
CREATE INDEX catalog_excerpts_dec_range_idx ON catalog_excerpts (mindec, maxdec);

-- A calibration file (zero, dark, flat, fringe, illumination, linearity) of one
-- instrument section, valid over a time range: either an image (image_id) or another
-- file (filepath + md5).
CREATE TABLE calibrator_files (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type           smallint    NOT NULL,           -- enums.ts CALIBRATOR_TYPE
  calibrator_set smallint    NOT NULL,           -- enums.ts CALIBRATOR_SET
  flat_type      smallint,                       -- enums.ts FLAT_TYPE (flats only)
  instrument     text        NOT NULL,
  section_id     text        NOT NULL,
  filter         text,                           -- for filter-dependent calibrators
  valid_from     timestamptz,                    -- null = since ever
  valid_until    timestamptz,                    -- null = until further notice
  image_id       uuid        REFERENCES images (id) ON DELETE CASCADE,
  info           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  filepath       text,
  md5            text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  modified_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT calibrator_files_filepath_key UNIQUE (filepath),
  CONSTRAINT calibrator_files_image_or_file
    CHECK ((image_id IS NULL) <> (filepath IS NULL)),
  CONSTRAINT calibrator_files_file_md5 CHECK ((filepath IS NULL) = (md5 IS NULL)),
  CONSTRAINT calibrator_files_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
  CONSTRAINT calibrator_files_validity
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until)
);
CREATE INDEX calibrator_files_lookup_idx ON calibrator_files (instrument, section_id, type);

-- ---------------------------------------------------------------------------
-- Reports
-- ---------------------------------------------------------------------------

-- One row per run of a step on one (exposure, section) (or on one image, for coadds and
-- references): what it cost and how it ended. A retried step updates its row.
CREATE TABLE reports (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  exposure_id    uuid        REFERENCES exposures (id) ON DELETE CASCADE,
  section_id     text,
  image_id       uuid        REFERENCES images (id) ON DELETE CASCADE,
  process        smallint    NOT NULL,           -- enums.ts PROCESS
  provenance_id  varchar(20) NOT NULL REFERENCES provenances (id) ON DELETE RESTRICT,
  status         smallint    NOT NULL DEFAULT 1, -- enums.ts REPORT_STATUS
  trace_id       text,
  worker         text,                           -- host / Lambda request id
  attempt        integer     NOT NULL DEFAULT 1,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  runtime_ms     double precision,               -- wall time of the step
  peak_memory_mb double precision,               -- peak resident memory
  warnings       jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- array of strings
  error_type     text,                           -- NoWorkFound / AlgorithmError / InputError / ...
  error_message  text,
  metrics        jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the step's run() metrics
  created_at     timestamptz NOT NULL DEFAULT now(),
  modified_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT reports_exposure_section_process_provenance_key
    UNIQUE (exposure_id, section_id, process, provenance_id),
  CONSTRAINT reports_image_process_provenance_key UNIQUE (image_id, process, provenance_id),
  CONSTRAINT reports_subject CHECK (exposure_id IS NOT NULL OR image_id IS NOT NULL),
  CONSTRAINT reports_warnings_array CHECK (jsonb_typeof(warnings) = 'array')
);
CREATE INDEX reports_trace_idx ON reports (trace_id);

-- ---------------------------------------------------------------------------
-- modified_at triggers, one per table
-- ---------------------------------------------------------------------------

CREATE TRIGGER code_versions_touch BEFORE UPDATE ON code_versions
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER provenances_touch BEFORE UPDATE ON provenances
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER provenance_upstreams_touch BEFORE UPDATE ON provenance_upstreams
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER provenance_tags_touch BEFORE UPDATE ON provenance_tags
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER known_exposures_touch BEFORE UPDATE ON known_exposures
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER exposures_touch BEFORE UPDATE ON exposures
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER images_touch BEFORE UPDATE ON images
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER source_lists_touch BEFORE UPDATE ON source_lists
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER backgrounds_touch BEFORE UPDATE ON backgrounds
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER psfs_touch BEFORE UPDATE ON psfs
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER world_coordinates_touch BEFORE UPDATE ON world_coordinates
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER zero_points_touch BEFORE UPDATE ON zero_points
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER image_coadd_components_touch BEFORE UPDATE ON image_coadd_components
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER refs_touch BEFORE UPDATE ON refs
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER refsets_touch BEFORE UPDATE ON refsets
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER refset_provenances_touch BEFORE UPDATE ON refset_provenances
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER image_subtraction_components_touch BEFORE UPDATE ON image_subtraction_components
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER cutouts_touch BEFORE UPDATE ON cutouts
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER objects_touch BEFORE UPDATE ON objects
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER measurement_sets_touch BEFORE UPDATE ON measurement_sets
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER measurements_touch BEFORE UPDATE ON measurements
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER deepscore_sets_touch BEFORE UPDATE ON deepscore_sets
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER deepscores_touch BEFORE UPDATE ON deepscores
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER fake_sets_touch BEFORE UPDATE ON fake_sets
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER fake_analyses_touch BEFORE UPDATE ON fake_analyses
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER catalog_excerpts_touch BEFORE UPDATE ON catalog_excerpts
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER calibrator_files_touch BEFORE UPDATE ON calibrator_files
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
CREATE TRIGGER reports_touch BEFORE UPDATE ON reports
  FOR EACH ROW EXECUTE FUNCTION skydiff_touch_modified_at();
