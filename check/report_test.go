package check

import "testing"

func TestReportErrNamesTheFirstFailedStep(t *testing.T) {
	rep := Report{Steps: []Step{{Name: "connect", OK: true}, {Name: "warm", Detail: "3 failed"}, {Name: "keys", Detail: "none"}}}
	if err := rep.Err(); err == nil || err.Error() != "check failed at step warm: 3 failed" {
		t.Errorf("Err = %v, want the warm step named", err)
	}
	rep.Steps = rep.Steps[:1]
	if err := rep.Err(); err != nil {
		t.Errorf("Err = %v for a passing checklist, want nil", err)
	}
}
