package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestClassifyAndEscape(t *testing.T) {
	for text, want := range map[string]string{
		"Apache License\n Version 2.0, January 2004":                                            "Apache-2.0",
		"MIT License\n\nPermission is hereby granted, free of charge, to any person":            "MIT",
		"Redistribution and use in source and binary forms ... Neither the name of Google":      "BSD-3-Clause",
		"Redistribution and use in source and binary forms, with or without modification":       "BSD-2-Clause",
		"ISC License\nPermission to use, copy, modify, and/or distribute this software for any": "ISC",
		"Mozilla Public License Version 2.0":                                                    "MPL-2.0",
		"All rights reserved.":                                                                  "",
	} {
		if got := classify(text); got != want {
			t.Errorf("classify(%.30q) = %q, want %q", text, got, want)
		}
	}
	if got := escape("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escape: %q", got)
	}
}

// The SBOM gets the commit's time and the standard library's licence; the
// rest of it is kept.
func TestFixSetsTimeAndLicences(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.cdx.json")
	in := `{"bomFormat":"CycloneDX","metadata":{"timestamp":"2030-01-01T00:00:00Z"},"components":[{"name":"std","version":"go1.26"}]}`
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1764892800")
	if err := fix(file); err != nil {
		t.Fatal(err)
	}
	var out struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Timestamp string `json:"timestamp"`
		} `json:"metadata"`
		Components []struct {
			Licenses []struct {
				License struct {
					ID string `json:"id"`
				} `json:"license"`
			} `json:"licenses"`
		} `json:"components"`
	}
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.BOMFormat != "CycloneDX" || out.Metadata.Timestamp != "2025-12-05T00:00:00Z" ||
		len(out.Components) != 1 || len(out.Components[0].Licenses) != 1 || out.Components[0].Licenses[0].License.ID != "BSD-3-Clause" {
		t.Fatalf("fixed SBOM: %s", b)
	}
}
