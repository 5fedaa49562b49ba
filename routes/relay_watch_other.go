//go:build !unix

package routes

import "net"

// peerClosed reports nothing on this platform: a gone client is noticed by the next failed
// write (the relay's keepalive).
func peerClosed(net.Conn) bool { return false }

// watchable is false: there is nothing to watch with on this platform.
func watchable(net.Conn) bool { return false }
