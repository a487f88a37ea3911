package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/s3dns/s3dns/model"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// DefaultSearchPaths are tried in order when --config is not given.
var DefaultSearchPaths = []string{"s3dns.yaml", "/etc/s3dns/s3dns.yaml"}

// Options say where a configuration comes from.
type Options struct {
	// File is --config; "" means try SearchPaths.
	File        string
	SearchPaths []string
	// Flags, when set, holds the flags of RegisterFlags; only changed ones count.
	Flags *pflag.FlagSet
	// ResolvConf supplies default upstreams; "" means /etc/resolv.conf.
	ResolvConf string
}

// Load reads, merges (flags > environment > file > defaults) and validates a
// configuration. It returns the warnings found, and an Errors value listing
// every problem when the configuration cannot be used.
func Load(opts Options) (*model.Config, []string, error) {
	if opts.File == "" && opts.Flags != nil {
		opts.File, _ = opts.Flags.GetString("config")
	}
	file, err := findFile(opts)
	if err != nil {
		return nil, nil, Errors{err}
	}
	settings, read, err := merge(file, opts.Flags)
	if err != nil {
		return nil, nil, Errors{err}
	}
	var p problems
	if file == "" {
		if tried := searchPaths(opts); len(tried) > 0 {
			p.warnings = append(p.warnings, fmt.Sprintf("NO CONFIGURATION FILE: none of %s exists; "+
				"running on the built-in defaults, S3DNS_* environment and flags only (give --config FILE)", strings.Join(tried, ", ")))
		}
	}
	checkKeys(&p, settings)
	warnUnknownEnv(&p, environ())
	raw, err := decode(settings)
	// Values of the wrong shape are reported, and everything else is still
	// checked, so that one run lists every problem.
	p.addDecodeErrors(err, settings)
	if raw == nil {
		return nil, p.warnings, located(p.errs, file)
	}
	cfg := validate(&p, raw, opts.ResolvConf)
	if len(p.errs) > 0 {
		return nil, p.warnings, located(p.errs, file)
	}
	cfg.File, cfg.FileDigest = file, read
	return cfg, p.warnings, nil
}

func findFile(opts Options) (string, error) {
	if opts.File != "" {
		if _, err := os.Stat(opts.File); err != nil {
			return "", fmt.Errorf("--config: %w", err)
		}
		return opts.File, nil
	}
	for _, p := range searchPaths(opts) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", nil
}

// NoFile says which files were looked for when none was found.
func NoFile() string {
	return "no configuration file was found (tried " + strings.Join(DefaultSearchPaths, ", ") + ")"
}

// searchPaths are the files tried when --config is not given.
func searchPaths(opts Options) []string {
	if opts.SearchPaths == nil {
		return DefaultSearchPaths
	}
	return opts.SearchPaths
}

// merge layers defaults, the file, S3DNS_* environment and changed flags.
// merge layers the defaults, the file, the environment and the flags; read
// is the digest of the file's content as read (nil without a file).
func merge(file string, flags *pflag.FlagSet) (settings map[string]any, read []byte, err error) {
	v := viper.New()
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix("S3DNS")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if file != "" {
		fileMap, sum, err := readYAML(file)
		if err != nil {
			return nil, nil, err
		}
		if err := v.MergeConfigMap(fileMap); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		read = sum
	}
	if flags != nil {
		var bindErr error
		flags.Visit(func(f *pflag.Flag) {
			if key := flagKey(f.Name); key != "" {
				bindErr = errors.Join(bindErr, v.BindPFlag(key, f))
			}
		})
		if bindErr != nil {
			return nil, nil, bindErr
		}
	}
	settings = v.AllSettings()
	// Environment and flags give endpoints and sites as one YAML or JSON string.
	for _, key := range []string{"endpoints", "sites"} {
		s, ok := settings[key].(string)
		if !ok {
			continue
		}
		var list any
		if err := yaml.Unmarshal([]byte(s), &list); err != nil {
			return nil, nil, fmt.Errorf("%s: %q is not a YAML or JSON list: %v", key, s, err)
		}
		if list == nil {
			list = []any{}
		}
		settings[key] = list
	}
	return settings, read, nil
}

// readYAML reads file and returns its settings and the digest of what was
// read (the watcher's baseline: a change made after this is a change).
func readYAML(file string) (map[string]any, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, nil, syntaxError(file, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, contentDigest(data), nil
}

// decode turns merged settings into rawConfig, filling endpoint defaults.
func decode(settings map[string]any) (*rawConfig, error) {
	if list, ok := settings["endpoints"].([]any); ok {
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue // checkKeys reported it
			}
			filled := make(map[string]any, len(endpointDefaults))
			for k, v := range endpointDefaults {
				filled[k] = v
			}
			for k, v := range m {
				filled[strings.ToLower(k)] = v
			}
			list[i] = filled
		}
	}
	var raw rawConfig
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           &raw,
		WeaklyTypedInput: true,
		DecodeHook:       splitListHook,
	})
	if err != nil {
		return nil, err
	}
	return &raw, dec.Decode(settings)
}

// splitListHook lets "a,b" (from an environment variable) fill a []string.
func splitListHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != reflect.TypeOf([]string(nil)) {
		return data, nil
	}
	out := strings.FieldsFunc(data.(string), func(r rune) bool { return r == ',' || r == ' ' })
	if out == nil {
		out = []string{}
	}
	return out, nil
}
