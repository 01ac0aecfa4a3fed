-- One row per video file ever probed, keyed by the path the dataset walk
-- produced (ROOT/SPLIT/class/..., exactly the string torchvision would use).
-- A row is valid for the file while size, mtime_ns and inode match, and for
-- the probe while mode and ffmpeg match.
CREATE TABLE videos (
    path        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    status      TEXT    NOT NULL,            -- 'ok' or a failure class
    error       TEXT    NOT NULL DEFAULT '', -- one-line cause when status <> 'ok'
    fps         REAL,                        -- NULL: torchvision's None
    tb_num      INTEGER NOT NULL DEFAULT 0,
    tb_den      INTEGER NOT NULL DEFAULT 0,
    codec       TEXT    NOT NULL DEFAULT '',
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    frames      INTEGER NOT NULL,
    pts         BLOB    NOT NULL,            -- sorted pts: zigzag varint deltas
    mode        TEXT    NOT NULL,            -- 'fast' or 'exact'
    ffmpeg      TEXT    NOT NULL,            -- FFmpeg version that probed it
    probed_unix INTEGER NOT NULL
);

-- Every cache file written, with what it was built from.
CREATE TABLE caches (
    path         TEXT PRIMARY KEY,
    root         TEXT    NOT NULL,
    split        TEXT    NOT NULL,
    config       TEXT    NOT NULL, -- JSON of the build options
    digest       TEXT    NOT NULL, -- SHA-256 of the content, created_unix excluded
    videos       INTEGER NOT NULL,
    clips        INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    created_unix INTEGER NOT NULL
);
