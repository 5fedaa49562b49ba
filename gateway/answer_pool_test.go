package gateway

import "testing"

// An answer released twice goes back to the pool once: the next two answers are two, not one
// shared by two requests.
func TestAnswerReleasedTwiceIsPooledOnce(t *testing.T) {
	a := newAnswer()
	a.Body = []byte("first")
	a.Release()
	a.Release()
	b, c := newAnswer(), newAnswer()
	if b == c {
		t.Fatal("two answers from the pool are the same answer")
	}
	if b.Body != nil || c.Body != nil {
		t.Fatalf("a pooled answer kept a body: %q %q", b.Body, c.Body)
	}
}
