package pickle

// Lists reports whether name is in the policy's set as it is (no mapping,
// any opcode): TestAuditDifferential's check on the names Load shows.
func (p Policy) Lists(name string) bool { return p.allowed[name] }
