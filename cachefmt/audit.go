package cachefmt

import (
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
)

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

func generation(name string) *Generation {
	for i := range Generations {
		if Generations[i].Name == name {
			return &Generations[i]
		}
	}
	panic("no generation " + name)
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
	// Ambiguities are reasons another reader (Python's zipfile or tarfile,
	// Go's archive/zip or archive/tar, another torch) could read a
	// different file than torch.load does: such a file is unsafe.
	Ambiguities []string `json:"ambiguities,omitempty"`
	// Refused lists why torch.load itself would refuse the file.
	Refused []string `json:"refused,omitempty"`
	// TorchScript: the zip holds constants.pkl, so torch 1.13 hands it to
	// torch.jit.load even with weights_only=True (and torch 2.x refuses it).
	TorchScript bool `json:"torchscript,omitempty"`
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
			if !strings.HasPrefix(why, unreadableReason) && !strings.HasPrefix(why, refusedReason) {
				return true
			}
		}
	}
	return false
}

// ErrUnreadable marks files Audit cannot parse.
var ErrUnreadable = errors.New("unreadable")

// unreadableReason prefixes the verdict reason of a file that could not be
// read in full, and refusedReason of one torch refuses to load: never safe,
// but not evidence of code either.
const (
	unreadableReason = "unreadable: "
	refusedReason    = "torch refuses it: "
)

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
		for _, s := range r.Ambiguities {
			add("ambiguous layout: " + s)
		}
		for _, s := range r.Refused {
			add(refusedReason + s)
		}
		switch {
		case r.TorchScript && g.Name == Torch113:
			add("a TorchScript archive (constants.pkl): torch 1.13 runs it with torch.jit.load")
		case r.TorchScript:
			add(refusedReason + "a TorchScript archive (constants.pkl) under weights_only")
		case r.Kind == "torch legacy tar" && g.Name == Torch2:
			add(refusedReason + "torch 2.x refuses legacy tar files under weights_only")
		}
		if readErr != nil {
			add(unreadableReason + readErr.Error())
		}
		r.Verdicts = append(r.Verdicts, v)
	}
}
