package gemini

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/<name>.golden, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file.\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// pretty indents JSON for a readable golden file; it fails the test when b is not valid JSON.
func pretty(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// dump renders any value (canonical structs) as indented JSON for a golden file.
func dump(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// readTestdata returns testdata/<name>.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// counter returns a deterministic replacement for Client.random: 000000000001, 000000000002, …
func counter() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("%012d", n)
	}
}

func ptr[T any](v T) *T { return &v }

// eventLog renders stream events one per line, with only the fields that are set.
func eventLog(evs []providers.StreamEvent) []byte {
	names := map[providers.EventKind]string{
		providers.EventStart: "start", providers.EventText: "text", providers.EventReasoning: "reasoning",
		providers.EventToolCall: "tool_call", providers.EventToolArgs: "tool_args", providers.EventFinish: "finish",
		providers.EventUsage: "usage",
	}
	var b bytes.Buffer
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s choice=%d", names[ev.Kind], ev.Choice)
		field := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&b, " %s=%q", k, v)
			}
		}
		field("id", ev.ID)
		field("model", ev.Model)
		field("text", ev.Text)
		field("signature", ev.Signature)
		if ev.Kind == providers.EventToolCall || ev.Kind == providers.EventToolArgs {
			fmt.Fprintf(&b, " index=%d", ev.ToolIndex)
		}
		field("tool_id", ev.ToolID)
		field("tool_name", ev.ToolName)
		field("args", ev.Args)
		field("finish", ev.FinishReason)
		if ev.Usage != nil {
			fmt.Fprintf(&b, " usage=%+v", *ev.Usage)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
