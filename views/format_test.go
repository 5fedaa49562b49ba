package views

import "testing"

func TestNumberFormats(t *testing.T) {
	for _, tt := range []struct {
		n                  int64
		thousands, compact string
	}{
		{0, "0", "0"},
		{999, "999", "999"},
		{1000, "1,000", "1k"},
		{1234, "1,234", "1.2k"},
		{12_345, "12,345", "12k"},
		{999_999, "999,999", "1000k"},
		{2_500_000, "2,500,000", "2.5M"},
		{7_800_000_000, "7,800,000,000", "7.8B"},
		{-1234, "-1,234", "-1.2k"},
	} {
		if got := Thousands(tt.n); got != tt.thousands {
			t.Errorf("Thousands(%d) = %q, want %q", tt.n, got, tt.thousands)
		}
		if got := Compact(tt.n); got != tt.compact {
			t.Errorf("Compact(%d) = %q, want %q", tt.n, got, tt.compact)
		}
	}
}

func TestMeter(t *testing.T) {
	for _, tt := range []struct {
		m           Meter
		text, level string
		fill        int
	}{
		{Meter{Used: 0, Limit: 1000}, "0 / 1,000", "ok", 0},
		{Meter{Used: 1, Limit: 1000}, "1 / 1,000", "ok", 1},
		{Meter{Used: 800, Limit: 1000}, "800 / 1,000", "warn", 80},
		{Meter{Used: 1000, Limit: 1000}, "1,000 / 1,000", "full", 100},
		{Meter{Used: 1500, Limit: 1000}, "1,500 / 1,000", "full", 100},
		{Meter{Used: 5, Limit: 0}, "5 · no limit", "ok", 0},
		{Meter{Used: 57, Refused: 9, Limit: 0}, "57 (9 refused) · no limit", "ok", 0},
		{Meter{Used: 57, Refused: 9, Limit: 48}, "57 (9 refused) · 48 / 48 counted", "full", 100},
	} {
		if tt.m.Text() != tt.text || tt.m.Level() != tt.level || tt.m.Fill() != tt.fill {
			t.Errorf("%+v: %q %q %d, want %q %q %d", tt.m, tt.m.Text(), tt.m.Level(), tt.m.Fill(), tt.text, tt.level, tt.fill)
		}
	}
}
