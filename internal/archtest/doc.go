// Package archtest holds the tests that keep docs/ARCHITECTURE.md true.
package archtest
