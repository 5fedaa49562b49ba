package gateway

import (
	"context"
	"strings"

	"github.com/aigateway/ai-gateway/db"
)

// write stores b and returns what is left to retry.
//
// A database that fails as a whole (full, read-only, locked, gone: anything db.Rejected does not
// recognise) fails every row alike, so write stops at the first such failure and returns every
// unit not written yet, to be retried as it is: nothing is lost while the database is down.
//
// A database that rejects the values in b (db.Rejected) would reject the same batch forever, and
// every later request's accounting with it. So b is split in halves, each written on its own,
// until each rejected unit is alone; the others are written, and a unit rejected alone is stored
// in plain form or dropped (storeRejected).
func (w *writer) write(ctx context.Context, b db.AccountingBatch) (db.AccountingBatch, error) {
	err := w.attempt(ctx, b)
	switch {
	case err == nil:
		return db.AccountingBatch{}, nil
	case !db.Rejected(err):
		return b, err
	case batchUnits(&b) == 1:
		return w.storeRejected(ctx, b, err)
	}
	head, tail := splitBatch(b, batchUnits(&b)/2)
	if rest, err := w.write(ctx, head); err != nil {
		return joinBatches(rest, tail), err
	}
	return w.write(ctx, tail)
}

// storeRejected deals with one unit the database rejected alone: it is stored in plain form
// (plainBatch), or, when even that is rejected, dropped. Either way it is counted in
// ai_gateway_db_rows_rejected_total and logged. A failure of the database as a whole meanwhile
// leaves the unit as it was, to retry.
func (w *writer) storeRejected(ctx context.Context, b db.AccountingBatch, cause error) (db.AccountingBatch, error) {
	kind, clientID := describeUnit(&b)
	if plain, ok := plainBatch(b); ok {
		err := w.attempt(ctx, plain)
		if err == nil {
			w.m.rowsRejected.WithLabelValues(rejectedPlain).Inc()
			w.log.Warn("the database rejected an accounting row; stored it in plain form (ASCII text, no bodies)",
				"row", kind, "client_id", clientID, "err", cause)
			return db.AccountingBatch{}, nil
		}
		if !db.Rejected(err) {
			return b, err
		}
	}
	w.m.rowsRejected.WithLabelValues(rejectedDropped).Inc()
	w.log.Error("the database rejected an accounting row, even in plain form; dropped it",
		"row", kind, "client_id", clientID, "err", cause)
	return db.AccountingBatch{}, nil
}

// Outcomes of ai_gateway_db_rows_rejected_total.
const (
	rejectedPlain   = "stored_plain"
	rejectedDropped = "dropped"
)

// describeUnit names the one unit of b for the log: what it is and whose.
func describeUnit(b *db.AccountingBatch) (kind string, clientID int64) {
	switch {
	case len(b.Logs) > 0:
		return "request_log", b.Logs[0].ClientID
	case len(b.Usage) > 0:
		return "usage_daily", b.Usage[0].ClientID
	case len(b.ModelsCache) > 0:
		return "models_cache", b.ModelsCache[0].ClientID
	}
	for id := range b.LastUsed {
		return "last_used_at", id
	}
	return "", 0
}

// plainBatch is the plainest form of b's one unit that still says what happened: every text
// field printable ASCII (anything else becomes '?'), cut to its column, and no bodies. Numbers,
// times and counts are kept, so the usage still counts towards the client's quotas. ok is false
// when there is nothing to make plainer (a last-use time has no text).
func plainBatch(b db.AccountingBatch) (plain db.AccountingBatch, ok bool) {
	switch {
	case len(b.Logs) == 1:
		r := b.Logs[0]
		r.RequestID, r.Endpoint, r.Provider = plainText(r.RequestID), plainText(r.Endpoint), plainText(r.Provider)
		r.ModelRequested, r.ModelUsed = plainText(r.ModelRequested), plainText(r.ModelUsed)
		r.ErrorClass, r.ErrorMessage = plainText(r.ErrorClass), plainText(r.ErrorMessage)
		r.FinishReason, r.ClientIP = plainText(r.FinishReason), plainText(r.ClientIP)
		r.RequestBody, r.ResponseBody = "", ""
		return db.AccountingBatch{Logs: []db.RequestLog{r.Storable()}}, true
	case len(b.Usage) == 1:
		u := b.Usage[0]
		u.Day, u.Model = plainText(u.Day), plainText(u.Model)
		return db.AccountingBatch{Usage: []db.UsageDaily{u.Storable()}}, true
	case len(b.ModelsCache) == 1:
		m := b.ModelsCache[0]
		models := make([]string, len(m.Models))
		for i, name := range m.Models {
			models[i] = plainText(name)
		}
		m.Models = models
		return db.AccountingBatch{ModelsCache: []db.ModelsCacheUpdate{m}}, true
	}
	return b, false
}

// plainText replaces every character outside printable ASCII with '?'.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}
