package cachefmt

import (
	"archive/zip"
	"bufio"
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
}

//go:embed allowlist/*.txt
var allowlists embed.FS

// weightsOnlyOpcodes are the opcodes torch's weights-only unpickler accepts
// (torch 1.13, 2.6 and 2.14 alike), BINFLOAT aside.
var weightsOnlyOpcodes = []string{"PROTO", "STOP", "MARK", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "EMPTY_SET",
	"SETITEM", "SETITEMS", "APPEND", "APPENDS", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "BININT", "BININT1", "BININT2",
	"LONG1", "BINUNICODE", "SHORT_BINSTRING", "NONE", "NEWTRUE", "NEWFALSE", "BINPUT", "BINGET", "LONG_BINPUT",
	"LONG_BINGET", "GLOBAL", "REDUCE", "BUILD", "NEWOBJ", "BINPERSID"}

func loadGeneration(name, file string, extraOps ...string) Generation {
	g := Generation{Name: name, opcodes: map[string]bool{}, globals: map[string]bool{}}
	for _, o := range append(weightsOnlyOpcodes, extraOps...) {
		g.opcodes[o] = true
	}
	b, err := allowlists.ReadFile("allowlist/" + file)
	if err != nil {
		panic(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			g.globals[l] = true
		}
	}
	return g
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
	Op     string `json:"op"` // GLOBAL, INST or STACK_GLOBAL
	Global string `json:"global"`
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
	Kind     string         `json:"kind"` // "torch zip", "torch legacy", "pickle"
	Pickles  int            `json:"pickles"`
	Globals  []Finding      `json:"globals"`
	Opcodes  map[string]int `json:"opcodes"`
	Verdicts []Verdict      `json:"verdicts"`
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

// ErrUnreadable marks files Audit cannot parse.
var ErrUnreadable = errors.New("unreadable")

// Audit scans every pickle of a torch file (zip, nested zips, legacy) or a raw
// pickle without executing or importing anything, and grades it against each
// generation's weights_only rules.
func Audit(path string) (*AuditReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	r := &AuditReport{File: path, Opcodes: map[string]int{}, Globals: []Finding{}}
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	switch {
	case n == 4 && string(head[:]) == "PK\x03\x04":
		r.Kind = "torch zip"
		err = r.scanZip(f, fi.Size(), "", 0)
	case n >= 1 && head[0] == 0x80:
		w := newOpWalker(f, fi.Size(), false)
		if isLegacyMagic(head[:n], f) {
			r.Kind = "torch legacy"
			// magic, protocol version, system info, the object, storage keys
			for i := 0; i < 5 && err == nil; i++ {
				err = r.scanPickle(w, fmt.Sprintf("pickle %d", i+1))
			}
		} else {
			r.Kind = "pickle"
			err = r.scanPickle(w, "pickle 1")
		}
	default:
		err = errors.New("neither a zip nor a pickle")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	r.grade()
	return r, nil
}

// isLegacyMagic: a legacy torch file starts with the pickled magic number
// 0x1950a86a20f9469cfc6c (PROTO 2, LONG1 of 10 bytes).
func isLegacyMagic(head []byte, f *os.File) bool {
	var b [14]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return false
	}
	return bytes.Equal(b[:], []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"))
}

const maxZipDepth = 4

func (r *AuditReport) scanZip(ra io.ReaderAt, size int64, prefix string, depth int) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return err
	}
	for _, zf := range zr.File {
		name := prefix + zf.Name
		isPkl := strings.HasSuffix(zf.Name, ".pkl")
		if !isPkl && zf.UncompressedSize64 < 4 {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		br := bufio.NewReader(rc)
		head, _ := br.Peek(4)
		switch {
		case isPkl:
			err = r.scanPickle(newOpWalker(br, int64(min(zf.UncompressedSize64, math.MaxInt64)), false), name)
		case string(head) == "PK\x03\x04" && depth < maxZipDepth && zf.UncompressedSize64 <= 1<<30:
			var b []byte
			b, err = io.ReadAll(br)
			if err == nil {
				err = r.scanZip(bytes.NewReader(b), int64(len(b)), name+"!", depth+1)
			}
		}
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}

// scanPickle walks one pickle to its STOP, recording opcodes and globals.
// It keeps just enough state to name STACK_GLOBAL targets: the strings pushed
// most recently, and strings stored in the memo. Offsets are relative to the
// pickle's start.
func (r *AuditReport) scanPickle(w *opWalker, entry string) error {
	r.Pickles++
	start := w.off
	var recent []string          // last string values pushed
	memo := map[uint64]string{}  // memo index -> string stored there
	memoLen := map[uint64]bool{} // every index in use, for MEMOIZE
	lastWasString := false
	push := func(s string) {
		recent = append(recent, s)
		if len(recent) > 2 {
			recent = recent[1:]
		}
	}
	for {
		at, op, arg, err := w.next()
		if err != nil {
			return err
		}
		at -= start
		r.Opcodes[op.name]++
		if op.kind == argLines2 {
			r.Globals = append(r.Globals, Finding{Entry: entry, Offset: at, Op: op.name, Global: strings.Replace(string(arg), "\n", ".", 1)})
		}
		wasString := lastWasString
		lastWasString = false
		switch op.name {
		case "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "SHORT_BINSTRING", "BINSTRING", "UNICODE", "STRING":
			push(strings.Trim(string(arg), `'"`))
			lastWasString = true
		case "BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE":
			idx := memoIndex(op.name, arg, uint64(len(memoLen)))
			memoLen[idx] = true
			delete(memo, idx)
			lastWasString = wasString
			if len(recent) > 0 && wasString {
				memo[idx] = recent[len(recent)-1]
			}
		case "BINGET", "LONG_BINGET", "GET":
			if s, ok := memo[memoIndex(op.name, arg, 0)]; ok {
				push(s)
				lastWasString = true
				continue
			}
		case "STACK_GLOBAL":
			g := "<computed>"
			if len(recent) == 2 {
				g = recent[0] + "." + recent[1]
			}
			r.Globals = append(r.Globals, Finding{Entry: entry, Offset: at, Op: op.name, Global: g})
		case "STOP":
			return nil
		}
	}
}

// memoIndex decodes a memo opcode's index; MEMOIZE uses the memo's size.
func memoIndex(op string, arg []byte, size uint64) uint64 {
	switch op {
	case "BINPUT", "BINGET":
		return uint64(arg[0])
	case "LONG_BINPUT", "LONG_BINGET":
		return uint64(binary.LittleEndian.Uint32(arg))
	case "PUT", "GET":
		var n uint64
		fmt.Sscan(string(arg), &n)
		return n
	}
	return size
}

func (r *AuditReport) grade() {
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
			if f.Op != "GLOBAL" || !g.globals[f.Global] {
				add(fmt.Sprintf("global %s (%s) not allowed", f.Global, f.Op))
			}
		}
		r.Verdicts = append(r.Verdicts, v)
	}
}
