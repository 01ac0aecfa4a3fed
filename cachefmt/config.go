package cachefmt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// Defaults of a configuration's dataset fields.
const DefaultSplit = "train"

// DefaultExtensions are torchvision's reference train.py's ("avi", "mp4").
var DefaultExtensions = []string{"avi", "mp4"}

// Config is the configuration of one cache: the dataset, the clips, how
// videos are read, and (written with the file, not part of what determines
// its content) the versions and time it was written with. It is the one
// form of a configuration: build options embed it, the cache file's
// "vidcache" dict stores it, the index registers it as JSON (Key), and the
// default cache name and the digest derive from it.
type Config struct {
	Root       string   `json:"root"` // absolute; in a cache file, the root its paths start with
	Split      string   `json:"split"`
	Extensions []string `json:"extensions"`
	clips.Spec
	Mode   vocab.Mode `json:"mode"`              // scan, fast, exact, or imported
	RootAs string     `json:"root_as,omitempty"` // paths written with Root replaced by this
	// Target is omitted from Key for torchvision-pyav, so that configurations
	// registered before targets existed (all torchvision-pyav) keep their key.
	Target vocab.Target `json:"target,omitempty"`

	FFmpeg      string `json:"-"`
	ToolVersion string `json:"-"`
	CreatedUnix int64  `json:"-"`
}

// OptionError is a configuration value that cannot be, or an option's
// value for which an operation refuses (import's force, dataset_root, ...):
// Option names the field as the configuration's JSON spells it (mode,
// target, extensions, split, root_as, ...), which is also the command-line
// flag that sets it (with "-" for "_").
type OptionError struct {
	Option string
	Err    error
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }

func (e *OptionError) Unwrap() error { return e.Err }

// Explain is the message with the option spelled by name (indexer's
// Explainer: the CLI names the flag).
func (e *OptionError) Explain(name func(option string) string) string {
	return name(e.Option) + ": " + e.Err.Error()
}

func optionErr(option, format string, a ...any) error {
	return &OptionError{Option: option, Err: fmt.Errorf(format, a...)}
}

// Normalize fills in the defaults (split, extensions, target, the target's
// default mode), makes Root absolute and cleans it, and validates
// everything; it is idempotent. Errors say which option is wrong.
func (c *Config) Normalize() error {
	if c.Root == "" {
		return errors.New("no dataset root given")
	}
	abs, err := filepath.Abs(c.Root)
	if err != nil {
		return fmt.Errorf("dataset root %s: %w", c.Root, err)
	}
	c.Root = abs
	if c.Split == "" {
		c.Split = DefaultSplit
	}
	if c.Extensions == nil {
		c.Extensions = append([]string(nil), DefaultExtensions...)
	}
	if c.Target == "" {
		c.Target = vocab.TargetTorchvision
	}
	m, err := ResolveMode(c.Target, c.Mode)
	if err != nil {
		return err
	}
	c.Mode = m
	return c.Validate()
}

// Validate checks a configuration as it is (Normalize also fills defaults).
func (c *Config) Validate() error {
	if len(c.Extensions) == 0 {
		return optionErr("extensions", "no extension given")
	}
	if _, err := vocab.ParseTarget(string(c.Target)); err != nil {
		return &OptionError{Option: "target", Err: err}
	}
	if c.Mode != vocab.ModeImported {
		if _, err := ResolveMode(c.Target, c.Mode); err != nil {
			return err
		}
	}
	return c.Spec.Validate()
}

// ResolveMode checks a target and mode against each other and fills in the
// default mode (Target.DefaultMode): scan for torchvision, fast for
// torchvision-pyav. A mode that means nothing for the target is an error,
// never silently reinterpreted.
func ResolveMode(t vocab.Target, m vocab.Mode) (vocab.Mode, error) {
	if _, err := vocab.ParseTarget(string(t)); err != nil {
		return "", &OptionError{Option: "target", Err: err}
	}
	if m == "" {
		return t.DefaultMode(), nil
	}
	if _, err := vocab.ParseMode(string(m)); err != nil {
		return "", &OptionError{Option: "mode", Err: err}
	}
	switch {
	case t == vocab.TargetTorchvision && m.Timestamps():
		return "", optionErr("mode", "%s reads PyAV timestamps, which only torchvision 0.25 and earlier use: choose the target torchvision-pyav, or leave the mode unset (the torchvision target reads what torchcodec reads: an exact packet scan, nothing decoded)", m)
	case t == vocab.TargetPyAV && !m.Timestamps():
		return "", optionErr("mode", "%s is torchcodec's scan, for the target torchvision; torchvision-pyav takes fast or exact", m)
	}
	return m, nil
}

// Key is the JSON of what determines a cache's content, as the index
// registers it (refresh rebuilds from it) and the default name hashes it.
func (c Config) Key() []byte {
	if c.Target == vocab.TargetPyAV {
		c.Target = ""
	}
	b, _ := json.Marshal(c)
	return b
}

// ParseKey reads a configuration registered by Key. A key without a target
// is from before targets existed, so torchvision-pyav.
func ParseKey(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if c.Target == "" {
		c.Target = vocab.TargetPyAV
	}
	return c, nil
}

// WrittenRoot is the root a cache's paths start with: RootAs when set.
func (c *Config) WrittenRoot() string {
	if c.RootAs != "" {
		return c.RootAs
	}
	return c.Root
}

// DefaultName is the cache file name for the configuration: readable parts
// plus a hash of Key.
func (c Config) DefaultName() string {
	fr := "native"
	if c.FrameRate != nil {
		fr = strconv.FormatFloat(*c.FrameRate, 'f', -1, 64)
	}
	how := "pyav-" + c.Mode.String()
	if c.Target == vocab.TargetTorchvision {
		how = "tv"
	}
	h := sha256Hex(c.Key())
	return fmt.Sprintf("%s-%s-f%d-s%d-r%s-%s-%s.pt", sanitize(filepath.Base(c.Root)), sanitize(c.Split),
		c.FramesPerClip, c.StepBetweenClips, fr, how, h[:10])
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
	if s == "" || s == "." || s == ".." {
		return "dataset"
	}
	return s
}
