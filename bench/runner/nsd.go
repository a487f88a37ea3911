package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// nsdUpstream is NSD (a real authoritative server, written in C) serving
// what the fake public DNS serves, for -upstream nsd: the miss workload
// then measures both servers against an upstream that answers as fast as
// a production one, not against a Go fake sharing dnsperf's CPU.
type nsdUpstream struct {
	addr string
	cmd  *exec.Cmd
}

// nsdZones are the zones NSD serves: every name under example.com and
// every unlisted bucket answer 192.0.2.80 (wildcards), the endpoint's name
// its private addresses.
var nsdZones = map[string]string{
	"example.com": `example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600
example.com. 3600 IN NS ns.example.com.
ns.example.com. 3600 IN A 127.0.0.1
*.example.com. 3600 IN A 192.0.2.80
`,
	"s3.eu-west-2.amazonaws.com": `s3.eu-west-2.amazonaws.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600
s3.eu-west-2.amazonaws.com. 3600 IN NS ns.example.com.
*.s3.eu-west-2.amazonaws.com. 3600 IN A 192.0.2.80
`,
	"s3.eu-west-2.vpce.amazonaws.com": `s3.eu-west-2.vpce.amazonaws.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600
s3.eu-west-2.vpce.amazonaws.com. 3600 IN NS ns.example.com.
` + vpce + ` 60 IN A 10.0.1.10
` + vpce + ` 60 IN A 10.0.2.10
` + vpce + ` 60 IN AAAA fd00::10
`,
}

func startNSD(dir, cpu string) (*nsdUpstream, error) {
	if _, err := exec.LookPath("nsd"); err != nil {
		return nil, fmt.Errorf("-upstream nsd: nsd not found (apt-get install nsd)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir = filepath.Join(dir, "nsd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	ip-address: 127.0.0.1@%[2]d
	port: %[2]d
	username: ""
	chroot: ""
	zonesdir: "%[1]s"
	database: ""
	pidfile: "%[1]s/nsd.pid"
	xfrdfile: "%[1]s/xfrd.state"
	zonelistfile: "%[1]s/zone.list"
	logfile: "%[1]s/nsd.log"
	server-count: 1
	verbosity: 0
	hide-version: yes
	refuse-any: yes
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
`, dir, port)
	for name, zone := range nsdZones {
		if err := os.WriteFile(filepath.Join(dir, name+".zone"), []byte(zone), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "zone:\n\tname: %s\n\tzonefile: %s.zone\n", name, name)
	}
	file := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(file, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	n := &nsdUpstream{addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: exec.Command("taskset", "-c", cpu, "nsd", "-d", "-c", file)}
	n.cmd.Stderr = os.Stderr
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nsd: %w", err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		m := new(dns.Msg)
		m.SetQuestion("x.example.com.", dns.TypeA)
		if r, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, n.addr); err == nil && len(r.Answer) == 1 {
			return n, nil
		}
	}
	n.stop()
	return nil, fmt.Errorf("nsd did not start (see %s/nsd.log)", dir)
}

func (n *nsdUpstream) stop() {
	if n.cmd.Process != nil {
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
}
