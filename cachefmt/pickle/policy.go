package pickle

import (
	"embed"
	"maps"
	"strings"
)

// The safety policy: which globals a pickle may name. One type, Policy,
// decides it for the audit (each generation's verdict) and for
// cachefmt.Loaded.Disallowed, and so for import.

// Global is a global a pickle names, as the pickle machine resolved it (for
// STACK_GLOBAL, the strings really on the stack), with its opcode (GLOBAL,
// INST, STACK_GLOBAL or EXT1/2/4). An extension code has no module and the
// name "<copyreg extension N>".
type Global struct{ Op, Module, Name string }

// String is "module.name", or the name alone without a module.
func (g Global) String() string {
	if g.Module == "" {
		return g.Name
	}
	return g.Module + "." + g.Name
}

// Policy is a set of globals an unpickler imports and the Python 2 names it
// maps first. It decides as torch's weights_only unpickler does: a global
// is allowed only if a GLOBAL opcode names it (that unpickler runs no INST,
// STACK_GLOBAL or EXT opcode) and its name, after the mapping, is in the set.
type Policy struct {
	allowed map[string]bool
	// Python 2 names mapped before the lookup (torch 2.x's
	// _weights_only_unpickler applies torch._utils' IMPORT_MAPPING and
	// NAME_MAPPING to every GLOBAL; torch 1.13 maps nothing).
	importMap map[string]string
	nameMap   map[string]string
}

// Allows reports whether the policy admits g, and the name the unpickler
// looks up for it: for a GLOBAL the mapped name, else g's own.
func (p Policy) Allows(g Global) (resolved string, ok bool) {
	if g.Op != "GLOBAL" {
		return g.String(), false
	}
	resolved = p.resolve(g.Module, g.Name)
	return resolved, p.allowed[resolved]
}

// Disallowed lists the globals of gs the policy does not admit, as the
// pickle names them ("module.name"), once each, in order of first use.
func (p Policy) Disallowed(gs []Global) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range gs {
		q := g.String()
		if _, ok := p.Allows(g); !ok && !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// With is p that also admits the globals extra (under the same rule: named
// by GLOBAL, after the mapping).
func (p Policy) With(extra ...string) Policy {
	p.allowed = maps.Clone(p.allowed)
	for _, g := range extra {
		p.allowed[g] = true
	}
	return p
}

// resolve is the global the unpickler looks up for a GLOBAL of module and
// name: NAME_MAPPING on the pair, else IMPORT_MAPPING on the module, as
// torch 2.x's _read_global_instruction does.
func (p Policy) resolve(module, name string) string {
	if to, ok := p.nameMap[module+"."+name]; ok {
		return to
	}
	if to, ok := p.importMap[module]; ok {
		return to + "." + name
	}
	return module + "." + name
}

// Generation is a torch release family with its own weights_only rules.
type Generation struct {
	Name    string
	opcodes map[string]bool
	// Policy is the globals its weights_only loader imports.
	Policy Policy
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
	g := Generation{Name: name, opcodes: map[string]bool{},
		Policy: Policy{allowed: map[string]bool{}, importMap: map[string]string{}, nameMap: map[string]string{}}}
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
				g.Policy.nameMap[from] = to
			} else {
				g.Policy.importMap[from] = to
			}
		default:
			g.Policy.allowed[l] = true
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

// torchvisionGlobals are the globals beyond torch's weights_only allowlist
// that torchvision's caches use and that cachefmt.ReadTorchvision reads as
// inert data: the dataset classes (torchvision's and the reference script's), and
// numpy's array reconstruction (old torchvision's fps lists).
var torchvisionGlobals = []string{
	"torchvision.datasets.video_utils.VideoClips", "torchvision.datasets.kinetics.Kinetics",
	"torchvision.datasets.kinetics.Kinetics400", "datasets.KineticsWithVideoId",
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
	"numpy.ndarray", "numpy.dtype",
}

// ImportPolicy is what import accepts without --force
// (cachefmt.Loaded.Disallowed):
// torch 2.x's weights_only policy (the audit's rule, Python 2 mapping
// included) that also admits torchvisionGlobals.
var ImportPolicy = generation(Torch2).Policy.With(torchvisionGlobals...)
