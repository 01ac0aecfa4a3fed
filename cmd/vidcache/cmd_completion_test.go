package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion: the bash script, sourced in a real bash, completes
// commands and each command's flags; zsh and fish name them too.
func TestCompletion(t *testing.T) {
	home := t.TempDir()
	r := vc(t, home, "completion", "bash")
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	script := filepath.Join(t.TempDir(), "vidcache.bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		args := append([]string{"-c", `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _vidcache; echo "${COMPREPLY[*]}"`, script}, words...)
		cmd := exec.Command("bash", args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := complete("vidcache", "bu"); got != "build" {
		t.Errorf("vidcache bu<TAB>: %q", got)
	}
	if got := complete("vidcache", "build", "--tar"); got != "--target" {
		t.Errorf("vidcache build --tar<TAB>: %q", got)
	}
	if got := complete("vidcache", "path", "--en"); got != "--ensure" {
		t.Errorf("vidcache path --en<TAB>: %q", got)
	}
	for _, sh := range []string{"zsh", "fish"} {
		r := vc(t, home, "completion", sh)
		if r.code != exitOK || !strings.Contains(r.stdout, "list") || !strings.Contains(r.stdout, "allow-empty") {
			t.Errorf("%s: exit %d\n%s", sh, r.code, r.stdout)
		}
	}
	if r := vc(t, home, "completion", "tcsh"); r.code != exitUsage {
		t.Errorf("tcsh: exit %d", r.code)
	}
}
