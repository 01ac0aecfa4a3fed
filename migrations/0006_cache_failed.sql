-- How many of a registered cache's videos gave no frames (for `vidcache
-- list`); -1 for caches registered before this column existed.
ALTER TABLE caches ADD COLUMN failed INTEGER NOT NULL DEFAULT -1;
