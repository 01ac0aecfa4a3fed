package pickle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/torchfile"
)

// Budgets of an audit. Exceeding one makes the scan incomplete, and the
// file unsafe, never "safe".
const (
	auditMaxDepth   = 8       // torch files nested in zip records
	auditMaxInflate = 1 << 30 // bytes decompressed from zip records, in all
	auditMaxNested  = 256 << 20
	auditMaxPickles = 1 << 16 // pickles in one stream
)

// Audit is AuditContext without cancellation.
func Audit(path string) (*AuditReport, error) { return AuditContext(context.Background(), path) }

// AuditContext scans every pickle torch.load would unpickle from path, and
// conservatively every other pickle in it, without executing or importing
// anything, and grades it against each generation's weights_only rules.
// It locates the pickles exactly as torch.load does (package torchfile):
//
//   - A file starting with a zip local header is a torch zip, read as miniz
//     reads it. Every record whose name ends in .pkl (case-insensitively) is
//     a pickle; other records that are themselves zips, or that start with
//     a PROTO 2-5 opcode (a nested legacy torch file or pickle), are scanned
//     too, nested up to auditMaxDepth deep. Storage records are never
//     inflated beyond their first bytes: they hold no code.
//   - Otherwise, a file Python's tarfile opens is torch's oldest (tar)
//     format: every member tarfile would extract is scanned as a sequence of
//     pickles, and so is the file from byte 0 (torch falls back to it when
//     extracting fails).
//   - Otherwise the file is a sequence of pickles of any protocol (0-5),
//     as torch's legacy loader reads it: the magic number, the protocol,
//     the system info, the object and the storage keys, every one of them
//     unpickled (the first runs before torch checks the magic number), and
//     then raw storage data, which is scanned for further pickles too.
//
// A layout that another reader could read differently (torchfile's
// ambiguities) makes the file unsafe whatever its pickles say. A parse
// error ends the scan of that stream, but what came before it is kept and
// graded (the unpickler runs every opcode before the bad one). The returned
// report is non-nil whenever the file could be opened; err wraps
// ErrUnreadable when a pickle torch would unpickle is damaged, and then the
// report says whether what was read is already unsafe.
func AuditContext(ctx context.Context, path string) (*AuditReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrUnreadable)
	}
	a := &auditor{ctx: ctx, r: &AuditReport{File: path, Opcodes: map[string]int{}, Globals: []Finding{}}, budget: newWorkBudget()}
	err = a.scanFile(f, fi.Size(), "", 0)
	if err == nil && len(a.r.Errors) > 0 {
		err = errors.New(a.r.Errors[0])
	}
	a.r.grade(err)
	if err != nil {
		if ctx.Err() != nil {
			return a.r, ctx.Err()
		}
		return a.r, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	return a.r, nil
}

type auditor struct {
	ctx      context.Context
	r        *AuditReport
	inflated int64
	budget   *workBudget
}

func (a *auditor) incomplete(format string, args ...any) {
	a.r.Incomplete = append(a.r.Incomplete, fmt.Sprintf(format, args...))
}

// scanFile scans the torch file or pickle held by ra (size bytes); prefix
// names it inside an outer file ("" for the file itself).
func (a *auditor) scanFile(ra io.ReaderAt, size int64, prefix string, depth int) error {
	tf, err := torchfile.Open(ra, size)
	if err != nil {
		return err
	}
	where := func(s string) string {
		if prefix == "" {
			return s
		}
		return strings.TrimSuffix(prefix, "!") + ": " + s
	}
	for _, s := range tf.Ambiguities {
		a.r.Ambiguities = append(a.r.Ambiguities, where(s))
	}
	kind := func(k string) {
		if a.r.Kind == "" {
			a.r.Kind = k
		}
	}
	switch tf.Kind {
	case torchfile.KindZip:
		kind("torch zip")
		if tf.Zip == nil {
			if prefix == "" {
				return fmt.Errorf("not a zip torch can read: %s", strings.Join(tf.Refusals, "; "))
			}
			a.incomplete("%s", where(strings.Join(tf.Refusals, "; ")))
			return nil
		}
		for _, s := range tf.Refusals {
			a.r.Refused = append(a.r.Refused, where(s))
		}
		if prefix == "" {
			a.r.TorchScript = tf.Zip.Has("constants.pkl")
			if tf.Zip.Lookup("data.pkl") == nil && !a.r.TorchScript {
				a.r.Refused = append(a.r.Refused, "no "+tf.Zip.Prefix+"/data.pkl record")
			}
		}
		return a.scanZip(ra, tf.Zip, prefix, depth)
	case torchfile.KindTar:
		kind("torch legacy tar")
		for _, m := range tf.Tar.Members {
			if !m.HasData || m.Size == 0 {
				continue
			}
			// Members hold pickles between raw storage bytes: a member that
			// does not parse as pickles to its end is not fully scanned.
			br := bufio.NewReader(io.NewSectionReader(ra, m.Offset, m.Size))
			if end, _, err := a.scanStream(br, m.Size, numbered(prefix+m.Name+" "), false); err != nil || end < m.Size {
				a.incomplete("%s: only the first %d of %d bytes parse as pickles", prefix+m.Name, end, m.Size)
			}
		}
		// torch re-reads the file as a pickle stream when extracting fails.
		_, _, err := a.scanStream(bufio.NewReader(io.NewSectionReader(ra, 0, size)), size, numbered(prefix), false)
		return err
	}
	var head [1]byte
	if n, _ := ra.ReadAt(head[:], 0); n == 0 || opcodes[head[0]].name == "" {
		if prefix != "" {
			return nil
		}
		return errors.New("neither a zip, a tar, nor a pickle")
	}
	_, legacy, err := a.scanStream(bufio.NewReader(io.NewSectionReader(ra, 0, size)), size, numbered(prefix), prefix == "")
	if legacy {
		kind("torch legacy")
	}
	kind("pickle")
	return err
}

// legacyMagic is torch's legacy magic number 0x1950a86a20f9469cfc6c.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// numbered names a stream's pickles "PREFIXpickle N".
func numbered(prefix string) func(i int) string {
	return func(i int) string { return fmt.Sprintf("%spickle %d", prefix, i+1) }
}

// scanStream scans consecutive pickles of br (size bytes) to its end. The
// first pickles are ones torch's legacy loader unpickles (errors there are
// reported); after the fifth of a legacy file, or after the first of a
// plain pickle, the rest is scanned only conservatively: a parse error
// there ends the scan quietly (raw data). It returns how many bytes parsed,
// and whether the first pickle was torch's legacy magic number.
func (a *auditor) scanStream(br *bufio.Reader, size int64, entry func(i int) string, strict bool) (end int64, legacy bool, err error) {
	w := newOpWalker(br, size, false)
	w.maxArg = 1 << 16
	needed := 1 // pickles an unpickler reads for sure
	for i := 0; w.off < size; i++ {
		if i == auditMaxPickles {
			a.incomplete("%s: more than %d pickles", entry(i), auditMaxPickles)
			return w.off, legacy, nil
		}
		start := w.off
		m, err := a.scanPickle(w, entry(i))
		if err != nil {
			if errors.Is(err, ErrTooComplex) {
				a.incomplete("%s: %v", entry(i), err)
				return start, legacy, nil
			}
			if a.ctx.Err() != nil {
				return start, legacy, a.ctx.Err()
			}
			if strict && i < needed {
				a.r.Errors = append(a.r.Errors, fmt.Sprintf("%s: %v", entry(i), err))
			}
			return start, legacy, nil
		}
		if i == 0 && isMagic(m) {
			needed, legacy = 5, true
		}
	}
	return w.off, legacy, nil
}

// isMagic: the pickle's result is the legacy magic number (however it was
// pickled: INT, LONG, LONG1, LONG4).
func isMagic(m *pvm) bool { return m.result.kind == 'i' && m.result.s == legacyMagic.String() }

// scanPickle walks one pickle to its STOP, simulating the pickle machine to
// name every global it imports. Findings before an error are kept.
func (a *auditor) scanPickle(w *opWalker, entry string) (*pvm, error) {
	a.r.Pickles++
	start := w.off
	m := newPVM(a.budget)
	m.onGlobal = func(at int64, op, module, name string) {
		g := Global{op, module, name}
		a.r.Globals = append(a.r.Globals, Finding{Entry: entry, Offset: at - start, Op: op, Global: g.String(), ref: g})
	}
	for {
		at, op, arg, err := w.next()
		if err != nil {
			return m, err
		}
		a.r.Opcodes[op.name]++
		done, err := m.step(at, op, arg)
		if err != nil {
			return m, fmt.Errorf("%s at offset %d: %w", op.name, at-start, err)
		}
		if done {
			return m, nil
		}
		if m.ops&0xffff == 0 {
			if err := a.ctx.Err(); err != nil {
				return m, err
			}
		}
	}
}

// scanZip scans a torch zip's records (see AuditContext).
func (a *auditor) scanZip(ra io.ReaderAt, z *torchfile.Zip, prefix string, depth int) error {
	for i := range z.Records {
		rec := &z.Records[i]
		if err := a.ctx.Err(); err != nil {
			return err
		}
		isPkl := strings.HasSuffix(strings.ToLower(rec.Name), ".pkl")
		if !isPkl && rec.USize < 2 {
			continue
		}
		if err := a.scanRecord(ra, z, rec, prefix+rec.Name, isPkl, depth); err != nil {
			return err
		}
	}
	return nil
}

// countingReader counts the bytes read through it (bytes inflated, for a
// deflated record) against the audit's budget.
type countingReader struct {
	r io.Reader
	a *auditor
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.a.inflated >= auditMaxInflate {
		return 0, errInflateBudget
	}
	n, err := c.r.Read(p)
	c.a.inflated += int64(n)
	return n, err
}

// sizeCRC hashes and counts what a record yields.
type sizeCRC struct {
	h hash.Hash32
	n int64
}

func (s *sizeCRC) Write(p []byte) (int, error) { s.n += int64(len(p)); return s.h.Write(p) }

var errInflateBudget = fmt.Errorf("%w: more than %d bytes decompressed", ErrTooComplex, int64(auditMaxInflate))

func (a *auditor) scanRecord(ra io.ReaderAt, z *torchfile.Zip, rec *torchfile.Record, name string, isPkl bool, depth int) error {
	var rd io.Reader = z.Reader(ra, rec)
	if rec.Method != 0 {
		// A pickle record is needed whole: its declared size is charged
		// first. Other records are inflated only as far as they are read.
		if isPkl && a.inflated+rec.USize > auditMaxInflate {
			a.incomplete("%s: decompressing it would exceed the %d-byte budget", name, int64(auditMaxInflate))
			return nil
		}
		rd = &countingReader{r: rd, a: a}
	}
	crc := &sizeCRC{h: crc32.NewIEEE()}
	br := bufio.NewReader(io.TeeReader(rd, crc))
	head, _ := br.Peek(4)
	switch {
	case isPkl:
		// A .pkl record is unpickled by torch: its first pickle must parse.
		// Its first pickle is named by the record alone.
		_, _, err := a.scanStream(br, rec.USize, func(i int) string {
			if i == 0 {
				return name
			}
			return numbered(name + " ")(i)
		}, true)
		if err != nil && a.ctx.Err() != nil {
			return err
		}
		// The whole record counts, bytes after the pickle included: torch
		// ignores them, Python's zipfile and Go's archive/zip check their CRC.
		if _, cerr := io.Copy(io.Discard, br); cerr != nil {
			a.incomplete("%s: %v", name, cerr)
			return err
		}
		if crc.n != rec.USize {
			// miniz refuses a record whose data is not its declared size.
			a.r.Refused = append(a.r.Refused, fmt.Sprintf("%s: %d bytes, its header declares %d", name, crc.n, rec.USize))
		} else if sum := crc.h.Sum32(); sum != rec.CRC32 {
			a.r.Ambiguities = append(a.r.Ambiguities, fmt.Sprintf("%s: CRC-32 %08x, its header says %08x: torch reads it, Python's zipfile and Go's archive/zip refuse it", name, sum, rec.CRC32))
		}
		return err
	case string(head) == "PK\x03\x04":
		if depth+1 >= auditMaxDepth {
			a.incomplete("%s: zips nested more than %d deep", name, auditMaxDepth)
			return nil
		}
		var inner io.ReaderAt
		if rec.Method == 0 {
			inner = io.NewSectionReader(ra, rec.Offset, rec.USize)
		} else {
			if rec.USize > auditMaxNested {
				a.incomplete("%s: a compressed nested archive over %d bytes", name, int64(auditMaxNested))
				return nil
			}
			b, err := io.ReadAll(io.LimitReader(br, rec.USize+1))
			if err != nil || int64(len(b)) != rec.USize {
				a.incomplete("%s: %v", name, err)
				return nil
			}
			inner = bytes.NewReader(b)
		}
		return a.scanFile(inner, rec.USize, name+"!", depth+1)
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		// A nested legacy torch file or pickle: scanned as a stream; only
		// whole pickles count (a data record may start like one by chance).
		return a.scanNestedStream(br, rec.USize, name)
	}
	return nil
}

// scanNestedStream scans a data record's pickles, keeping the findings of
// the pickles that parse to their STOP.
func (a *auditor) scanNestedStream(br *bufio.Reader, size int64, name string) error {
	w := newOpWalker(br, size, false)
	w.maxArg = 1 << 16
	for i := 0; w.off < size && i < auditMaxPickles; i++ {
		keep := len(a.r.Globals)
		ops := map[string]int{}
		for k, v := range a.r.Opcodes {
			ops[k] = v
		}
		pickles := a.r.Pickles
		_, err := a.scanPickle(w, fmt.Sprintf("%s pickle %d", name, i+1))
		if err != nil {
			// Not a pickle after all (or a broken one nobody unpickles).
			a.r.Globals, a.r.Opcodes, a.r.Pickles = a.r.Globals[:keep], ops, pickles
			if errors.Is(err, ErrTooComplex) {
				a.incomplete("%s: %v", name, err)
			}
			return a.ctx.Err()
		}
	}
	return nil
}
