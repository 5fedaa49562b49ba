package routes

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// passwordSlots is how many argon2id checks may run at once, for every caller together. Each
// check holds 19 MiB and a core for tens of milliseconds, so the bound caps both the memory and
// the CPU that password guessing can take, however many addresses it comes from: at most half
// the cores, and never more than 4 (76 MiB).
var passwordSlots = max(1, min(4, runtime.NumCPU()/2))

// passwordBusyRetry is the Retry-After of a check refused because every slot was taken.
const passwordBusyRetry = time.Second

// errPasswordRefused is returned by checkPassword when it did not check the password at all.
type errPasswordRefused struct {
	wait time.Duration
	busy bool // every slot was taken, rather than the address or username being locked
}

func (e *errPasswordRefused) Error() string { return e.message() }

// seconds is the Retry-After value.
func (e *errPasswordRefused) seconds() int { return max(1, int(math.Ceil(e.wait.Seconds()))) }

func (e *errPasswordRefused) message() string {
	in := "Try again in " + strconv.Itoa(e.seconds()) + " seconds."
	if e.seconds() == 1 {
		in = "Try again in a second."
	}
	if e.busy {
		return "Too many logins are being checked right now. " + in
	}
	return "Too many failed attempts. " + in
}

// asRefusal returns the refusal in err, having set the response's Retry-After, or nil.
func asRefusal(c *fiber.Ctx, err error) *errPasswordRefused {
	var r *errPasswordRefused
	if !errors.As(err, &r) {
		return nil
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(r.seconds()))
	return r
}

// checkPassword is the one way an admin password is verified (the login form and the change
// password form): the attempt is reserved on the client's address and the username before the
// check, so parallel guesses cannot outrun the throttle, and the argon2id work runs in one of
// passwordSlots slots or not at all. It returns the account, db.ErrBadCredentials, or
// *errPasswordRefused when the password was not checked.
func (s *server) checkPassword(c *fiber.Ctx, username, password string) (*db.AdminUser, error) {
	attempt, wait := s.throttle.reserve("ip:"+s.clientIP(c), "user:"+strings.ToLower(username))
	if attempt == nil {
		return nil, &errPasswordRefused{wait: wait}
	}
	u, err := s.verifyInSlot(c.UserContext(), username, password)
	var refused *errPasswordRefused
	switch {
	case errors.As(err, &refused):
		attempt.cancel()
	case errors.Is(err, db.ErrBadCredentials):
		attempt.fail()
	case err != nil:
		attempt.cancel()
	default:
		attempt.succeed()
	}
	return u, err
}

// verifyInSlot runs the argon2id check when a slot is free; it never queues, so the excess of a
// flood costs a 429 and nothing else.
func (s *server) verifyInSlot(ctx context.Context, username, password string) (*db.AdminUser, error) {
	select {
	case s.passwordSlots <- struct{}{}:
	default:
		return nil, &errPasswordRefused{wait: passwordBusyRetry, busy: true}
	}
	defer func() { <-s.passwordSlots }()
	if s.passwordChecking != nil {
		s.passwordChecking()
	}
	return s.AdminUsers.Authenticate(ctx, username, password)
}
