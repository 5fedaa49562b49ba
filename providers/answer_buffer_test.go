package providers

import (
	"bytes"
	"strings"
	"testing"
)

// TestReadAnswerReusesMemoryWithoutMixingAnswers reads answers of several sizes through the pool,
// releasing each after copying it out as the front door does: every copy holds its own answer,
// whether the upstream sent exactly, less or more than it announced.
func TestReadAnswerReusesMemoryWithoutMixingAnswers(t *testing.T) {
	cases := []struct {
		body      string
		announced int64
	}{
		{strings.Repeat("a", 1000), 1000},
		{strings.Repeat("b", 10), 10},
		{strings.Repeat("c", 3000), 3000},
		{strings.Repeat("d", 500), 800},   // the upstream sent less than it announced
		{strings.Repeat("e", 2000), 1500}, // and more
		{strings.Repeat("f", 100), -1},    // no Content-Length: outside the pool
		{strings.Repeat("g", 70<<10), 70 << 10},
	}
	var copies []string
	for _, c := range cases {
		b, buf, err := ReadAnswer(strings.NewReader(c.body), c.announced, MaxAnswerBody)
		if err != nil {
			t.Fatalf("%d bytes: %v", len(c.body), err)
		}
		copies = append(copies, string(b))
		buf.Release()
	}
	for i, c := range cases {
		if copies[i] != c.body {
			t.Errorf("answer %d: got %d bytes starting %.10q, want %d bytes of %q", i, len(copies[i]), copies[i], len(c.body), c.body[:1])
		}
	}
}

// TestReadAnswerKeepsTheLimit: an answer longer than the limit is cut at it, as ReadBody does.
func TestReadAnswerKeepsTheLimit(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 5000)
	b, buf, err := ReadAnswer(bytes.NewReader(body), 1000, 2001)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Release()
	if len(b) != 2001 {
		t.Fatalf("read %d bytes, want the limit 2001", len(b))
	}
}
