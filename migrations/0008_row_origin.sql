-- Where a row's facts came from: 'probed' (vidcache read the video; ffmpeg
-- names the FFmpeg that did) or 'imported' (import took them from a
-- torchvision cache; ffmpeg is empty). Until now import wrote the marker
-- 'imported' into the ffmpeg column instead.
ALTER TABLE videos ADD COLUMN origin TEXT NOT NULL DEFAULT 'probed';
UPDATE videos SET origin = 'imported', ffmpeg = '' WHERE ffmpeg = 'imported';
