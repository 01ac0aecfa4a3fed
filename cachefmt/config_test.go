package cachefmt

import (
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// TestResolveMode: each target's default mode, the modes it takes, and the
// ones it refuses with a message naming the fix.
func TestResolveMode(t *testing.T) {
	for _, c := range []struct {
		target vocab.Target
		mode   vocab.Mode
		want   vocab.Mode
		err    string
	}{
		{vocab.TargetTorchvision, "", vocab.ModeScan, ""},
		{vocab.TargetTorchvision, vocab.ModeScan, vocab.ModeScan, ""},
		{vocab.TargetTorchvision, vocab.ModeFast, "", "target torchvision-pyav"},
		{vocab.TargetTorchvision, vocab.ModeExact, "", "target torchvision-pyav"},
		{vocab.TargetPyAV, "", vocab.ModeFast, ""},
		{vocab.TargetPyAV, vocab.ModeFast, vocab.ModeFast, ""},
		{vocab.TargetPyAV, vocab.ModeExact, vocab.ModeExact, ""},
		{vocab.TargetPyAV, vocab.ModeScan, "", "fast or exact"},
		{vocab.TargetPyAV, "slow", "", "unknown mode"},
		{"torchvision-0.5", "", "", "torchvision"},
	} {
		got, err := ResolveMode(c.target, c.mode)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ResolveMode(%q, %q) = %q, %v; want %q, error with %q", c.target, c.mode, got, err, c.want, c.err)
		}
	}
}

// TestConfigNormalize: defaults filled, root made absolute, idempotent,
// and errors for what cannot be a cache.
func TestConfigNormalize(t *testing.T) {
	c := Config{Root: "data/../data/k400/"}
	c.FramesPerClip, c.StepBetweenClips = 16, 1
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Root, "/") || strings.HasSuffix(c.Root, "/") || strings.Contains(c.Root, "..") {
		t.Errorf("root %q is not absolute and clean", c.Root)
	}
	if c.Split != DefaultSplit || len(c.Extensions) != len(DefaultExtensions) || c.Target != vocab.TargetTorchvision || c.Mode != vocab.ModeScan {
		t.Errorf("defaults: %+v", c)
	}
	again := c
	if err := again.Normalize(); err != nil || string(again.Key()) != string(c.Key()) {
		t.Errorf("Normalize is not idempotent: %v", err)
	}
	for _, bad := range []Config{{}, {Root: "/d", Extensions: []string{}}, {Root: "/d", Target: vocab.TargetTorchvision, Mode: vocab.ModeExact}} {
		bad.FramesPerClip, bad.StepBetweenClips = 16, 1
		if err := bad.Normalize(); err == nil {
			t.Errorf("%+v normalized without an error", bad)
		}
	}
}

// TestConfigKey: Key round-trips through ParseKey; a torchvision-pyav key
// omits the target (keys registered before targets existed keep theirs),
// and every field that changes a cache's content changes the key and the
// default name.
func TestConfigKey(t *testing.T) {
	base := Config{Root: "/data/k400"}
	base.FramesPerClip, base.StepBetweenClips = 16, 1
	if err := base.Normalize(); err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(base.Key())
	if err != nil || string(back.Key()) != string(base.Key()) {
		t.Fatalf("round trip: %s vs %s (%v)", back.Key(), base.Key(), err)
	}
	pyav := base
	pyav.Target, pyav.Mode = vocab.TargetPyAV, vocab.ModeFast
	if strings.Contains(string(pyav.Key()), "target") {
		t.Errorf("a torchvision-pyav key names its target: %s", pyav.Key())
	}
	if back, _ := ParseKey(pyav.Key()); back.Target != vocab.TargetPyAV {
		t.Errorf("a key without a target reads back as %q", back.Target)
	}
	fr := 15.0
	variants := map[string]func(c *Config){
		"root":      func(c *Config) { c.Root = "/data/k700" },
		"split":     func(c *Config) { c.Split = "val" },
		"ext":       func(c *Config) { c.Extensions = []string{"mp4"} },
		"fpc":       func(c *Config) { c.FramesPerClip = 8 },
		"step":      func(c *Config) { c.StepBetweenClips = 4 },
		"framerate": func(c *Config) { c.FrameRate = &fr },
		"target":    func(c *Config) { c.Target, c.Mode = vocab.TargetPyAV, vocab.ModeFast },
		"root_as":   func(c *Config) { c.RootAs = "/mnt/k400" },
	}
	names := map[string]string{base.DefaultName(): "base"}
	for what, change := range variants {
		c := base
		c.Extensions = append([]string(nil), base.Extensions...)
		change(&c)
		if string(c.Key()) == string(base.Key()) {
			t.Errorf("changing %s leaves the key", what)
		}
		if other, dup := names[c.DefaultName()]; dup {
			t.Errorf("changing %s gives the name of %s: %s", what, other, c.DefaultName())
		}
		names[c.DefaultName()] = what
	}
}
