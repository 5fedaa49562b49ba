package jsonscan

import "testing"

func TestObjectEditKeepsOrderAndRawValues(t *testing.T) {
	in := `{"model":"a", "temperature": 0,"x_unknown":{"deep":[1, 2]},"max_tokens":10,"dup":1,"dup":2}`
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(o.Get("dup")); got != "2" {
		t.Fatalf("get(dup) = %s, want the last value like encoding/json", got)
	}
	o.Set("model", []byte(`"b"`))
	o.Rename("max_tokens", "max_completion_tokens")
	o.Set("dup", []byte(`3`))
	o.Set("new", []byte(`true`))
	o.Del("nothing")
	want := `{"model":"b","temperature": 0,"x_unknown":{"deep":[1, 2]},"max_completion_tokens":10,"dup":3,"new":true}`
	if got := string(o.Bytes()); got != want {
		t.Fatalf("edited object:\n got %s\nwant %s", got, want)
	}
	// rename onto an existing key drops the source.
	o.Set("max_tokens", []byte(`5`))
	o.Rename("max_tokens", "max_completion_tokens")
	if o.Has("max_tokens") || string(o.Get("max_completion_tokens")) != "10" {
		t.Fatalf("rename onto existing key: %s", o.Bytes())
	}
}

func TestParseObjectRejects(t *testing.T) {
	for _, in := range []string{`[1]`, `"s"`, `{"a":}`, `{"a":1`, ``} {
		if _, err := ParseObject([]byte(in)); err == nil {
			t.Errorf("ParseObject(%q) succeeded", in)
		}
	}
}

func TestObjectKeepsUntouchedMembersByteForByte(t *testing.T) {
	in := "{ \"a\" :\t1 ,\n\"b\\u0063\": [ 2 ] , \"c\":3 }"
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() != 3 || string(o.Get("bc")) != "[ 2 ]" {
		t.Fatalf("Len %d, Get(bc) %q", o.Len(), o.Get("bc"))
	}
	o.Set("c", []byte(`4`))
	o.Del("nothing")
	want := "{\"a\" :\t1,\"b\\u0063\": [ 2 ],\"c\":4}"
	if got := string(o.Bytes()); got != want || !o.Changed() {
		t.Fatalf("got %s, want %s (changed %v)", got, want, o.Changed())
	}
}

// An Object given back with Release and handed out again by ParseObject holds only the new
// object's members, unchanged, whatever the released one held or was told.
func TestObjectReleaseReuse(t *testing.T) {
	first, err := ParseObject([]byte(`{"a":1,"b":[2],"c":"three","d":null}`))
	if err != nil {
		t.Fatal(err)
	}
	first.Set("e", []byte(`5`))
	first.Release()
	for range 3 {
		o, err := ParseObject([]byte(` {"model":"m", "stream":true} `))
		if err != nil {
			t.Fatal(err)
		}
		if o.Len() != 2 || o.Changed() || o.Has("a") || o.Has("e") || string(o.Bytes()) != `{"model":"m","stream":true}` {
			t.Fatalf("reused object: %d members, changed %v, %s", o.Len(), o.Changed(), o.Bytes())
		}
		o.Release()
	}
	if _, err := ParseObject([]byte(`{"a":`)); err != ErrSyntax {
		t.Fatalf("broken object: %v", err)
	}
}
