/*
Package pickle models Python's pickle machine, and what torch.load does with
a pickle, without Python and without running anything:

  - the opcode table (opcodes.go): every opcode of protocols 0-5, its byte
    (the Op constants, which cachefmt's writer emits) and its argument
    layout;
  - the op walker (opwalk.go), which reads opcodes and checks every declared
    length against the bytes the input still holds before anything is read
    or allocated;
  - the pickle-machine simulation (pvm.go, pvm_ops.go), which tracks the
    stack, the marks and the memo to name the global every GLOBAL, INST,
    STACK_GLOBAL and EXT opcode really uses, within budgets on work and
    memory (ErrTooComplex);
  - the safety policy (policy.go), the one rule for which globals a pickle
    may name: each torch generation's weights_only allowlist after that
    generation's Python 2 mapping (Generations, generated from the real
    torch builds by make allowlists into allowlist/), and ImportPolicy,
    torch 2.x's plus the torchvision classes cachefmt.ReadTorchvision reads
    as inert data;
  - the audit (audit.go, auditscan.go): every pickle torch.load would
    unpickle from a file, found as torch finds it (package torchfile),
    simulated, and graded against each generation.

Globals is the entry point for a reader that unpickles afterwards:
cachefmt.Load runs it over a file's pickles before gopickle sees them, so
that inspect and import see the same globals as the audit, and the same
budgets protect them.

The package is named pickle rather than audit because the audit is only one
user of the machine: cachefmt.Load runs the walker and the simulation, and
cachefmt's writer takes its opcode bytes from the same table. (cachefmt's
load.go also imports gopickle's package pickle, as gopickle.)
*/
package pickle
