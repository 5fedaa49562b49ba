package routes

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the caller's address, for the access log, the request log and login throttling:
// the connection's peer, or, when the peer is a trusted proxy (server.trusted_proxies), the
// nearest address in X-Forwarded-For that is not one. The header is read from its right end,
// where the proxies append: whatever a client wrote at its left end is never believed.
func (s *server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	peer = peer.Unmap()
	if !s.trustedProxy(peer) {
		return peer.String()
	}
	client := peer
	hops := c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
	for i := len(hops) - 1; i >= 0; i-- {
		list := string(hops[i])
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				return client.String() // garbage: stop at the last address a trusted proxy vouched for
			}
			client = a.Unmap()
			if !s.trustedProxy(client) {
				return client.String()
			}
		}
	}
	return client.String()
}

func (s *server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
