package routes

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/db"
)

// Whole answers, their bodies' memory and the upstream request bodies are reused from request to
// request (gateway's answer pool, providers' answer buffers, rewritten bodies sent as they are):
// under concurrent requests, each caller still gets its own answer, whole, with its own headers.
func TestConcurrentWholeAnswersKeepTheirOwn(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
			MaxTokens int `json:"max_tokens"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request body: "+string(b), http.StatusBadRequest)
			return
		}
		// The echo is long enough for the answer pool's larger buffers, and says whether the
		// policy's rewrite (max_tokens) reached the upstream.
		echo := strings.Repeat(req.Messages[len(req.Messages)-1].Content+" ", 40)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":`+
			`{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":%d,"total_tokens":2}}`,
			echo, req.MaxTokens)
	}))
	defer up.Close()
	e := newEdge(t, withGateway(t))
	_, key := e.createClient(&db.Client{Name: "app", Backend: "openai-compatible", BaseURL: up.URL + "/v1",
		ToolMode: "passthrough", Active: true, DefaultModel: "m", MaxOutputTokens: 77, RequestsPerMinute: 100000}, "sk-upstream-0123456789")

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				word := fmt.Sprintf("caller%d-request%d", g, i)
				resp, body := e.do(newReq("POST", "/v1/chat/completions",
					`{"model":"m","messages":[{"role":"user","content":"`+word+`"}]}`,
					"Authorization", "Bearer "+key, "Content-Type", "application/json"))
				var got struct {
					Choices []struct {
						Message struct {
							Content string `json:"content"`
						} `json:"message"`
					} `json:"choices"`
					Usage struct {
						CompletionTokens int `json:"completion_tokens"`
					} `json:"usage"`
				}
				if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got.Choices) != 1 {
					t.Errorf("%s: status %d, body %s", word, resp.StatusCode, body)
					return
				}
				if want := strings.Repeat(word+" ", 40); got.Choices[0].Message.Content != want {
					t.Errorf("%s got another answer: %.80s…", word, got.Choices[0].Message.Content)
					return
				}
				if got.Usage.CompletionTokens != 77 {
					t.Errorf("%s: the upstream saw max_tokens %d, want the client's cap 77", word, got.Usage.CompletionTokens)
					return
				}
				if resp.Header.Get("X-Ratelimit-Limit-Requests") == "" {
					t.Errorf("%s: no x-ratelimit headers: %v", word, resp.Header)
					return
				}
			}
		}()
	}
	wg.Wait()
}
