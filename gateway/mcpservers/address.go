package mcpservers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// ErrPrivateAddress is returned when an MCP server's address is loopback, private (RFC 1918,
// fc00::/7), link-local, a cloud metadata address, or otherwise not on the public internet, and
// mcp.allow_private is off.
var ErrPrivateAddress = errors.New("the address is loopback, private, link-local or a metadata address (set mcp.allow_private to allow it)")

// metadata are cloud metadata addresses that are not link-local already.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6 (inside fc00::/7 too)
}

// refusedAddr reports whether a is an address an MCP server URL may not reach by default.
func refusedAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return true
	}
	if a.Is4() && netip.MustParsePrefix("100.64.0.0/10").Contains(a) { // carrier-grade NAT
		return true
	}
	for _, p := range metadata {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckURL reports what is wrong with raw as an MCP server URL: it must be http(s) with a host,
// and unless allowPrivate every address its host resolves to must be public. The dialer checks
// again at every connection (see dialControl), so a name that later resolves elsewhere (DNS
// rebinding) is refused then.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http:// or https:// URL with a host")
	}
	if u.User != nil {
		return errors.New("must not carry a user or password; use a header instead")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if refusedAddr(a) {
			return ErrPrivateAddress
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot resolve %s", host)
	}
	for _, a := range addrs {
		if refusedAddr(a) {
			return ErrPrivateAddress
		}
	}
	return nil
}

// dialControl refuses, at connect time, an address CheckURL would refuse: the check sees the
// address actually dialled, after name resolution.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("mcp server address %q: %w", address, err)
	}
	if refusedAddr(ap.Addr()) {
		return ErrPrivateAddress
	}
	return nil
}
