package migrations

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

func TestApplyUpgradesAndKeepsData(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "ix.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := All()
	if err != nil || len(ms) < 4 {
		t.Fatalf("migrations: %d, %v", len(ms), err)
	}
	// An index as version 1 left it, with one video.
	db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_unix INTEGER NOT NULL)`)
	if err := apply(ctx, db, ms[0]); err != nil {
		t.Fatal(err)
	}
	blob := []byte{2, 4, 6}
	if _, err := db.Exec(`INSERT INTO videos (path, size, mtime_ns, inode, status, frames, pts, mode, ffmpeg, probed_unix)
		VALUES ('/d/train/a/x.mp4', 10, 20, 30, 'ok', 3, ?, 'fast', '7.1.5', 1),
		       ('/d/train/a/y.mp4', 11, 21, 31, 'ok', 3, ?, 'exact', 'imported', 1)`, blob, blob); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second run must change nothing
		if err := Apply(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if n != len(ms) {
		t.Errorf("%d versions recorded, want %d", n, len(ms))
	}
	var got []byte
	var size int64
	if err := db.QueryRow(`SELECT v.size, p.pts FROM videos v JOIN video_pts p USING (path) WHERE path LIKE '%x.mp4'`).Scan(&size, &got); err != nil || size != 10 || !bytes.Equal(got, blob) {
		t.Errorf("after upgrade: size %d pts %v err %v", size, got, err)
	}
	// Import's marker in the FFmpeg column became the row's origin (0008).
	for path, want := range map[string]string{"/d/train/a/x.mp4": "probed 7.1.5", "/d/train/a/y.mp4": "imported "} {
		var origin, ffmpeg string
		if err := db.QueryRow(`SELECT origin, ffmpeg FROM videos WHERE path = ?`, path).Scan(&origin, &ffmpeg); err != nil || origin+" "+ffmpeg != want {
			t.Errorf("%s: origin %q, ffmpeg %q (%v), want %q", path, origin, ffmpeg, err, want)
		}
	}
	// A newer index than this binary knows is refused.
	db.Exec(`INSERT INTO schema_migrations VALUES (999, 'future', 0)`)
	if err := Apply(ctx, db); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}
}
