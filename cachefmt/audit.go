package cachefmt

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"sort"
	"strings"
)

// argKind says how an opcode's argument is laid out.
type argKind int

const (
	argNone   argKind = iota
	argFixed          // n bytes
	argLen1           // uint8 length, then bytes
	argLen4           // uint32 (int32 for some) length, then bytes
	argLen8           // uint64 length, then bytes
	argLine           // bytes up to '\n'
	argLines2         // two lines (GLOBAL, INST)
)

type opcode struct {
	name string
	kind argKind
	n    int // for argFixed
}

// opcodes is every pickle opcode of protocols 0-5, indexed by its byte
// (name "" for bytes that are no opcode).
var opcodes = [256]opcode{
	'(': {"MARK", argNone, 0}, '.': {"STOP", argNone, 0}, '0': {"POP", argNone, 0}, '1': {"POP_MARK", argNone, 0},
	'2': {"DUP", argNone, 0}, 'F': {"FLOAT", argLine, 0}, 'I': {"INT", argLine, 0}, 'J': {"BININT", argFixed, 4},
	'K': {"BININT1", argFixed, 1}, 'L': {"LONG", argLine, 0}, 'M': {"BININT2", argFixed, 2}, 'N': {"NONE", argNone, 0},
	'P': {"PERSID", argLine, 0}, 'Q': {"BINPERSID", argNone, 0}, 'R': {"REDUCE", argNone, 0}, 'S': {"STRING", argLine, 0},
	'T': {"BINSTRING", argLen4, 0}, 'U': {"SHORT_BINSTRING", argLen1, 0}, 'V': {"UNICODE", argLine, 0},
	'X': {"BINUNICODE", argLen4, 0}, 'a': {"APPEND", argNone, 0}, 'b': {"BUILD", argNone, 0}, 'c': {"GLOBAL", argLines2, 0},
	'd': {"DICT", argNone, 0}, '}': {"EMPTY_DICT", argNone, 0}, 'e': {"APPENDS", argNone, 0}, 'g': {"GET", argLine, 0},
	'h': {"BINGET", argFixed, 1}, 'i': {"INST", argLines2, 0}, 'j': {"LONG_BINGET", argFixed, 4}, 'l': {"LIST", argNone, 0},
	']': {"EMPTY_LIST", argNone, 0}, 'o': {"OBJ", argNone, 0}, 'p': {"PUT", argLine, 0}, 'q': {"BINPUT", argFixed, 1},
	'r': {"LONG_BINPUT", argFixed, 4}, 's': {"SETITEM", argNone, 0}, 't': {"TUPLE", argNone, 0}, ')': {"EMPTY_TUPLE", argNone, 0},
	'u': {"SETITEMS", argNone, 0}, 'G': {"BINFLOAT", argFixed, 8}, 'B': {"BINBYTES", argLen4, 0}, 'C': {"SHORT_BINBYTES", argLen1, 0},
	0x80: {"PROTO", argFixed, 1}, 0x81: {"NEWOBJ", argNone, 0}, 0x82: {"EXT1", argFixed, 1}, 0x83: {"EXT2", argFixed, 2},
	0x84: {"EXT4", argFixed, 4}, 0x85: {"TUPLE1", argNone, 0}, 0x86: {"TUPLE2", argNone, 0}, 0x87: {"TUPLE3", argNone, 0},
	0x88: {"NEWTRUE", argNone, 0}, 0x89: {"NEWFALSE", argNone, 0}, 0x8a: {"LONG1", argLen1, 0}, 0x8b: {"LONG4", argLen4, 0},
	0x8c: {"SHORT_BINUNICODE", argLen1, 0}, 0x8d: {"BINUNICODE8", argLen8, 0}, 0x8e: {"BINBYTES8", argLen8, 0},
	0x8f: {"EMPTY_SET", argNone, 0}, 0x90: {"ADDITEMS", argNone, 0}, 0x91: {"FROZENSET", argNone, 0},
	0x92: {"NEWOBJ_EX", argNone, 0}, 0x93: {"STACK_GLOBAL", argNone, 0}, 0x94: {"MEMOIZE", argNone, 0},
	0x95: {"FRAME", argFixed, 8}, 0x96: {"BYTEARRAY8", argLen8, 0}, 0x97: {"NEXT_BUFFER", argNone, 0},
	0x98: {"READONLY_BUFFER", argNone, 0},
}

// Generation is a torch release family with its own weights_only rules.
type Generation struct {
	Name    string
	opcodes map[string]bool
	globals map[string]bool
	// Python 2 names torch maps before checking its allowlist (torch 2.x's
	// _weights_only_unpickler applies torch._utils' IMPORT_MAPPING and
	// NAME_MAPPING to every GLOBAL; torch 1.13 maps nothing).
	importMap map[string]string
	nameMap   map[string]string
}

//go:embed allowlist/*.txt
var allowlists embed.FS

// weightsOnlyOpcodes are the opcodes torch's weights-only unpickler accepts
// (torch 1.13, 2.6 and 2.14 alike), BINFLOAT aside.
var weightsOnlyOpcodes = []string{"PROTO", "STOP", "MARK", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "EMPTY_SET",
	"SETITEM", "SETITEMS", "APPEND", "APPENDS", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "BININT", "BININT1", "BININT2",
	"LONG1", "BINUNICODE", "SHORT_BINSTRING", "NONE", "NEWTRUE", "NEWFALSE", "BINPUT", "BINGET", "LONG_BINPUT",
	"LONG_BINGET", "GLOBAL", "REDUCE", "BUILD", "NEWOBJ", "BINPERSID"}

// loadGeneration reads an allowlist file: one global a line, and lines
// "map MODULE.NAME -> MODULE.NAME" / "import MODULE -> MODULE" for the
// Python 2 names torch maps first.
func loadGeneration(name, file string, extraOps ...string) Generation {
	g := Generation{Name: name, opcodes: map[string]bool{}, globals: map[string]bool{},
		importMap: map[string]string{}, nameMap: map[string]string{}}
	for _, o := range append(weightsOnlyOpcodes, extraOps...) {
		g.opcodes[o] = true
	}
	b, err := allowlists.ReadFile("allowlist/" + file)
	if err != nil {
		panic(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "map ") || strings.HasPrefix(l, "import "):
			kind, rest, _ := strings.Cut(l, " ")
			from, to, ok := strings.Cut(rest, " -> ")
			if !ok {
				panic("allowlist " + file + ": bad line " + l)
			}
			if kind == "map" {
				g.nameMap[from] = to
			} else {
				g.importMap[from] = to
			}
		default:
			g.globals[l] = true
		}
	}
	return g
}

// resolve is the global torch of this generation looks up for a GLOBAL of
// module and name: NAME_MAPPING on the pair, else IMPORT_MAPPING on the
// module, as torch 2.x's _read_global_instruction does.
func (g *Generation) resolve(module, name string) string {
	if to, ok := g.nameMap[module+"."+name]; ok {
		return to
	}
	if to, ok := g.importMap[module]; ok {
		return to + "." + name
	}
	return module + "." + name
}

// Generations graded by Audit: torch 1.13's weights_only=True, and the 2.x
// default (weights_only=True is the default from 2.6), both generated from
// the real torch builds (make allowlists).
var Generations = []Generation{
	loadGeneration(Torch113, "torch1.13.txt"),
	loadGeneration(Torch2, "torch2.6.txt", "BINFLOAT"),
}

// The torch generations an audit grades against.
const (
	Torch113 = "torch-1.13" // weights_only=True of torch 1.13
	Torch2   = "torch-2.x"  // torch 2.x's default allowlist
)

// Finding is one global a pickle names.
type Finding struct {
	Entry  string `json:"entry"` // zip entry or "pickle N"
	Offset int64  `json:"offset"`
	Op     string `json:"op"` // GLOBAL, INST, STACK_GLOBAL or EXT1/2/4
	// Global is the module.name the unpickler imports: for STACK_GLOBAL the
	// two strings on the stack when it runs (the memo and stack simulated).
	Global string `json:"global"`
	// GLOBAL's two lines (for the Python 2 mapping).
	module, name string
}

// Verdict is whether torch of one generation loads the file with weights_only.
type Verdict struct {
	Torch   string   `json:"torch"`
	Safe    bool     `json:"safe"`
	Reasons []string `json:"reasons,omitempty"`
}

// AuditReport lists what a file's pickles would import and run.
type AuditReport struct {
	File     string         `json:"file"`
	Kind     string         `json:"kind"` // "torch zip", "torch legacy", "torch legacy tar", "pickle"
	Pickles  int            `json:"pickles"`
	Globals  []Finding      `json:"globals"`
	Opcodes  map[string]int `json:"opcodes"`
	Verdicts []Verdict      `json:"verdicts"`
	// Incomplete says what could not be scanned (a budget exceeded, an
	// archive nested too deep, a record that cannot be read): such a file
	// is never called safe.
	Incomplete []string `json:"incomplete,omitempty"`
	// Errors are parse errors in pickles a torch version would unpickle.
	// What came before an error was still scanned: the unpickler runs every
	// opcode up to the one it fails on.
	Errors []string `json:"errors,omitempty"`
}

// SafeFor reports the verdict for a generation name.
func (r *AuditReport) SafeFor(torch string) bool {
	for _, v := range r.Verdicts {
		if v.Torch == torch {
			return v.Safe
		}
	}
	return false
}

// Unsafe reports whether some generation's verdict is unsafe for a reason
// other than the file being unreadable (an unsafe global or opcode, an
// incomplete scan).
func (r *AuditReport) Unsafe() bool {
	for _, v := range r.Verdicts {
		for _, why := range v.Reasons {
			if !strings.HasPrefix(why, unreadableReason) {
				return true
			}
		}
	}
	return false
}

// ErrUnreadable marks files Audit cannot parse.
var ErrUnreadable = errors.New("unreadable")

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

// AuditContext scans every pickle any torch version would unpickle from
// path, and conservatively every other pickle in it, without executing or
// importing anything, and grades it against each generation's weights_only
// rules. It reads the file the way torch does:
//
//   - A file starting with a zip local header is a torch zip: every record
//     whose name ends in .pkl, matched case-insensitively as torch's reader
//     matches, is a pickle; other records that are themselves zips, or that
//     start with a PROTO 2-5 opcode (a nested legacy torch file or pickle),
//     are scanned too, nested up to auditMaxDepth deep.
//   - Otherwise, a tar archive is torch's oldest (tar) format: every member
//     is scanned as a sequence of pickles.
//   - Otherwise the file is a sequence of pickles of any protocol (0-5),
//     as torch's legacy loader reads it: the magic number, the protocol,
//     the system info, the object and the storage keys, every one of them
//     unpickled (the first runs before torch checks the magic number), and
//     then raw storage data, which is scanned for further pickles too.
//
// A parse error ends the scan of that stream, but what came before it is
// kept and graded (the unpickler runs every opcode before the bad one). The
// returned report is non-nil whenever the file could be opened; err wraps
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
	a := &auditor{ctx: ctx, r: &AuditReport{File: path, Opcodes: map[string]int{}, Globals: []Finding{}}}
	err = a.scanFile(f, fi.Size())
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
}

func (a *auditor) incomplete(format string, args ...any) {
	a.r.Incomplete = append(a.r.Incomplete, fmt.Sprintf(format, args...))
}

// scanFile scans the torch file or pickle held by ra (size bytes).
func (a *auditor) scanFile(ra io.ReaderAt, size int64) error {
	var head [4]byte
	n, _ := ra.ReadAt(head[:], 0)
	kind := func(k string) {
		if a.r.Kind == "" {
			a.r.Kind = k
		}
	}
	if n == 4 && string(head[:]) == "PK\x03\x04" {
		kind("torch zip")
		return a.scanZip(ra, size, "", 0)
	}
	if isTar(ra, size) {
		kind("torch legacy tar")
		tr := tar.NewReader(io.NewSectionReader(ra, 0, size))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				a.incomplete("tar: %v", err)
				return nil
			}
			if h.Typeflag != tar.TypeReg || h.Size == 0 {
				continue
			}
			// Members hold pickles between raw storage bytes: a member that
			// does not parse as pickles to its end is not fully scanned.
			if end, _, err := a.scanStream(bufio.NewReader(tr), h.Size, numbered(h.Name+" "), false); err != nil || end < h.Size {
				a.incomplete("%s: only the first %d of %d bytes parse as pickles", h.Name, end, h.Size)
			}
		}
	}
	if n == 0 || opcodes[head[0]].name == "" {
		return errors.New("neither a zip, a tar, nor a pickle")
	}
	_, legacy, err := a.scanStream(bufio.NewReader(io.NewSectionReader(ra, 0, size)), size, numbered(""), true)
	if legacy {
		kind("torch legacy")
	}
	kind("pickle")
	return err
}

// isTar: the first block is a tar header with a valid checksum.
func isTar(ra io.ReaderAt, size int64) bool {
	if size < 512 {
		return false
	}
	var b [512]byte
	if _, err := ra.ReadAt(b[:], 0); err != nil {
		return false
	}
	_, err := tar.NewReader(bytes.NewReader(b[:])).Next()
	return err == nil || err == io.ErrUnexpectedEOF
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
	m := newPVM()
	m.onGlobal = func(at int64, op, module, name string) {
		g := name
		if module != "" {
			g = module + "." + name
		}
		a.r.Globals = append(a.r.Globals, Finding{Entry: entry, Offset: at - start, Op: op, Global: g, module: module, name: name})
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

// scanZip scans a zip's records (see AuditContext).
func (a *auditor) scanZip(ra io.ReaderAt, size int64, prefix string, depth int) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		if prefix == "" {
			return err
		}
		a.incomplete("%s: %v", strings.TrimSuffix(prefix, "!"), err)
		return nil
	}
	for _, zf := range zr.File {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		name := prefix + zf.Name
		isPkl := strings.HasSuffix(strings.ToLower(zf.Name), ".pkl")
		if zf.FileInfo().IsDir() || (!isPkl && zf.UncompressedSize64 < 2) {
			continue
		}
		if err := a.scanRecord(ra, zf, name, isPkl, depth); err != nil {
			return err
		}
	}
	return nil
}

func (a *auditor) scanRecord(ra io.ReaderAt, zf *zip.File, name string, isPkl bool, depth int) error {
	usize := int64(min(zf.UncompressedSize64, math.MaxInt64))
	if zf.Method != zip.Store {
		if a.inflated+usize > auditMaxInflate {
			a.incomplete("%s: decompressing it would exceed the %d-byte budget", name, int64(auditMaxInflate))
			return nil
		}
		a.inflated += usize
	}
	rc, err := zf.Open()
	if err != nil {
		a.incomplete("%s: %v", name, err)
		return nil
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	head, _ := br.Peek(4)
	switch {
	case isPkl:
		// A .pkl record is unpickled by torch: its first pickle must parse.
		// Its first pickle is named by the record alone.
		_, _, err := a.scanStream(br, usize, func(i int) string {
			if i == 0 {
				return name
			}
			return numbered(name + " ")(i)
		}, true)
		return err
	case string(head) == "PK\x03\x04":
		if depth+1 >= auditMaxDepth {
			a.incomplete("%s: zips nested more than %d deep", name, auditMaxDepth)
			return nil
		}
		var inner io.ReaderAt
		if off, err := zf.DataOffset(); err == nil && zf.Method == zip.Store {
			inner = io.NewSectionReader(ra, off, usize)
		} else {
			if usize > auditMaxNested {
				a.incomplete("%s: a compressed nested archive over %d bytes", name, int64(auditMaxNested))
				return nil
			}
			b, err := io.ReadAll(io.LimitReader(br, usize+1))
			if err != nil || int64(len(b)) != usize {
				a.incomplete("%s: %v", name, err)
				return nil
			}
			inner = bytes.NewReader(b)
		}
		return a.scanZip(inner, usize, name+"!", depth+1)
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		// A nested legacy torch file or pickle: scanned as a stream; only
		// whole pickles count (a data record may start like one by chance).
		return a.scanNestedStream(br, usize, name)
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

// unreadableReason prefixes the verdict reason of a file that could not be
// read in full: never safe, but not evidence of code either.
const unreadableReason = "unreadable: "

func (r *AuditReport) grade(readErr error) {
	r.Verdicts = r.Verdicts[:0]
	for _, g := range Generations {
		v := Verdict{Torch: g.Name, Safe: true}
		seen := map[string]bool{}
		add := func(s string) {
			if !seen[s] {
				seen[s] = true
				v.Reasons = append(v.Reasons, s)
			}
			v.Safe = false
		}
		var ops []string
		for o := range r.Opcodes {
			ops = append(ops, o)
		}
		sort.Strings(ops)
		for _, o := range ops {
			if !g.opcodes[o] {
				add("opcode " + o + " not allowed")
			}
		}
		for _, f := range r.Globals {
			name := f.Global
			if f.Op == "GLOBAL" {
				name = g.resolve(f.module, f.name)
			}
			if f.Op != "GLOBAL" || !g.globals[name] {
				if name != f.Global {
					add(fmt.Sprintf("global %s (%s, read as %s) not allowed", f.Global, f.Op, name))
				} else {
					add(fmt.Sprintf("global %s (%s) not allowed", f.Global, f.Op))
				}
			}
		}
		for _, s := range r.Incomplete {
			add("not fully scanned: " + s)
		}
		if readErr != nil {
			add(unreadableReason + readErr.Error())
		}
		r.Verdicts = append(r.Verdicts, v)
	}
}
