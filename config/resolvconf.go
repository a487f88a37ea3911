package config

import (
	"bufio"
	"os"
	"strings"
)

func resolvConfPath(p string) string {
	if p == "" {
		return "/etc/resolv.conf"
	}
	return p
}

// resolvConfNameservers returns the nameserver lines of a resolv.conf file.
func resolvConfNameservers(p string) ([]string, error) {
	f, err := os.Open(resolvConfPath(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			// Drop an IPv6 zone (fe80::1%eth0): it cannot be dialled portably.
			out = append(out, strings.SplitN(fields[1], "%", 2)[0])
		}
	}
	return out, sc.Err()
}
