// Command sbomfix finishes the release's CycloneDX SBOM: the time is the
// commit's (SOURCE_DATE_EPOCH), so that the same commit gives the same
// SBOM and the same SHA256SUMS, and each Go module and the standard
// library carry their licence, read from the module cache. The release
// script runs it; it is not shipped.
//
//	go run ./internal/tools/sbomfix FILE.cdx.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sbomfix FILE.cdx.json")
		os.Exit(2)
	}
	if err := fix(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "sbomfix:", err)
		os.Exit(1)
	}
}

func fix(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var sbom map[string]any
	if err := json.Unmarshal(b, &sbom); err != nil {
		return err
	}
	if epoch, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		if meta, ok := sbom["metadata"].(map[string]any); ok {
			meta["timestamp"] = time.Unix(epoch, 0).UTC().Format(time.RFC3339)
		}
	}
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	components, _ := sbom["components"].([]any)
	for _, c := range components {
		comp, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if id := licenseOf(strings.TrimSpace(string(cache)), comp); id != "" {
			comp["licenses"] = []any{map[string]any{"license": map[string]any{"id": id}}}
		}
	}
	out, err := json.MarshalIndent(sbom, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(out, '\n'), 0o644)
}

// licenseOf is a component's SPDX licence id, "" when it cannot be told.
func licenseOf(cache string, comp map[string]any) string {
	name, _ := comp["name"].(string)
	version, _ := comp["version"].(string)
	if name == "std" {
		return "BSD-3-Clause" // the Go distribution's LICENSE
	}
	dir := filepath.Join(cache, escape(name)+"@"+version)
	for _, f := range []string{"LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING", "LICENCE"} {
		if text, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			return classify(string(text))
		}
	}
	return ""
}

// escape is a module path as the module cache spells it: each upper-case
// letter as "!" and its lower case.
func escape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// classify tells the common open-source licences apart by their text.
func classify(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case strings.Contains(t, "Apache License") && strings.Contains(t, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "Mozilla Public License") && strings.Contains(t, "2.0"):
		return "MPL-2.0"
	case strings.Contains(t, "Permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "Permission to use, copy, modify, and/or distribute") || strings.Contains(t, "ISC License"):
		return "ISC"
	case strings.Contains(t, "Redistribution and use in source and binary forms") && strings.Contains(t, "Neither the name"):
		return "BSD-3-Clause"
	case strings.Contains(t, "Redistribution and use in source and binary forms"):
		return "BSD-2-Clause"
	}
	return ""
}
