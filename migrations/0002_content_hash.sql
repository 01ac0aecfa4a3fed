-- Content hash (SHA-256, hex) of a video file, for `build --rehash` on file
-- systems whose mtimes cannot be trusted. Empty until first computed.
ALTER TABLE videos ADD COLUMN hash TEXT NOT NULL DEFAULT '';
