package config

import (
	"fmt"
	"strings"
)

// Errors lists every problem found in a configuration, each naming its key.
type Errors []error

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, err := range e {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// problems collects errors and warnings while a configuration is checked.
type problems struct {
	errs     Errors
	warnings []string
}

func (p *problems) errorf(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) warnf(key, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// addJoined flattens errors.Join trees (as mapstructure returns them) into the list.
func (p *problems) addJoined(err error) {
	if err == nil {
		return
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			p.addJoined(e)
		}
		return
	}
	p.errs = append(p.errs, err)
}
