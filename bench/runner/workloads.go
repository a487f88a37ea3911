package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const listedBuckets = 100

type workload struct {
	name, file, mode string
}

var workloads = []workload{
	{"local", "local.txt", "udp"},
	{"forward-hit", "forward-hit.txt", "udp"},
	{"mixed", "mixed.txt", "udp"},
	{"miss-heavy", "", "udp"},
	{"tcp", "local.txt", "tcp"},
	{"dot", "local.txt", "dot"}, // DNS over TLS, 8 persistent connections
	{"doh", "local.txt", "doh"}, // DNS over HTTPS (HTTP/2), 8 persistent connections
}

func bucket(i int) string { return fmt.Sprintf("bucket-%d.s3.eu-west-2.amazonaws.com", i) }

// writeQueryFiles writes the dnsperf inputs shared by both servers.
func writeQueryFiles(dir string) (map[string]string, error) {
	files := map[string]func(w *bufio.Writer){
		"local.txt": func(w *bufio.Writer) {
			for i := range listedBuckets {
				fmt.Fprintf(w, "%s A\n", bucket(i))
			}
		},
		"forward-hit.txt": func(w *bufio.Writer) {
			for i := range 1000 {
				fmt.Fprintf(w, "host-%d.example.com A\n", i)
			}
		},
		"mixed.txt": func(w *bufio.Writer) {
			for i := range 1000 {
				switch i % 4 {
				case 0, 1:
					fmt.Fprintf(w, "%s A\n", bucket(i%listedBuckets))
				case 2:
					fmt.Fprintf(w, "host-%d.example.com A\n", i)
				case 3:
					fmt.Fprintf(w, "unlisted-%d.s3.eu-west-2.amazonaws.com A\n", i%200)
				}
			}
		},
	}
	paths := map[string]string{}
	for name, fill := range files {
		p := filepath.Join(dir, name)
		if err := writeLines(p, fill); err != nil {
			return nil, err
		}
		paths[name] = p
	}
	return paths, nil
}

// writeMissFile writes names no server has seen: every run gets its own.
func writeMissFile(dir string, run int) (string, error) {
	return writeNewNames(filepath.Join(dir, fmt.Sprintf("miss-%d.txt", run)), fmt.Sprintf("m%d", run), 1_500_000)
}

// writeWarmMissFile is a server's warm-up for miss-heavy: names of its own,
// never asked in a measured run.
func writeWarmMissFile(dir, server string) (string, error) {
	return writeNewNames(filepath.Join(dir, "miss-warm-"+server+".txt"), "w"+strings.NewReplacer("+", "-").Replace(server), 30_000)
}

// writeNewNames writes n names under miss.example.com, each one asked once.
func writeNewNames(p, prefix string, n int) (string, error) {
	return p, writeLines(p, func(w *bufio.Writer) {
		for i := range n {
			fmt.Fprintf(w, "%s-%d.miss.example.com A\n", prefix, i)
		}
	})
}

func writeLines(p string, fill func(w *bufio.Writer)) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
