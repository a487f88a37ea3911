package app

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/s3dns/s3dns/audit"
	"github.com/s3dns/s3dns/discovery"
	"github.com/s3dns/s3dns/health"
)

// status prints the running server's endpoint health (GET /status) as a
// table: each probed endpoint, its addresses, up or down, since when, and
// the last probe error.
func status(fs *pflag.FlagSet, io IO) int {
	addr, ok := serverHTTP(fs, io, "status")
	if !ok {
		return 1
	}
	url := "http://" + addr + "/status"
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		fmt.Fprintf(io.Stderr, "status: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	var body struct {
		Endpoints []health.Status    `json:"endpoints"`
		Discovery []discovery.Source `json:"discovery"`
		Audit     *struct {
			At       time.Time       `json:"at"`
			Checked  int             `json:"checked"`
			Findings []audit.Finding `json:"findings"`
		} `json:"audit"`
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(io.Stderr, "status: %s answered %s\n", url, resp.Status)
		return 1
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Fprintf(io.Stderr, "status: %s: %v\n", url, err)
		return 1
	}
	writeSources(io, body.Discovery)
	if a := body.Audit; a != nil {
		fmt.Fprintf(io.Stdout, "policy audit of %s (%s ago):\n", a.At.Format(time.RFC3339), time.Since(a.At).Round(time.Second))
		(&audit.Report{Findings: a.Findings, Checked: a.Checked}).WriteTable(io.Stdout)
		fmt.Fprintln(io.Stdout)
	}
	if len(body.Endpoints) == 0 {
		fmt.Fprintln(io.Stdout, "no endpoint has health checks (health: in the configuration)")
		return 0
	}
	w := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ENDPOINT\tSERVICE\tHOSTNAME\tADDRESS\tSTATE\tSINCE\tLAST ERROR")
	for _, e := range body.Endpoints {
		if len(e.Addresses) == 0 {
			fmt.Fprintf(w, "%s\t%s\t%s\t-\tnot probed yet\t\t\n", e.Endpoint, e.Service, e.Hostname)
		}
		for _, a := range e.Addresses {
			state := "up"
			if !a.Up {
				state = "DOWN"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s:%d\t%s\t%s\t%s\n", e.Endpoint, e.Service, e.Hostname, a.Address, e.Port, state,
				a.LastChange.UTC().Format(time.RFC3339), a.LastError)
		}
	}
	w.Flush()
	for _, e := range body.Endpoints {
		if e.AnsweredBy != "" {
			fmt.Fprintf(io.Stdout, "%s: every address is down; its fallback %s answers its names\n", e.Endpoint, e.AnsweredBy)
		}
	}
	return 0
}

// writeSources prints where each discovered endpoint's data in use came
// from (EC2, or the state file until EC2 answers) and how old it is.
func writeSources(io IO, sources []discovery.Source) {
	if len(sources) == 0 {
		return
	}
	w := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DISCOVERED\tVPC ENDPOINT\tSERVES\tVPC IN\tSOURCE\tAGE")
	for _, s := range sources {
		source := "EC2"
		if s.From == discovery.FromStateFile {
			source = "state file (EC2 not reached yet)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Endpoint, s.ID, cmp.Or(s.Region, "global"), cmp.Or(s.VPCRegion, "-"), source,
			s.Age.Round(time.Second))
	}
	w.Flush()
	fmt.Fprintln(io.Stdout)
}
