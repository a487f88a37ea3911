package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// located prefixes each error whose key is written in file with
// "file:line:column: ", as BIND's named-checkconf names file and line.
// Keys set by the environment or a flag are not in the file and keep no
// position.
func located(errs Errors, file string) Errors {
	data, err := os.ReadFile(file)
	if err != nil {
		return errs
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return errs
	}
	out := make(Errors, len(errs))
	for i, e := range errs {
		out[i] = e
		key, _, ok := strings.Cut(e.Error(), ": ")
		if !ok {
			continue
		}
		if n := find(doc.Content[0], key); n != nil {
			out[i] = fmt.Errorf("%s:%d:%d: %w", file, n.Line, n.Column, e)
		}
	}
	return out
}

// keySegment is one step of a key: a mapping key, then an optional
// [index] or [name] (a list entry by its name: endpoints[s3-london]).
var keySegment = regexp.MustCompile(`^([^.\[\]]+)(?:\[([^\]]*)\])?$`)

// find is the node a key names ("endpoints[1].buckets[0]", "cache.max_ttl",
// "endpoints[s3-london].hostname"): the key's own node for a mapping key,
// the entry for a list element; nil when the file does not hold it.
func find(n *yaml.Node, key string) *yaml.Node {
	var at *yaml.Node
	for _, seg := range splitKey(key) {
		m := keySegment.FindStringSubmatch(seg)
		if m == nil || n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		value, keyNode := yamlKey(n, m[1])
		if keyNode == nil {
			return nil
		}
		n, at = value, keyNode
		if m[2] == "" {
			continue
		}
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		if n = element(n, m[2]); n == nil {
			return nil
		}
		at = n
	}
	return at
}

// splitKey splits a key at its dots, but not at those inside brackets (an
// endpoint's name may hold dots).
func splitKey(key string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range key {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '.' && depth == 0:
			out = append(out, key[start:i])
			start = i + 1
		}
	}
	return append(out, key[start:])
}

// yamlKey finds key in a mapping: its value, and its key node.
func yamlKey(m *yaml.Node, key string) (value, keyNode *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], m.Content[i]
		}
	}
	return nil, nil
}

// element is a list's entry by index, or the mapping whose name is ref.
func element(seq *yaml.Node, ref string) *yaml.Node {
	if i, err := strconv.Atoi(ref); err == nil {
		if i >= 0 && i < len(seq.Content) {
			return seq.Content[i]
		}
		return nil
	}
	for _, e := range seq.Content {
		if name, _ := yamlKey(e, "name"); name != nil && strings.EqualFold(strings.TrimSpace(name.Value), ref) {
			return e
		}
	}
	return nil
}

// yamlLine matches the line yaml.v3 names in a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns yaml.v3's syntax error into "file:line: message" with
// the line counted from 1: yaml.v3 counts parser errors (did not find
// expected …) from 0 and scanner errors from 1.
func syntaxError(file string, err error) error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	line, _ := strconv.Atoi(m[1])
	rest := msg[len(m[0]):]
	if strings.HasPrefix(rest, "did not find expected") {
		line++
	}
	return fmt.Errorf("%s:%d: YAML syntax: %s", file, line, rest)
}
