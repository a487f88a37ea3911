//go:build !linux

package transport

import (
	"errors"
	"net"
)

// steer: elsewhere a listen address has one socket, nothing to steer.
func steer(*net.UDPConn, bool) error {
	return errors.New("reuseport groups are only steered on Linux")
}
