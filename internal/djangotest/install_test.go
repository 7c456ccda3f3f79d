package djangotest

import (
	"strings"
	"testing"
)

func TestMissingPackagesSayHowToInstall(t *testing.T) {
	if err := checkInterpreter(Python); err != nil {
		t.Fatal(err) // the fixture's own tests cannot run either
	}
	// An interpreter without the packages: the pyenv one on PATH may be
	// such a python3, so use one that certainly lacks them.
	err := checkInterpreter("/nonexistent/python3")
	if err == nil {
		t.Fatal("a missing interpreter passed the check")
	}
	for _, want := range []string{
		"scripts/test.sh", "apt-get install", "python3-django ", "python3-djangorestframework",
		"python3-django-redis", "python3-django-filters", "gunicorn",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the failure does not say %q:\n%v", want, err)
		}
	}
}
