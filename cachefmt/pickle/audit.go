package pickle

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
	ref Global
}

// Verdict is whether torch of one generation loads the file with weights_only.
type Verdict struct {
	Torch   string   `json:"torch"`
	Safe    bool     `json:"safe"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Why is the verdict's reasons, joined by "; ".
func (v Verdict) Why() string {
	texts := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		texts[i] = r.Text
	}
	return strings.Join(texts, "; ")
}

// Reason is why a verdict is not safe. In JSON it is its text alone.
type Reason struct {
	Kind ReasonKind
	Text string
}

func (r Reason) String() string { return r.Text }

// MarshalText makes a reason its text in JSON.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.Text), nil }

// UnmarshalText reads a reason's text back; its kind is not kept in JSON.
func (r *Reason) UnmarshalText(b []byte) error {
	*r = Reason{Text: string(b)}
	return nil
}

// ReasonKind says what kind of reason a verdict gives.
type ReasonKind int

const (
	ReasonOther       ReasonKind = iota // not known (a reason read back from JSON)
	ReasonOpcode                        // an opcode the generation's loader refuses
	ReasonGlobal                        // a global its policy does not admit
	ReasonIncomplete                    // part of the file was not scanned
	ReasonAmbiguous                     // another reader could read another file
	ReasonTorchScript                   // a TorchScript archive that torch runs
	ReasonRefused                       // torch refuses to load the file
	ReasonUnreadable                    // the file could not be read in full
)

var reasonKinds = [...]string{"other", "opcode", "global", "incomplete", "ambiguous", "torchscript", "refused", "unreadable"}

func (k ReasonKind) String() string {
	if k < 0 || int(k) >= len(reasonKinds) {
		return fmt.Sprintf("ReasonKind(%d)", int(k))
	}
	return reasonKinds[k]
}

// Evidence reports whether a reason of this kind is evidence that the file
// may run code or be read differently by another reader. A file torch
// refuses, or that could not be read in full, is never safe either, but
// not for such a reason.
func (k ReasonKind) Evidence() bool { return k != ReasonRefused && k != ReasonUnreadable }

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
// that is evidence (ReasonKind.Evidence: an unsafe global or opcode, an
// incomplete scan, an ambiguous layout), not merely because torch refuses
// the file or it could not be read in full.
func (r *AuditReport) Unsafe() bool {
	for _, v := range r.Verdicts {
		for _, why := range v.Reasons {
			if why.Kind.Evidence() {
				return true
			}
		}
	}
	return false
}

// ErrUnreadable marks files Audit cannot parse.
var ErrUnreadable = errors.New("unreadable")

func (r *AuditReport) grade(readErr error) {
	r.Verdicts = r.Verdicts[:0]
	for _, g := range Generations {
		v := Verdict{Torch: g.Name, Safe: true}
		seen := map[string]bool{}
		add := func(kind ReasonKind, text string) {
			if !seen[text] {
				seen[text] = true
				v.Reasons = append(v.Reasons, Reason{kind, text})
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
				add(ReasonOpcode, "opcode "+o+" not allowed")
			}
		}
		for _, f := range r.Globals {
			if name, ok := g.Policy.Allows(f.ref); !ok {
				if name != f.Global {
					add(ReasonGlobal, fmt.Sprintf("global %s (%s, read as %s) not allowed", f.Global, f.Op, name))
				} else {
					add(ReasonGlobal, fmt.Sprintf("global %s (%s) not allowed", f.Global, f.Op))
				}
			}
		}
		for _, s := range r.Incomplete {
			add(ReasonIncomplete, "not fully scanned: "+s)
		}
		for _, s := range r.Ambiguities {
			add(ReasonAmbiguous, "ambiguous layout: "+s)
		}
		for _, s := range r.Refused {
			add(ReasonRefused, "torch refuses it: "+s)
		}
		switch {
		case r.TorchScript && g.Name == Torch113:
			add(ReasonTorchScript, "a TorchScript archive (constants.pkl): torch 1.13 runs it with torch.jit.load")
		case r.TorchScript:
			add(ReasonRefused, "torch refuses it: a TorchScript archive (constants.pkl) under weights_only")
		case r.Kind == "torch legacy tar" && g.Name == Torch2:
			add(ReasonRefused, "torch refuses it: torch 2.x refuses legacy tar files under weights_only")
		}
		if readErr != nil {
			add(ReasonUnreadable, "unreadable: "+readErr.Error())
		}
		r.Verdicts = append(r.Verdicts, v)
	}
}
