package cachefmt

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Finding is one global a pickle names.
type Finding struct {
	Entry  string `json:"entry"` // zip entry or "pickle N"
	Offset int64  `json:"offset"`
	Op     string `json:"op"` // GLOBAL, INST, STACK_GLOBAL or EXT1/2/4
	// Global is the module.name the unpickler imports: for STACK_GLOBAL the
	// two strings on the stack when it runs (the memo and stack simulated).
	Global string `json:"global"`
	// ref is the global as the pickle machine resolved it (the policy's
	// input).
	ref pickleGlobal
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
			if name, ok := g.Policy.Allows(f.ref); !ok {
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
