package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
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

// Messages lists err one problem per entry: each of an Errors, else err.
func Messages(err error) []string {
	var errs Errors
	if !errors.As(err, &errs) {
		return []string{err.Error()}
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

// problems collects errors and warnings while a configuration is checked.
type problems struct {
	errs     Errors
	warnings []string
	// undecoded are the keys whose values had the wrong shape: validation
	// saw them zero, so it has nothing true to add about them.
	undecoded map[string]bool
}

func (p *problems) errorf(key, format string, args ...any) {
	if p.undecoded[key] {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// decodeErrorf reports a value of the wrong shape, and keeps validation
// quiet about that key.
func (p *problems) decodeErrorf(key, format string, args ...any) {
	p.errorf(key, format, args...)
	if p.undecoded == nil {
		p.undecoded = map[string]bool{}
	}
	p.undecoded[key] = true
}

// notef records a note: something s3dns changed for the operator, said once
// in the same list as the warnings (validate prints them).
func (p *problems) notef(key, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s: note: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) warnf(key, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// addDecodeErrors flattens mapstructure's wrapped and joined errors into
// the list, each as "key: "value" is not a <type>".
func (p *problems) addDecodeErrors(err error, settings map[string]any) {
	if err == nil {
		return
	}
	if de, ok := err.(*mapstructure.DecodeError); ok {
		key := de.Name()
		value := lookup(settings, key)
		if value == nil {
			p.decodeErrorf(key, "%v", de.Unwrap())
			return
		}
		var pe *mapstructure.ParseError
		if errors.As(err, &pe) && pe.Expected.IsValid() {
			p.decodeErrorf(key, "%q is not %s", fmt.Sprint(value), kindWords(pe.Expected.Kind()))
			return
		}
		p.decodeErrorf(key, "%q: %v", fmt.Sprint(value), de.Unwrap())
		return
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			p.addDecodeErrors(e, settings)
		}
		return
	}
	if inner := errors.Unwrap(err); inner != nil {
		p.addDecodeErrors(inner, settings)
		return
	}
	p.errs = append(p.errs, err)
}

// kindWords names what a key of this kind takes.
func kindWords(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return "a " + k.String()
}

// lookup finds a value by its key path ("cache.max_entries", "endpoints[0].ttl").
func lookup(settings map[string]any, key string) any {
	var cur any = settings
	for _, part := range strings.Split(key, ".") {
		name, index, hasIndex := strings.Cut(part, "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[name]
		if hasIndex {
			i, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
			list, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(list) {
				return nil
			}
			cur = list[i]
		}
	}
	return cur
}
