package gateway

import (
	"maps"
	"slices"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

// A batch's units are what can be written on their own: each log row, usage row, client's
// last-use time and model list. The writer splits a rejected batch by units, in this order:
// log rows, usage rows, last-use times by client id, model lists.

// batchUnits counts the units of b.
func batchUnits(b *db.AccountingBatch) int {
	return len(b.Logs) + len(b.Usage) + len(b.LastUsed) + len(b.ModelsCache)
}

// splitBatch returns b's first n units and the rest. The halves share b's slices.
func splitBatch(b db.AccountingBatch, n int) (head, tail db.AccountingBatch) {
	take := func(total int) int { // how many of the next total units go to head
		k := min(n, total)
		n -= k
		return k
	}
	k := take(len(b.Logs))
	head.Logs, tail.Logs = b.Logs[:k:k], b.Logs[k:]
	k = take(len(b.Usage))
	head.Usage, tail.Usage = b.Usage[:k:k], b.Usage[k:]
	ids := slices.Sorted(maps.Keys(b.LastUsed))
	k = take(len(ids))
	head.LastUsed, tail.LastUsed = lastUsedOf(b.LastUsed, ids[:k]), lastUsedOf(b.LastUsed, ids[k:])
	k = take(len(b.ModelsCache))
	head.ModelsCache, tail.ModelsCache = b.ModelsCache[:k:k], b.ModelsCache[k:]
	return head, tail
}

func lastUsedOf(all map[int64]time.Time, ids []int64) map[int64]time.Time {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[int64]time.Time, len(ids))
	for _, id := range ids {
		m[id] = all[id]
	}
	return m
}

// joinBatches returns a's units followed by b's (what is left to retry of a split batch).
func joinBatches(a, b db.AccountingBatch) db.AccountingBatch {
	out := db.AccountingBatch{
		Logs:        slices.Concat(a.Logs, b.Logs),
		Usage:       slices.Concat(a.Usage, b.Usage),
		ModelsCache: slices.Concat(a.ModelsCache, b.ModelsCache),
	}
	if len(a.LastUsed)+len(b.LastUsed) > 0 {
		out.LastUsed = make(map[int64]time.Time, len(a.LastUsed)+len(b.LastUsed))
		maps.Copy(out.LastUsed, a.LastUsed)
		for id, t := range b.LastUsed {
			if t.After(out.LastUsed[id]) {
				out.LastUsed[id] = t
			}
		}
	}
	return out
}
