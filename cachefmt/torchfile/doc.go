/*
Package torchfile reads the layout of a torch checkpoint file exactly as
torch.load(path) does, and says where another reader could read it
differently. It is the one reader of torch files' containers in vidcache:
audit, inspect, import, verify and the cache reader all locate the pickles
they examine through it, so none of them can examine one pickle while torch
runs another. It speaks no pickle itself (package cachefmt does).

The rules below follow torch/serialization.py of torch 1.13, 2.6 and 2.14,
caffe2/serialize/inline_container.cc and the miniz 2.1/3.0 it bundles,
Python's zipfile and tarfile (3.11-3.14) and Go's archive/zip and archive/tar,
as measured by experiment (the project's shared reference notes
torch-load-readers.md).

# Dispatch

A file whose first four bytes are a zip local header ("PK\x03\x04") is a
zip, read by miniz. Otherwise torch.load(path) first tries Python's
tarfile at offset 0: if the first 512-byte header parses by tarfile's rules
(or is all zeros) the file is a tar (torch 2.x refuses tars under
weights_only; torch 1.13 unpickles its "storages", "tensors" and "pickle"
members, the last member of each name). Otherwise the file is the legacy
pickle sequence, unpickled from byte 0.

# Zip, as miniz reads it

  - The end record is the last "PK\x05\x06" with 22 bytes after it, searched
    backwards in 4096-byte blocks within about 65,557 bytes of the end.
  - A zip64 locator just before the end record switches to zip64 whatever
    the end record's fields say, and the zip64 record is read where the
    locator points. Its entry count, directory size and offset replace the
    end record's.
  - The central directory is read at its stated offset (no correction for
    prepended data), exactly count entries; records are looked up by
    case-insensitive binary search over the sorted names; an entry whose
    name ends in "/" or whose attribute has bit 0x10 is a directory, whose
    data is never read (torch gets uninitialised memory); CRCs are not
    checked; data starts after the local header's own name and extra fields.
  - Every name must start with the archive folder (entry 0's name up to its
    first "/"), case-sensitively, or torch refuses the file. A zip holding
    "constants.pkl" is TorchScript: torch 1.13 hands it to torch.jit.load
    even with weights_only=True; torch 2.x refuses it.

# Ambiguous layouts

Open accepts as unambiguous only the layout every reader agrees on, and
lists a reason for anything else. A file with any reason is unsafe:

  - the end record not exactly at the end of the file, or with a comment;
  - zip64 records when no end-record field is saturated, a locator that does
    not point at the record just before it, or zip64 and 32-bit values that
    disagree; a saturated field without zip64;
  - a central directory that does not end where the end records begin, or
    that holds bytes after its declared entries;
  - entries that do not tile the file from byte 0 to the central directory
    (bytes before, between or after them, or overlapping entries), a local
    name or method different from the central one;
  - names that differ only in case, names with a NUL byte or longer than
    torch's 511-byte buffer, directory entries (by name, DOS attribute or
    Unix mode), entry comments;
  - a file torch reads as a tar or a legacy pickle stream that a zip reader
    would also open (an end record near its end), and every tar header
    where Python's tarfile and Go's archive/tar differ (see ReadTar).

Refusals list what torch itself would refuse (not a zip miniz can read, an
entry outside the archive folder, an unsupported method, encryption); such a
file never loads, and is never called safe either.
*/
package torchfile
