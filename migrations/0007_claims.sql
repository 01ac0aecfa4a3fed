-- Claims let processes that build from one index share the work: a process
-- claims a batch of videos (key 'video', mode, path) before probing them,
-- or the writing of a cache (key 'cache', '', path), for a lease it renews
-- while it lives. A claim whose lease ran out, or whose process is gone
-- from this host, is taken over.
CREATE TABLE claims (
    kind       TEXT    NOT NULL, -- 'video' or 'cache'
    mode       TEXT    NOT NULL, -- the probe kind ('' for caches)
    path       TEXT    NOT NULL,
    owner      TEXT    NOT NULL, -- host:pid:nonce of the claiming process
    host       TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    expires_ns INTEGER NOT NULL, -- unix time in ns
    PRIMARY KEY (kind, mode, path)
) WITHOUT ROWID;
CREATE INDEX claims_owner ON claims (owner);
