package db

import (
	"context"
	"errors"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Rejected reports whether err says the database refused the values it was given — a value it
// cannot hold, a constraint, SQL that a value made unparsable — rather than failing as a whole
// (full, read-only, locked, an I/O error, gone, canceled, timed out). Writing the same values
// again fails the same way; writing other values may well succeed. The background writer splits a
// rejected batch to find the rows at fault, and retries any other failure as it is.
//
// SQLite: the result codes ERROR, TOOBIG, CONSTRAINT, MISMATCH and RANGE. ERROR also covers a
// broken schema (no such table), which then rejects every row. PostgreSQL (any driver whose
// errors have SQLState, and pgdriver's): the classes 22 (data exception: invalid byte sequence, value too long)
// and 23 (integrity constraint violation), 54000 (program limit exceeded), and 42601 (syntax
// error: bun spells a value it cannot send, such as text with a NUL, as SQL that does not parse).
func Rejected(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code of an extended one
		case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH,
			sqlite3.SQLITE_RANGE:
			return true
		}
		return false
	}
	var pe pgdriver.Error
	if errors.As(err, &pe) {
		return rejectedState(pe.Field('C'))
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return rejectedState(pg.SQLState())
	}
	return false
}

// rejectedState reports whether a PostgreSQL SQLSTATE says the values were refused.
func rejectedState(code string) bool {
	return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23") || code == "54000" || code == "42601"
}
