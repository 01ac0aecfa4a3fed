package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// Dataset is one split of a Kinetics-layout folder, in torchvision's order.
type Dataset struct {
	Root     string // as the paths start (absolute, cleaned)
	Split    string
	Dir      string   // Root joined with Split
	Classes  []string // sorted; a class's label is its index
	Videos   []Entry
	Warnings []string // empty classes, unreadable folders, symlink loops
}

// index maps each video's path to its index in Videos (a new map each call:
// callers keep it only as long as they need it).
func (d *Dataset) index() map[string]int {
	m := make(map[string]int, len(d.Videos))
	for i := range d.Videos {
		m[d.Videos[i].Path] = i
	}
	return m
}

// Entry is one video file of the dataset.
type Entry struct {
	Path  string // os.path.join(root, split, class, ..., name), as torchvision builds it
	Label int
	// From stat(2) of Path, following symlinks.
	Size    int64
	MtimeNs int64
	Inode   uint64
	Mode    fs.FileMode
	StatErr error // dangling symlink, vanished file, ...
}

// Regular reports whether the entry can be probed: it exists and is a
// regular file (FIFOs, sockets and devices are never opened).
func (e *Entry) Regular() bool { return e.StatErr == nil && e.Mode.IsRegular() }

// pyJoin is Python's posixpath.join for two components.
func pyJoin(a, b string) string {
	switch {
	case strings.HasPrefix(b, "/"):
		return b
	case a == "" || strings.HasSuffix(a, "/"):
		return a + b
	}
	return a + "/" + b
}

// lower lowercases like Python's str.lower on valid UTF-8 and keeps bytes that
// are not UTF-8 as they are (Python sees them as surrogate escapes, which
// lower() leaves alone).
func lower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		i += n
	}
	return b.String()
}

// matchExt is torchvision's has_file_allowed_extension: the lowercased path
// ends with one of the extensions, which are used exactly as given.
func matchExt(path string, exts []string) bool {
	l := lower(path)
	for _, e := range exts {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

// DatasetError: ROOT/SPLIT cannot be listed. Its message says why, and
// when ROOT looks like the split folder itself, what ROOT should have been.
type DatasetError struct {
	Root, Split string
	Err         error
}

func (e *DatasetError) Error() string { return e.Explain(optionName) }

// Explain names the option split.
func (e *DatasetError) Explain(name func(option string) string) string {
	msg := fmt.Sprintf("dataset %s: no %s folder to read (%v)", e.Root, e.Split, e.Err)
	if _, err := os.Stat(e.Root); err != nil {
		return fmt.Sprintf("dataset root %s: %v", e.Root, err)
	}
	if filepath.Base(e.Root) == e.Split {
		msg += fmt.Sprintf("; ROOT is the folder that holds %s/: did you mean %s?", e.Split, filepath.Dir(e.Root))
	} else if ents, err := os.ReadDir(e.Root); err == nil {
		var splits []string
		for _, d := range ents {
			if d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				splits = append(splits, d.Name())
			}
		}
		if len(splits) > 0 {
			msg += fmt.Sprintf("; its folders are %s: choose one%s", strings.Join(splits, ", "), with(name, "split"))
		}
	}
	return msg
}

func (e *DatasetError) Unwrap() error { return e.Err }

// Scan lists root/split the way torchvision's Kinetics does (find_classes,
// then make_dataset with os.walk(followlinks=True)): classes are the entries
// that are folders after following symlinks, sorted; each class folder is
// walked recursively following symlinked folders; the (folder, files) pairs
// are sorted by folder path and the files of each folder by name.
//
// Unlike torchvision, a class folder without videos is a warning, not an
// error (its label index is kept), and a symlink that leads back to a folder
// already on the current path is not followed again (torchvision would
// descend until the kernel's ELOOP limit, listing the same videos many times).
func Scan(ctx context.Context, root, split string, exts []string) (*Dataset, error) {
	dir := pyJoin(root, split)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &DatasetError{Root: root, Split: split, Err: err}
	}
	ds := &Dataset{Root: root, Split: split, Dir: dir}
	for _, e := range ents {
		if isDir(pyJoin(dir, e.Name()), e) {
			ds.Classes = append(ds.Classes, e.Name())
		}
	}
	if len(ds.Classes) == 0 {
		return nil, fmt.Errorf("scan dataset: no class folders in %s", dir)
	}
	sort.Strings(ds.Classes)
	// Classes are walked (listing and stat calls) in parallel, then joined in
	// label order.
	scans := make([]classScan, len(ds.Classes))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for label, class := range ds.Classes {
		g.Go(func() error {
			scans[label] = scanClass(gctx, pyJoin(dir, class), label, exts)
			return scans[label].err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n := 0
	for i := range scans {
		n += len(scans[i].videos)
	}
	ds.Videos = make([]Entry, 0, n)
	for label, sc := range scans {
		ds.Videos = append(ds.Videos, sc.videos...)
		ds.Warnings = append(ds.Warnings, sc.warnings...)
		if len(sc.videos) == 0 {
			ds.Warnings = append(ds.Warnings, fmt.Sprintf("class %q has no file with extension %s (torchvision would refuse the dataset); its label %d is kept", ds.Classes[label], strings.Join(exts, ","), label))
		}
	}
	return ds, nil
}

// classScan is one class folder's videos, in torchvision's order.
type classScan struct {
	videos   []Entry
	warnings []string
	err      error
}

func scanClass(ctx context.Context, dir string, label int, exts []string) classScan {
	w := walker{ctx: ctx, onStack: map[devIno]bool{}}
	w.walk(dir)
	if w.err != nil {
		return classScan{err: w.err}
	}
	sc := classScan{warnings: w.warnings}
	sort.Slice(w.dirs, func(i, j int) bool { return w.dirs[i].path < w.dirs[j].path })
	for _, d := range w.dirs {
		sort.Strings(d.files)
		for _, name := range d.files {
			p := pyJoin(d.path, name)
			if matchExt(p, exts) {
				sc.videos = append(sc.videos, statEntry(p, label))
			}
		}
	}
	return sc
}

type devIno struct{ dev, ino uint64 }

type dirFiles struct {
	path  string
	files []string
}

type walker struct {
	ctx      context.Context
	dirs     []dirFiles
	onStack  map[devIno]bool
	warnings []string
	err      error
}

// walk is os.walk(top, followlinks=True): a folder that cannot be listed is
// skipped (os.walk's default), with a warning here.
func (w *walker) walk(top string) {
	if w.err != nil {
		return
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return
	}
	var st syscall.Stat_t
	if err := syscall.Stat(top, &st); err == nil {
		id := devIno{uint64(st.Dev), st.Ino}
		if w.onStack[id] {
			w.warnings = append(w.warnings, fmt.Sprintf("%s: symlink loop, not followed", top))
			return
		}
		w.onStack[id] = true
		defer delete(w.onStack, id)
	}
	ents, err := os.ReadDir(top)
	if err != nil {
		w.warnings = append(w.warnings, fmt.Sprintf("cannot list %s: %v", top, errors.Unwrap(err)))
		return
	}
	d := dirFiles{path: top}
	var subdirs []string
	for _, e := range ents {
		p := pyJoin(top, e.Name())
		if isDir(p, e) {
			subdirs = append(subdirs, p)
		} else {
			d.files = append(d.files, e.Name())
		}
	}
	w.dirs = append(w.dirs, d)
	for _, s := range subdirs {
		w.walk(s)
	}
}

// isDir is os.DirEntry.is_dir(): true for folders and symlinks to folders;
// false (not an error) when a symlink cannot be followed.
func isDir(path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func statEntry(path string, label int) Entry {
	e := Entry{Path: path, Label: label}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		e.StatErr = &fs.PathError{Op: "stat", Path: path, Err: err}
		return e
	}
	e.Size = st.Size
	e.MtimeNs = st.Mtim.Sec*1e9 + st.Mtim.Nsec
	e.Inode = st.Ino
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		e.Mode = 0
	case syscall.S_IFDIR:
		e.Mode = fs.ModeDir
	case syscall.S_IFIFO:
		e.Mode = fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		e.Mode = fs.ModeSocket
	case syscall.S_IFCHR:
		e.Mode = fs.ModeDevice | fs.ModeCharDevice
	default:
		e.Mode = fs.ModeDevice
	}
	return e
}
