package main

// The aarch64 build (make build-aarch64, the aarch64 wheel's binary), run
// under qemu-user-static on this x86_64 machine, must give this build's
// answers: the same cache bytes, and the same audit, inspect and verify
// output. Skipped when the cross toolchain, the aarch64 FFmpeg or qemu is
// missing, unless CI is set (then it fails, as the peer tests do), and with
// -short (make unit).

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// aarch64Sysroot is Debian's cross libc (libc6-arm64-cross): the loader, libc
// and libm the binary needs, for qemu's -L.
const aarch64Sysroot = "/usr/aarch64-linux-gnu"

type arm64Bin struct {
	qemu, bin string
}

func missingCross(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("aarch64 test prerequisite missing under CI: %s (make deps-aarch64)", what)
	}
	t.Skipf("aarch64 test prerequisite missing: %s (make deps-aarch64)", what)
}

// aarch64Vidcache builds cmd/vidcache for aarch64 with scripts/gobuild.sh (the
// build make build-aarch64 does) and checks that it needs only libc, libm and
// the loader.
func aarch64Vidcache(t *testing.T) *arm64Bin {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("the aarch64 test is skipped with -short (make unit)")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the aarch64 binary is cross-built on x86_64")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		missingCross(t, "qemu-aarch64-static (qemu-user-static)")
	}
	if _, err := os.Stat(filepath.Join(aarch64Sysroot, "lib", "ld-linux-aarch64.so.1")); err != nil {
		missingCross(t, "the aarch64 libc (libc6-arm64-cross)")
	}
	for _, tool := range []string{"aarch64-linux-gnu-gcc", "aarch64-linux-gnu-readelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingCross(t, tool)
		}
	}
	if out, _ := exec.Command("bash", "../../scripts/ffmpeg.sh", "env", "aarch64").Output(); len(bytes.TrimSpace(out)) == 0 {
		missingCross(t, "FFmpeg for aarch64 (scripts/ffmpeg.sh ensure aarch64)")
	}
	bin := filepath.Join(t.TempDir(), "vidcache-aarch64")
	start := time.Now()
	if out, err := exec.Command("bash", "../../scripts/gobuild.sh", "aarch64", bin).CombinedOutput(); err != nil {
		t.Fatalf("scripts/gobuild.sh aarch64: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Second))
	out, err := exec.Command("aarch64-linux-gnu-readelf", "-h", "-d", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "AArch64") {
		t.Fatalf("%s is not an aarch64 executable:\n%s", bin, out)
	}
	var needed []string
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "(NEEDED)"); i >= 0 {
			lib := line[strings.LastIndex(line, "[")+1 : strings.LastIndex(line, "]")]
			if lib != "ld-linux-aarch64.so.1" {
				needed = append(needed, lib)
			}
		}
	}
	sort.Strings(needed)
	if strings.Join(needed, " ") != "libc.so.6 libm.so.6" {
		t.Fatalf("the aarch64 binary needs %v, want only libc.so.6 and libm.so.6 (and the loader)", needed)
	}
	return &arm64Bin{qemu: qemu, bin: bin}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// run runs the aarch64 binary under qemu with VIDCACHE_HOME=home.
func (a *arm64Bin) run(t *testing.T, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(a.qemu, append([]string{"-L", aarch64Sysroot, a.bin}, args...)...)
	cmd.Env = append(os.Environ(), "VIDCACHE_HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if code := exitCode(err); code < 0 {
		t.Fatalf("qemu-aarch64-static vidcache %v: %v\n%s", args, err, errb.String())
	}
	return result{exitCode(err), out.String(), errb.String()}
}

// runX86 runs this package's own build (the test binary as vidcache) as a
// process, the same way.
func runX86(t *testing.T, home string, args ...string) result {
	t.Helper()
	cmd := vcProc(home, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if code := exitCode(err); code < 0 {
		t.Fatalf("vidcache %v: %v\n%s", args, err, errb.String())
	}
	return result{exitCode(err), out.String(), errb.String()}
}

// hostileTree is a dataset of testdata/hostile's containers (200 audio
// streams; huge, all-equal and decreasing timestamps), the fragmented and
// faststart MP4s, and names with a newline and with bytes that are not UTF-8.
func hostileTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "hostile")
	dir := filepath.Join(root, "train", "hostile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	clip := filepath.Join(sample(t), "train", "juggling", "nested", "z.mp4")
	for src, name := range map[string]string{
		"hostile/many-streams.mkv":  "many-streams.mp4",
		"hostile/huge-ts.mkv":       "huge-ts.mp4",
		"hostile/equal-ts.mkv":      "equal-ts.mp4",
		"hostile/decreasing-ts.flv": "decreasing-ts.mp4",
		"fragmented.mp4":            "fragmented.mp4",
		"fragmented-moov.mp4":       "fragmented-moov.mp4",
		"faststart.mp4":             "faststart.mp4",
		clip:                        "new\nline.mp4",
	} {
		if !filepath.IsAbs(src) {
			src = filepath.Join("../../testdata", src)
		}
		copyFile(t, src, filepath.Join(dir, name), 0o644)
	}
	copyFile(t, clip, filepath.Join(dir, "caf\xe9 \xff.mp4"), 0o644)
	return root
}

// TestAarch64MatchesX86: the representative subset run under qemu (about a
// minute): the bundled sample, the codec set (AV1 through dav1d, H.264
// 10-bit, HEVC, VP8, VP9) and hostileTree, built for
// --target torchvision, torchvision-pyav and torchvision-pyav --mode exact
// (every frame decoded); then audit of the audit fixtures, the hostile
// pickle battery and the caches, inspect and verify of the fixtures and the
// caches.
func TestAarch64MatchesX86(t *testing.T) {
	arm := aarch64Vidcache(t)
	start := time.Now()
	if r := arm.run(t, t.TempDir(), "version"); r.code != 0 || !strings.Contains(r.stdout, "FFmpeg 9.0.2") || !strings.Contains(r.stdout, "jemalloc 5.") {
		t.Fatalf("aarch64 vidcache version: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	tmp := t.TempDir()
	homeX, homeA := filepath.Join(tmp, "home-x86_64"), filepath.Join(tmp, "home-aarch64")
	var caches []string
	codecs, err := filepath.Abs("../../testdata/codecs")
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range []struct{ name, root string }{{"sample", sample(t)}, {"codecs", codecs}, {"hostile", hostileTree(t)}} {
		root := ds.root
		for _, c := range []struct {
			name string
			opts []string
		}{
			{"torchvision", []string{"--target", "torchvision"}},
			{"pyav-fast", []string{"--target", "torchvision-pyav"}},
			{"pyav-exact", []string{"--target", "torchvision-pyav", "--mode", "exact"}},
		} {
			name, opts := ds.name+"-"+c.name, c.opts
			x, a := filepath.Join(tmp, name+"-x86_64.pt"), filepath.Join(tmp, name+"-aarch64.pt")
			args := append([]string{"build", root, "--created-unix", "42", "--jobs", "2", "--quiet"}, opts...)
			rx := runX86(t, homeX, append(args, "--out", x)...)
			ra := arm.run(t, homeA, append(args, "--out", a)...)
			if rx.code != ra.code {
				t.Errorf("build %s: exit %d on x86_64, %d on aarch64\n%s\n%s", name, rx.code, ra.code, rx.stderr, ra.stderr)
				continue
			}
			bx, errx := os.ReadFile(x)
			ba, erra := os.ReadFile(a)
			if errx != nil || erra != nil {
				t.Errorf("build %s (exit %d): %v %v\n%s", name, rx.code, errx, erra, ra.stderr)
				continue
			}
			if !bytes.Equal(bx, ba) {
				t.Errorf("build %s: the aarch64 cache (%d bytes) differs from x86_64's (%d bytes)", name, len(ba), len(bx))
				continue
			}
			caches = append(caches, x)
			// verify --root, each binary with its own index, of the same file.
			vx := runX86(t, homeX, "verify", "--json", "--root", root, x)
			va := arm.run(t, homeA, "verify", "--json", "--root", root, x)
			if vx != va {
				t.Errorf("verify --root %s:\nx86_64:  exit %d %s%s\naarch64: exit %d %s%s", name, vx.code, vx.stdout, vx.stderr, va.code, va.stdout, va.stderr)
			} else if vx.code != 0 {
				t.Errorf("verify --root %s: exit %d %s", name, vx.code, vx.stdout)
			}
		}
	}
	if len(caches) != 9 {
		t.Fatalf("%d of 9 caches compared equal", len(caches))
	}

	fixtures, err := filepath.Glob("../../cachefmt/pickle/testdata/audit/*")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no audit fixtures: %v", err)
	}
	files := append(append([]string{}, fixtures...), caches...)
	same := func(args ...string) {
		t.Helper()
		rx, ra := runX86(t, homeX, args...), arm.run(t, homeX, args...)
		if rx.stdout == "" && rx.stderr == "" {
			t.Errorf("vidcache %s printed nothing (exit %d)", strings.Join(args, " "), rx.code)
		} else if rx != ra {
			t.Errorf("vidcache %s:\nx86_64:  exit %d\n%s%s\naarch64: exit %d\n%s%s", strings.Join(args, " "), rx.code, rx.stdout, rx.stderr, ra.code, ra.stdout, ra.stderr)
		}
	}
	for _, f := range files {
		same("inspect", "--json", f)
		same("verify", "--json", f)
	}
	// audit: the fixtures, the caches and the hostile battery (written by
	// cachefmt/torchpeer/scripts/battery.py, plain Python, no torch) in one run.
	battery := t.TempDir()
	if out, err := exec.Command("/usr/bin/python3", "../../cachefmt/torchpeer/scripts/battery.py", "hostile", battery).CombinedOutput(); err != nil {
		t.Fatalf("battery.py hostile: %v\n%s", err, out)
	}
	hostile, _ := filepath.Glob(filepath.Join(battery, "*"))
	if len(hostile) < 100 {
		t.Fatalf("the battery wrote %d files", len(hostile))
	}
	same(append([]string{"audit", "--json"}, append(files, hostile...)...)...)
	same(append([]string{"audit"}, append(files, hostile...)...)...)
	t.Logf("%d builds, %d files inspected and verified, %d audited, under qemu in %v", len(caches), len(files), len(files)+len(hostile), time.Since(start).Round(time.Second))
}
