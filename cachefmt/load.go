package cachefmt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	gopickle "github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/cachefmt/pickle"
	"github.com/vidcache/vidcache/cachefmt/torchfile"
)

// Object is an instance of a class that is not plain data: the class is
// only named, never imported, and what the pickle would have passed to it
// (constructor arguments, __setstate__ state, __dict__ items) is kept as data.
type Object struct {
	Module, Name string
	Args         []any  // REDUCE/NEWOBJ arguments
	State        any    // BUILD state, if any
	Dict         []Item // __dict__ items set by BUILD
	Called       bool   // reached through REDUCE (a call), not NEWOBJ
}

// Class is a global that FindClass resolved to an inert record.
type Class struct{ Module, Name string }

func (c *Class) Call(args ...any) (any, error) {
	return &Object{Module: c.Module, Name: c.Name, Args: args, Called: true}, nil
}

func (c *Class) PyNew(args ...any) (any, error) {
	return &Object{Module: c.Module, Name: c.Name, Args: args}, nil
}

func (o *Object) PySetState(state any) error { o.State = state; return nil }

func (o *Object) PyDictSet(k, v any) error {
	o.Dict = append(o.Dict, Item{k, v})
	return nil
}

// Item is one key/value pair.
type Item struct{ Key, Value any }

// Qualified is "module.name".
func (o *Object) Qualified() string { return o.Module + "." + o.Name }

// Loaded is a torch file read as inert data.
type Loaded struct {
	Value any
	Zip   bool // zip container (else the legacy format)
	// Globals are every class or function the pickles name, in order of
	// first use, as audit names them.
	Globals  []string
	globals  []pickle.Global
	Storages map[string]StorageInfo
}

// StorageInfo describes one storage record.
type StorageInfo struct {
	Type  string // e.g. "LongStorage"
	Numel int
	Bytes int64
}

var elemSize = map[string]int64{
	"HalfStorage": 2, "FloatStorage": 4, "DoubleStorage": 8, "CharStorage": 1, "ShortStorage": 2,
	"IntStorage": 4, "LongStorage": 8, "ByteStorage": 1, "BoolStorage": 1, "BFloat16Storage": 2,
}

// Load reads any torch file (zip or legacy) with gopickle. Nothing is
// imported or executed: torch's tensor and storage classes are rebuilt as
// gopickle values, every other global becomes a *Class whose instances are
// *Object records. Storage sizes are checked against the records before
// anything is allocated.
func Load(filename string) (*Loaded, error) { return LoadWith(filename, LoadOptions{}) }

// LoadOptions configure LoadWith.
type LoadOptions struct {
	// StructureOnly reads no storage data: tensors keep their declared
	// shape and type over empty storages (inspect).
	StructureOnly bool
}

// storageBudget bounds the storage bytes a zip may yield: a deflated
// record can declare far more than the file holds (torch.save writes them
// stored, so a real file's storages are never larger than the file).
func storageBudget(fileSize int64) int64 { return 8*fileSize + 256<<20 }

// LoadWith is Load with options.
func LoadWith(filename string, opts LoadOptions) (l *Loaded, err error) {
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("%s: malformed pickle (%v)", filename, r)
		}
	}()
	f, err := os.Open(filename)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", filename)
	}
	tf, err := torchfile.Open(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	if err := tf.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	l = &Loaded{Storages: map[string]StorageInfo{}}
	findClass := func(module, name string) (any, error) {
		q := module + "." + name
		if q == "collections.OrderedDict" {
			return &types.OrderedDictClass{}, nil
		}
		return &Class{Module: module, Name: name}, nil
	}
	switch tf.Kind {
	case torchfile.KindTar:
		return nil, fmt.Errorf("%s: a torch file in the oldest (tar) format, which torch 2.x refuses under weights_only; vidcache does not read it", filename)
	case torchfile.KindZip:
		l.Zip = true
		v, err := loadZip(f, tf.Zip, l, findClass, opts, storageBudget(fi.Size()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filename, err)
		}
		l.Value = v
		return l, nil
	}
	v, err := loadLegacy(f, fi.Size(), l, findClass)
	if err != nil {
		return nil, fmt.Errorf("%s: neither a torch zip file nor a legacy torch file (%w)", filename, err)
	}
	l.Value = v
	return l, nil
}

// addGlobals records the globals the pre-pass found.
func (l *Loaded) addGlobals(gs []pickle.Global) {
	seen := map[string]bool{}
	for _, g := range l.Globals {
		seen[g] = true
	}
	for _, g := range gs {
		q := g.String()
		l.globals = append(l.globals, g)
		if !seen[q] {
			seen[q] = true
			l.Globals = append(l.Globals, q)
		}
	}
}

// Disallowed lists the globals of the file that pickle.ImportPolicy does not
// admit (neither torch 2.x's weights_only allowlist, after the Python 2
// mapping torch applies, nor the torchvision reader's inert classes): what
// import refuses unless forced.
func (l *Loaded) Disallowed() []string { return pickle.ImportPolicy.Disallowed(l.globals) }

func loadZip(ra io.ReaderAt, z *torchfile.Zip, l *Loaded, findClass func(string, string) (any, error), opts LoadOptions, budget int64) (any, error) {
	if z.Has("constants.pkl") {
		return nil, errors.New("a TorchScript archive (constants.pkl): torch.load hands it to torch.jit.load, which runs its code; vidcache does not read it")
	}
	pkl := z.Lookup("data.pkl")
	if pkl == nil {
		return nil, fmt.Errorf("no %s/data.pkl in the zip", z.Prefix)
	}
	if pkl.USize > maxPickle {
		return nil, fmt.Errorf("data.pkl is %d bytes, more than the %d this reader accepts", pkl.USize, maxPickle)
	}
	gs, err := pickle.Globals(z.Reader(ra, pkl), pkl.USize, 1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	l.addGlobals(gs)
	u := gopickle.NewUnpickler(bufio.NewReader(z.Reader(ra, pkl)))
	u.FindClass = torchFindClass(findClass)
	loaded := map[string]pytorch.StorageInterface{}
	u.PersistentLoad = func(id any) (any, error) {
		sc, typ, key, loc, numel, err := storageID(id, 5)
		if err != nil {
			return nil, err
		}
		if st, ok := loaded[key]; ok {
			return st, nil
		}
		rec := z.Lookup("data/" + key)
		if rec == nil {
			return nil, fmt.Errorf("storage %q has no record %s/data/%s", key, z.Prefix, key)
		}
		nbytes := int64(numel) * elemSize[typ]
		if nbytes > rec.USize {
			return nil, fmt.Errorf("storage %q declares %d elements of %s but its record holds %d bytes", key, numel, typ, rec.USize)
		}
		st := sc.New(0, loc)
		if !opts.StructureOnly {
			if budget -= nbytes; budget < 0 {
				return nil, fmt.Errorf("storage %q: %w: the storages hold more bytes than 8 times the file's size plus 256 MiB", key, pickle.ErrTooComplex)
			}
			st = sc.New(numel, loc)
			if err := st.SetFromFileWithSize(z.Reader(ra, rec), numel); err != nil {
				return nil, fmt.Errorf("storage %q: %w", key, err)
			}
		}
		loaded[key] = st
		l.Storages[key] = StorageInfo{Type: typ, Numel: numel, Bytes: int64(numel) * elemSize[typ]}
		return st, nil
	}
	return u.Load()
}

// maxPickle bounds the pickle this reader accepts (a 240,000-video cache's
// is about 30 MB).
const maxPickle = 1 << 30

// torchFindClass resolves torch's tensor and storage globals to gopickle's
// types and hands every other global to fallback.
func torchFindClass(fallback func(string, string) (any, error)) func(string, string) (any, error) {
	return func(module, name string) (any, error) {
		if module+"."+name == "torch._utils._rebuild_tensor_v2" {
			fallback(module, name)
			return &pytorch.RebuildTensorV2{}, nil
		}
		if module == "torch" {
			if sc := storageClass(name); sc != nil {
				fallback(module, name)
				return sc, nil
			}
		}
		return fallback(module, name)
	}
}

// storageID checks a persistent id ('storage', StorageClass, key, location,
// numel, ...) of at least n items.
func storageID(id any, n int) (sc pytorch.StorageClassInterface, typ, key, loc string, numel int, err error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < n {
		return nil, "", "", "", 0, fmt.Errorf("persistent id %v is not a storage tuple", id)
	}
	if s, _ := t.Get(0).(string); s != "storage" {
		return nil, "", "", "", 0, fmt.Errorf("persistent id kind %v, expected 'storage'", t.Get(0))
	}
	sc, ok = t.Get(1).(pytorch.StorageClassInterface)
	key, ok2 := t.Get(2).(string)
	loc, ok3 := t.Get(3).(string)
	numel, ok4 := t.Get(4).(int)
	if !ok || !ok2 || !ok3 || !ok4 || numel < 0 {
		return nil, "", "", "", 0, fmt.Errorf("malformed storage id %v", id)
	}
	typ = strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", sc), "*pytorch."), "Class")
	return sc, typ, key, loc, numel, nil
}

// loadLegacy reads the pre-1.6 torch format (_use_new_zipfile_serialization
// =False): pickles of the magic number, the protocol version, system info,
// the object, and the storage keys, then each storage as an int64 element
// count and its data. Declared sizes are checked against the bytes left.
func loadLegacy(f io.ReaderAt, size int64, l *Loaded, findClass func(string, string) (any, error)) (any, error) {
	// magic, protocol version, system info, the object, the storage keys
	gs, err := pickle.Globals(io.NewSectionReader(f, 0, size), size, 5)
	if err != nil {
		return nil, err
	}
	l.addGlobals(gs)
	r := bufio.NewReader(io.NewSectionReader(f, 0, size))
	mu := gopickle.NewUnpickler(r)
	magic, err := mu.Load()
	if n, ok := magic.(*big.Int); err != nil || !ok || n.Text(16) != "1950a86a20f9469cfc6c" {
		return nil, errors.New("no torch magic number")
	}
	pu := gopickle.NewUnpickler(r)
	if v, err := pu.Load(); err != nil || v != 1001 {
		return nil, fmt.Errorf("unsupported legacy protocol version %v", v)
	}
	su := gopickle.NewUnpickler(r)
	if _, err := su.Load(); err != nil { // sys info
		return nil, fmt.Errorf("system info: %w", err)
	}
	u := gopickle.NewUnpickler(r)
	u.FindClass = torchFindClass(findClass)
	storages := map[string]pytorch.StorageInterface{}
	types_ := map[string]string{}
	u.PersistentLoad = func(id any) (any, error) {
		if t, ok := id.(*types.Tuple); ok && t.Len() >= 2 && t.Get(0) == "module" {
			return t.Get(1), nil
		}
		sc, typ, key, loc, numel, err := storageID(id, 6)
		if err != nil {
			return nil, err
		}
		if t := id.(*types.Tuple); t.Get(5) != nil {
			return nil, fmt.Errorf("storage %q is a view, which this reader does not support", key)
		}
		if int64(numel)*elemSize[typ] > size {
			return nil, fmt.Errorf("storage %q declares %d elements, more than the file holds", key, numel)
		}
		if st, ok := storages[key]; ok {
			return st, nil
		}
		st := sc.New(numel, loc)
		storages[key], types_[key] = st, typ
		return st, nil
	}
	v, err := u.Load()
	if err != nil {
		return nil, err
	}
	ku := gopickle.NewUnpickler(r)
	keysObj, err := ku.Load()
	if err != nil {
		return nil, fmt.Errorf("storage keys: %w", err)
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, errors.New("storage keys are not a list")
	}
	for _, k := range *keys {
		key, _ := k.(string)
		st, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("storage %q listed but never used", key)
		}
		var cnt [8]byte
		if _, err := io.ReadFull(r, cnt[:]); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		n := int64(binary.LittleEndian.Uint64(cnt[:]))
		typ := types_[key]
		if n < 0 || n*elemSize[typ] > size {
			return nil, fmt.Errorf("storage %q: bad element count %d", key, n)
		}
		if err := st.SetFromFileWithSize(r, int(n)); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		l.Storages[key] = StorageInfo{Type: typ, Numel: int(n), Bytes: n * elemSize[typ]}
	}
	return v, nil
}

func storageClass(name string) pytorch.StorageClassInterface {
	switch name {
	case "FloatStorage":
		return &pytorch.FloatStorageClass{}
	case "HalfStorage":
		return &pytorch.HalfStorageClass{}
	case "DoubleStorage":
		return &pytorch.DoubleStorageClass{}
	case "CharStorage":
		return &pytorch.CharStorageClass{}
	case "ShortStorage":
		return &pytorch.ShortStorageClass{}
	case "IntStorage":
		return &pytorch.IntStorageClass{}
	case "LongStorage":
		return &pytorch.LongStorageClass{}
	case "ByteStorage":
		return &pytorch.ByteStorageClass{}
	case "BoolStorage":
		return &pytorch.BoolStorageClass{}
	case "BFloat16Storage":
		return &pytorch.BFloat16StorageClass{}
	}
	return nil
}
