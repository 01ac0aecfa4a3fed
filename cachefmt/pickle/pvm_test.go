package pickle

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// simulate runs one pickle through the simulation and returns the globals
// it names ("OP module.name") and the error.
func simulate(t *testing.T, p []byte) ([]string, error) {
	t.Helper()
	gs, err := Globals(bytes.NewReader(p), int64(len(p)), 1)
	var out []string
	for _, g := range gs {
		out = append(out, g.Op+" "+strings.TrimPrefix(g.Module+"."+g.Name, "."))
	}
	return out, err
}

// TestPVMNamesTheRealGlobal: the global STACK_GLOBAL imports is the one the
// real stack holds, however the strings were shuffled through the memo,
// DUP or decoys.
func TestPVMNamesTheRealGlobal(t *testing.T) {
	su := func(s string) string { return "\x8c" + string(rune(len(s))) + s }
	for name, c := range map[string]struct {
		pickle string
		want   string
	}{
		"plain":       {"\x80\x04" + su("os") + su("system") + "\x93.", "STACK_GLOBAL os.system"},
		"via memo":    {"\x80\x04" + su("builtins") + "\x94" + su("decoy") + "0" + "h\x00" + su("exec") + "\x93.", "STACK_GLOBAL builtins.exec"},
		"BINPUT/GET":  {"\x80\x04" + su("posix") + "q\x05" + "0" + su("x") + "0" + "h\x05" + su("system") + "\x93.", "STACK_GLOBAL posix.system"},
		"text GLOBAL": {"cos\nsystem\n.", "GLOBAL os.system"},
		"INST":        {"(S'ls'\nios\nsystem\n.", "INST os.system"},
	} {
		got, err := simulate(t, []byte(c.pickle))
		if err != nil || len(got) == 0 || got[len(got)-1] != c.want {
			t.Errorf("%s: %v %v, want %s", name, got, err, c.want)
		}
	}
}

// TestPVMBudgets: each work budget stops a pickle that exceeds it as
// ErrTooComplex, and a reference (DUP, memo GET) is not a new value.
func TestPVMBudgets(t *testing.T) {
	list := func(n int, item string) []byte {
		var b bytes.Buffer
		b.WriteString("\x80\x02]")
		for i := 0; i < n; i += 1000 {
			b.WriteString("(")
			for j := i; j < min(n, i+1000); j++ {
				b.WriteString(item)
			}
			b.WriteString("e")
		}
		b.WriteString(".")
		return b.Bytes()
	}
	if _, err := simulate(t, list(maxContainerItems+1, "K\x01")); !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "one container") {
		t.Errorf("a list over the item budget: %v", err)
	}
	if _, err := simulate(t, list(1000, "K\x01")); err != nil {
		t.Errorf("a small list: %v", err)
	}
	// Memo references are not new values: 20,000 fetches of one value
	// pass (the values budget itself is checked below).
	var b bytes.Buffer
	b.WriteString("\x80\x02K\x01q\x000")
	for i := 0; i < 20; i++ {
		b.WriteString("](")
		for j := 0; j < 1000; j++ {
			b.WriteString("h\x00")
		}
		b.WriteString("e0")
	}
	b.WriteString("N.")
	if _, err := simulate(t, b.Bytes()); err != nil {
		t.Errorf("memo references counted as values: %v", err)
	}
	if !testing.Short() {
		// Values: five lists of 4M small ints (each within the item budget)
		// create more values than a file may.
		var v bytes.Buffer
		v.WriteString("\x80\x02(")
		for i := 0; i < 5; i++ {
			v.Write(list(maxContainerItems-1000, "K\x01")[2:])
			v.Truncate(v.Len() - 1) // the list stays on the stack
		}
		v.WriteString("t.")
		if _, err := simulate(t, v.Bytes()); !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "values created") {
			t.Errorf("over the values budget: %v", err)
		}
	}
	// Opcodes: MARK/POP_MARK pairs create nothing but run opcodes.
	ops := bytes.Repeat([]byte("(1"), maxPickleOps/2+1)
	if _, err := simulate(t, append(append([]byte("\x80\x02"), ops...), "N."...)); !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "opcodes") {
		t.Errorf("over the opcode budget: %v", err)
	}
}
