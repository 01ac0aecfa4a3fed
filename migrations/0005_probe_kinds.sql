-- One row per video and probe kind: a video keeps what each way of reading
-- it found ('fast' and 'exact' PyAV timestamps for torchvision 0.25 and
-- earlier, 'scan' for torchvision 0.26+'s torchcodec), so switching between
-- targets or modes re-reads nothing that is still fresh. Rows from before
-- keep their mode.
CREATE TABLE videos_v5 (
    path        TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
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
    ffmpeg      TEXT    NOT NULL,
    probed_unix INTEGER NOT NULL,
    hash        TEXT    NOT NULL DEFAULT '',
    pts_hash    INTEGER,
    PRIMARY KEY (path, mode)
) WITHOUT ROWID;
INSERT INTO videos_v5 (path, mode, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height,
                       frames, ffmpeg, probed_unix, hash, pts_hash)
    SELECT path, mode, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height,
           frames, ffmpeg, probed_unix, hash, pts_hash FROM videos;
DROP TABLE videos;
ALTER TABLE videos_v5 RENAME TO videos;

CREATE TABLE video_pts_v5 (
    path TEXT NOT NULL,
    mode TEXT NOT NULL,
    pts  BLOB NOT NULL,       -- sorted pts: zigzag varint deltas (empty for 'scan')
    PRIMARY KEY (path, mode)
) WITHOUT ROWID;
INSERT INTO video_pts_v5 (path, mode, pts)
    SELECT p.path, v.mode, p.pts FROM video_pts p JOIN videos v ON v.path = p.path;
DROP TABLE video_pts;
ALTER TABLE video_pts_v5 RENAME TO video_pts;
