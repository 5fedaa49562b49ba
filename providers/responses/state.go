package responses

import (
	"encoding/json"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// Stored is a response as the gateway's state keeps it: the input items of its own turn
// (item references resolved) and its Response object.
type Stored struct {
	Input []byte
	Body  []byte
}

// Loader reads the caller's own stored response id: nil (and no error) when the caller has
// none by that id — unknown, deleted, expired or another client's are all the same answer.
type Loader func(id string) (*Stored, error)

// storedBody is what a continuation reads of a stored Response object.
type storedBody struct {
	PreviousResponseID *string           `json:"previous_response_id"`
	Output             []json.RawMessage `json:"output"`
}

// Resolve makes the input whole from the caller's stored state: each item_reference is
// replaced by the item it names, and previous_response_id puts the earlier conversation (each
// earlier turn's input and output, oldest first) before the input. Call it before Decode and
// before TurnInput. A reference or id the caller has no stored response for is a 404.
func (r *Request) Resolve(load Loader) error {
	if err := r.Translatable(); err != nil {
		return err
	}
	cache := map[string]*Stored{}
	get := func(id string) (*Stored, error) {
		if s, ok := cache[id]; ok {
			return s, nil
		}
		s, err := load(id)
		if err == nil {
			cache[id] = s
		}
		return s, err
	}
	for i := range r.items {
		if r.items[i].Type != "item_reference" {
			continue
		}
		it, err := referenced(r.items[i].ID, get)
		if err != nil {
			return err
		}
		r.items[i] = *it
	}
	r.turn = r.items
	if r.PreviousResponseID == "" {
		return nil
	}
	var earlier [][]Item
	for id := r.PreviousResponseID; id != ""; {
		s, err := get(id)
		if err != nil {
			return err
		}
		if s == nil {
			msg := "Previous response with id '" + r.PreviousResponseID + "' not found."
			if id != r.PreviousResponseID {
				msg = "Response '" + id + "', earlier in the conversation of '" + r.PreviousResponseID + "', is no longer stored."
			}
			return &providers.Error{Kind: providers.KindNotFound, Type: "invalid_request_error",
				Code: "previous_response_not_found", Param: "previous_response_id", Message: msg}
		}
		turn, body, err := s.items()
		if err != nil {
			return err
		}
		earlier = append(earlier, turn)
		id = ""
		if body.PreviousResponseID != nil {
			id = *body.PreviousResponseID
		}
	}
	var all []Item
	for i := len(earlier) - 1; i >= 0; i-- {
		all = append(all, earlier[i]...)
	}
	r.items = append(all, r.items...)
	return nil
}

// items is a stored response's input followed by its output.
func (s *Stored) items() ([]Item, *storedBody, error) {
	var input []json.RawMessage
	var body storedBody
	if err := json.Unmarshal(s.Input, &input); err != nil {
		return nil, nil, &providers.Error{Kind: providers.KindInternal, Message: "stored response input unreadable: " + err.Error()}
	}
	if err := json.Unmarshal(s.Body, &body); err != nil {
		return nil, nil, &providers.Error{Kind: providers.KindInternal, Message: "stored response unreadable: " + err.Error()}
	}
	items, perr := readItems(append(input, body.Output...), "stored input")
	if perr != nil {
		return nil, nil, perr
	}
	return items, &body, nil
}

// referenced is the stored output item id.
func referenced(id string, get Loader) (*Item, error) {
	notFound := &providers.Error{Kind: providers.KindNotFound, Type: "invalid_request_error", Param: "input",
		Message: "Item with id '" + id + "' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."}
	resp := responseOfItem(id)
	if resp == "" {
		return nil, notFound
	}
	s, err := get(resp)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, notFound
	}
	var body storedBody
	if json.Unmarshal(s.Body, &body) != nil {
		return nil, notFound
	}
	items, perr := readItems(body.Output, "stored output")
	if perr != nil {
		return nil, perr
	}
	for i := range items {
		if items[i].ID == id {
			return &items[i], nil
		}
	}
	return nil, notFound
}

// responseOfItem is the id of the response that produced output item id (see Door.itemID):
// "msg_<base>_<n>" came from "resp_<base>".
func responseOfItem(id string) string {
	_, rest, ok := strings.Cut(id, "_")
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return ""
	}
	return "resp_" + rest[:i]
}

// TurnInput is the JSON array of this turn's own input items, item references resolved: what
// the state keeps of the request (see Resolve).
func (r *Request) TurnInput() []byte {
	turn := r.turn
	if turn == nil {
		turn = r.items
	}
	list := make([]json.RawMessage, 0, len(turn))
	for _, it := range turn {
		list = append(list, it.raw)
	}
	return marshal(list)
}

// JSON is the Response object as JSON.
func (o *Object) JSON() []byte { return marshal(o) }
