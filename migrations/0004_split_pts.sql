-- Keep the timestamp blobs apart from the per-video metadata: plans read
-- only metadata (small rows), the cache writer streams blobs in path order.
-- Both tables are clustered by path (WITHOUT ROWID), so scans in path order
-- are sequential.
CREATE TABLE video_pts (
    path TEXT PRIMARY KEY,
    pts  BLOB NOT NULL        -- sorted pts: zigzag varint deltas
) WITHOUT ROWID;
INSERT INTO video_pts (path, pts) SELECT path, pts FROM videos;

CREATE TABLE videos_v4 (
    path        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    error       TEXT    NOT NULL DEFAULT '',
    fps         REAL,
    tb_num      INTEGER NOT NULL DEFAULT 0,
    tb_den      INTEGER NOT NULL DEFAULT 0,
    codec       TEXT    NOT NULL DEFAULT '',
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    frames      INTEGER NOT NULL,
    mode        TEXT    NOT NULL,
    ffmpeg      TEXT    NOT NULL,
    probed_unix INTEGER NOT NULL,
    hash        TEXT    NOT NULL DEFAULT '',
    pts_hash    INTEGER
) WITHOUT ROWID;
INSERT INTO videos_v4 (path, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height,
                       frames, mode, ffmpeg, probed_unix, hash, pts_hash)
    SELECT path, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height,
           frames, mode, ffmpeg, probed_unix, hash, pts_hash FROM videos;
DROP TABLE videos;
ALTER TABLE videos_v4 RENAME TO videos;
