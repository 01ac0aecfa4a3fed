package indexer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
)

func TestIncrementalReprobesExactlyWhatChanged(t *testing.T) {
	root := copySample(t)
	ix := openIx(t)
	if res, probed := build(t, ix, root, nil); res.Probed != 16 || len(probed) != 16 {
		t.Fatalf("first build probed %d: %v", res.Probed, probed)
	}
	tr := filepath.Join(root, "train")
	now := time.Now().Add(time.Hour)
	// touch: same bytes, new mtime
	os.Chtimes(filepath.Join(tr, "abseiling/h264-30fps.mp4"), now, now)
	// modify in place
	f, _ := os.OpenFile(filepath.Join(tr, "juggling/nested/z.mp4"), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0})
	f.Close()
	// replace (new inode, same size and mtime)
	src := filepath.Join(tr, "abseiling/h264-25fps.mp4")
	fi, _ := os.Stat(src)
	b, _ := os.ReadFile(src)
	os.WriteFile(src+".new", b, 0o644)
	os.Chtimes(src+".new", fi.ModTime(), fi.ModTime())
	os.Rename(src+".new", src)
	// delete, add
	os.Remove(filepath.Join(tr, "juggling/nested-dir/x.mp4"))
	os.WriteFile(filepath.Join(tr, "juggling/added.mp4"), b, 0o644)

	ctx := context.Background()
	st, err := Status(ctx, ix, BuildOptions{Config: cachefmt.Config{Root: root, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 1}}, Out: filepath.Join(filepath.Dir(root), "cache.pt")})
	if err != nil {
		t.Fatal(err)
	}
	if st.Fresh || len(st.New) != 1 || len(st.Changed) != 4 || len(st.Removed) != 1 {
		t.Errorf("status: fresh %v new %v changed %v removed %v", st.Fresh, st.New, st.Changed, st.Removed)
	}
	res, probed := build(t, ix, root, nil)
	// symlinked.mp4 points at the replaced file, so it changed too.
	want := []string{"abseiling/h264-25fps.mp4", "abseiling/h264-30fps.mp4", "juggling/added.mp4", "juggling/nested/z.mp4", "juggling/symlinked.mp4"}
	if strings.Join(probed, ",") != strings.Join(want, ",") || !res.Written {
		t.Errorf("re-probed %v, want %v (written %v)", probed, want, res.Written)
	}
	rows, _ := ix.RowsUnder(ctx, tr+"/", vocab.ModeScan)
	if _, ok := rows[filepath.Join(tr, "juggling/nested-dir/x.mp4")]; ok {
		t.Error("row of the deleted video kept")
	}
	st, _ = Status(ctx, ix, BuildOptions{Config: cachefmt.Config{Root: root, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 1}}, Out: filepath.Join(filepath.Dir(root), "cache.pt")})
	if !st.Fresh || len(st.Failed) != 2 {
		t.Errorf("after rebuild: %+v", st)
	}
	// Another probe kind (target or mode) probes everything once; the index
	// keeps each kind's rows, so switching back probes nothing, and a clip
	// option change probes nothing either.
	pyav := func(m vocab.Mode) func(*BuildOptions) {
		return func(o *BuildOptions) { o.Target, o.Mode = vocab.TargetPyAV, m }
	}
	if res, _ := build(t, ix, root, pyav(vocab.ModeFast)); res.Probed != res.Videos {
		t.Errorf("pyav fast after torchvision probed %d of %d", res.Probed, res.Videos)
	}
	if res, _ := build(t, ix, root, pyav(vocab.ModeExact)); res.Probed != res.Videos {
		t.Errorf("exact after fast probed %d of %d", res.Probed, res.Videos)
	}
	for _, back := range []func(*BuildOptions){nil, pyav(vocab.ModeFast), pyav(vocab.ModeExact)} {
		if res, _ := build(t, ix, root, back); res.Probed != 0 || !res.Written {
			t.Errorf("switching back probed %d (written %v)", res.Probed, res.Written)
		}
	}
	if res, _ := build(t, ix, root, func(o *BuildOptions) { pyav(vocab.ModeExact)(o); o.FramesPerClip = 9 }); res.Probed != 0 {
		t.Errorf("clip option change probed %d", res.Probed)
	}
}

func TestRehashAndRootAs(t *testing.T) {
	root := copySample(t)
	ix := openIx(t)
	build(t, ix, root, func(o *BuildOptions) { o.Rehash = true })
	// New mtimes on every file, same content: --rehash probes nothing.
	later := time.Now().Add(2 * time.Hour)
	filepath.Walk(filepath.Join(root, "train"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			os.Chtimes(p, later, later)
		}
		return nil
	})
	if res, probed := build(t, ix, root, func(o *BuildOptions) { o.Rehash = true }); res.Probed != 0 {
		t.Errorf("--rehash re-probed %v after a touch", probed)
	}
	// Same size, new content: found by the hash although mtime is restored.
	p := filepath.Join(root, "train/abseiling/h264-25fps.mp4")
	fi, _ := os.Stat(p)
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0xff
	os.WriteFile(p, b, 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if _, probed := build(t, ix, root, func(o *BuildOptions) { o.Rehash = true }); strings.Join(probed, ",") != "abseiling/h264-25fps.mp4,juggling/symlinked.mp4" {
		t.Errorf("--rehash probed %v", probed)
	}

	out := filepath.Join(t.TempDir(), "mounted.pt")
	build(t, ix, root, func(o *BuildOptions) { o.RootAs = "/mnt/k400"; o.Out = out })
	f, err := cachefmt.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Config.Root != "/mnt/k400" || f.Videos[0].Path != "/mnt/k400/train/.hidden/hidden-class.mp4" {
		t.Errorf("--root-as: root %s, first path %s", f.Config.Root, f.Videos[0].Path)
	}
}

func TestRefreshProbesSharedFilesOnce(t *testing.T) {
	root := copySample(t)
	ix := openIx(t)
	dir := t.TempDir()
	for _, fpc := range []int{4, 8} {
		build(t, ix, root, func(o *BuildOptions) {
			o.FramesPerClip = fpc
			o.Out = filepath.Join(dir, "c"+string(rune('0'+fpc))+".pt")
		})
	}
	ctx := context.Background()
	res, err := Refresh(ctx, ix, RefreshOptions{Jobs: 2, NoSync: true})
	if err != nil || len(res) != 2 || res[0].State != RefreshFresh || res[1].State != RefreshFresh {
		t.Fatalf("refresh of fresh caches: %+v %v", res, err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/new.mp4"), b, 0o644)
	rec := &recorder{}
	res, err = Refresh(ctx, ix, RefreshOptions{Roots: []string{root}, Jobs: 2, NoSync: true, Progress: rec})
	if err != nil || len(res) != 2 || res[0].State != RefreshRebuilt || res[1].State != RefreshRebuilt {
		t.Fatalf("refresh: %+v %v", res, err)
	}
	if got := rec.rel(root); strings.Join(got, ",") != "abseiling/new.mp4" {
		t.Errorf("one pass over the union should probe the new file once, probed %v", got)
	}
	if res, _ := Refresh(ctx, ix, RefreshOptions{Roots: []string{"/elsewhere"}}); len(res) != 0 {
		t.Errorf("refresh of another root touched %+v", res)
	}

	// gc: the cache files are registered; a stray file and a vanished video go.
	os.Remove(filepath.Join(root, "train/abseiling/new.mp4"))
	old := time.Now().Add(-2 * cachefmt.StaleAfter) // left by an old, killed write
	for _, name := range []string{"stray.pt", ".c4.pt.tmp-123"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
		os.Chtimes(filepath.Join(dir, name), old, old)
	}
	g, err := GC(ctx, ix, dir, true)
	if err != nil || len(g.ForgottenVideos) != 1 || len(g.DeletedFiles) != 2 {
		t.Fatalf("gc --dry-run: %+v %v", g, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stray.pt")); err != nil {
		t.Fatal("dry run deleted a file")
	}
	if g, err = GC(ctx, ix, dir, false); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 2 {
		t.Errorf("after gc: %v", left)
	}
	if paths, _ := ix.AllPaths(ctx); len(paths) != 16 {
		t.Errorf("after gc the index holds %d videos, want 16", len(paths))
	}
}

// TestTouchLeavesCacheUntouched: a touched file is probed again, but the
// cache's content is unchanged, so the file on disk is not rewritten.
func TestTouchLeavesCacheUntouched(t *testing.T) {
	root := copySample(t)
	ix := openIx(t)
	first, _ := build(t, ix, root, nil)
	before, err := os.Stat(first.Cache)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(3 * time.Hour)
	os.Chtimes(filepath.Join(root, "train", "abseiling", "h264-30fps.mp4"), later, later)
	res, probed := build(t, ix, root, func(o *BuildOptions) { o.CreatedUnix = 99 })
	if strings.Join(probed, ",") != "abseiling/h264-30fps.mp4" || res.Written {
		t.Errorf("touch: probed %v, written %v", probed, res.Written)
	}
	after, _ := os.Stat(first.Cache)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("the cache file was rewritten although its content did not change")
	}
	// An index without stored pts hashes (made before migration 0003) still
	// gives the same digest, by reading the blobs back.
	if _, err := ix.DB().Exec(`UPDATE videos SET pts_hash = NULL`); err != nil {
		t.Fatal(err)
	}
	if res, _ := build(t, ix, root, nil); res.Written || res.Probed != 0 {
		t.Errorf("after clearing pts hashes: %+v", res)
	}
}

// TestGCSparesLiveTemporaries: gc deletes a killed write's temporary in the
// caches folder, but not one a running write holds (the lock it takes).
func TestGCSparesLiveTemporaries(t *testing.T) {
	ix := openIx(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, ".k.pt.tmp-1")
	live := filepath.Join(dir, ".k.pt.tmp-2")
	old := time.Now().Add(-2 * cachefmt.StaleAfter)
	for _, p := range []string{stale, live} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	rep, err := GC(context.Background(), ix, dir, false)
	if err != nil || len(rep.DeletedFiles) != 1 || rep.DeletedFiles[0] != stale {
		t.Errorf("gc with a live write: %+v %v", rep, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("gc deleted the live temporary: %v", err)
	}
	f.Close() // the writer died
	if rep, err := GC(context.Background(), ix, dir, false); err != nil || len(rep.DeletedFiles) != 1 || rep.DeletedFiles[0] != live {
		t.Errorf("gc after the writer died: %+v %v", rep, err)
	}
}
