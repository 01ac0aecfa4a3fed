package torchfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Kind is the reading torch.load chooses for a file.
type Kind int

const (
	// KindLegacy: the pickle sequence of torch's pre-1.6 format, unpickled from byte 0.
	KindLegacy Kind = iota
	// KindZip: the file starts with a zip local header; torch reads it with miniz.
	KindZip
	// KindTar: Python's tarfile opens it; torch's oldest (tar) format.
	KindTar
)

func (k Kind) String() string {
	switch k {
	case KindZip:
		return "zip"
	case KindTar:
		return "tar"
	}
	return "legacy"
}

// File is a torch file's bytes as torch.load reads them.
type File struct {
	Size int64
	Kind Kind
	Zip  *Zip // Kind == KindZip, nil if torch cannot read the zip
	Tar  *Tar // the tar reading (Opens says whether torch takes it)

	// Ambiguities are reasons another reader could see a different file:
	// such a file is unsafe, whatever its pickles say.
	Ambiguities []string
	// Refusals are reasons torch itself would refuse the file.
	Refusals []string
}

// ErrAmbiguous marks a file whose layout readers disagree on.
var ErrAmbiguous = errors.New("ambiguous layout")

// ErrRefused marks a file torch.load would refuse before unpickling.
var ErrRefused = errors.New("torch would refuse it")

// Err is nil for a file every reader reads alike and torch accepts; else it
// wraps ErrAmbiguous (or, when nothing is ambiguous, ErrRefused) with
// every reason.
func (f *File) Err() error {
	if len(f.Ambiguities) > 0 {
		return fmt.Errorf("%w: %s", ErrAmbiguous, strings.Join(f.Ambiguities, "; "))
	}
	if len(f.Refusals) > 0 {
		return fmt.Errorf("%w: %s", ErrRefused, strings.Join(f.Refusals, "; "))
	}
	return nil
}

// Open reads the layout of the torch file held by ra (size bytes) the way
// torch.load(path) does; see the package documentation for the rules. It
// returns an error only when ra cannot be read.
func Open(ra io.ReaderAt, size int64) (*File, error) {
	f := &File{Size: size}
	var head [4]byte
	n, err := ra.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	refuse := func(format string, args ...any) { f.Refusals = append(f.Refusals, fmt.Sprintf(format, args...)) }
	ambiguous := func(format string, args ...any) {
		f.Ambiguities = append(f.Ambiguities, fmt.Sprintf(format, args...))
	}
	if n == 4 && string(head[:]) == "PK\x03\x04" {
		f.Kind = KindZip
		f.Zip = readZip(ra, size, refuse, ambiguous)
		return f, nil
	}
	f.Tar = ReadTar(ra, size)
	f.Ambiguities = append(f.Ambiguities, f.Tar.Ambiguities...)
	if f.Tar.Opens {
		f.Kind = KindTar
	}
	if HasEOCD(ra, size) {
		ambiguous("a zip end record near the end of a file torch reads as %s: zip readers see an archive torch does not read", f.Kind)
	}
	if size == 0 {
		refuse("an empty file")
	}
	return f, nil
}
