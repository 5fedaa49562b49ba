//go:build !unix

package providers

import "net"

// idleConnUsable can't peek at a socket here; a connection the server closed fails on use.
func idleConnUsable(net.Conn) bool { return true }
