-- FNV-1a (64-bit) of each row's pts blob, so a build can tell whether a
-- cache's content changed from row metadata alone, without reading every
-- blob. NULL for rows written before this column existed.
ALTER TABLE videos ADD COLUMN pts_hash INTEGER;
