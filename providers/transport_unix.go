//go:build unix

package providers

import (
	"errors"
	"net"
	"syscall"
)

// idleConnUsable reports whether an idle upstream connection can carry another request: nothing
// is waiting to be read on it. A server that closed it has sent an end of stream, a reset, or
// under TLS a close_notify first; any of these is pending data or an error for a peek.
func idleConnUsable(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	usable := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		usable = errors.Is(rerr, syscall.EAGAIN)
		return true
	})
	return err == nil && usable
}
