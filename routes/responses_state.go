package routes

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/responses"
)

// stateTimeout bounds one read or write of the Responses state.
const stateTimeout = 5 * time.Second

// readResponsesRequest parses a CreateResponse body for the client's backend. When the backend
// serves the Responses API itself (native) the body is forwarded, and previous_response_id must
// name a response the client owns; else the input is made whole from the client's stored
// responses (previous_response_id, item_reference).
func (s *server) readResponsesRequest(c *fiber.Ctx, cl *gateway.Client) (req *responses.Request, door *responses.Door, native bool, err error) {
	req, err = responses.ParseRequest(c.Body())
	if err != nil {
		return nil, nil, false, err
	}
	door = responses.NewDoor(req)
	if native = gateway.Forwards(cl, door); native {
		if err := s.checkPrevious(cl, req); err != nil {
			return nil, nil, false, err
		}
		return req, door, true, nil
	}
	if err := req.Resolve(s.responseLoader(cl)); err != nil {
		return nil, nil, false, err
	}
	return req, door, false, nil
}

// checkPrevious refuses a previous_response_id the client does not own (a 404, as the upstream
// would answer for an id it does not know), before the request is forwarded.
func (s *server) checkPrevious(cl *gateway.Client, req *responses.Request) error {
	id := req.PreviousResponseID
	if id == "" {
		return nil
	}
	r, err := s.ownedResponse(cl, id)
	if err != nil {
		return err
	}
	if r == nil {
		return &gateway.Refusal{Kind: providers.KindNotFound, Code: "previous_response_not_found", Param: "previous_response_id",
			Message: "Previous response with id '" + id + "' not found."}
	}
	return nil
}

// ownedResponse is the client's row for response id: nil when it has none.
func (s *server) ownedResponse(cl *gateway.Client, id string) (*db.StoredResponse, error) {
	if s.Responses == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	return s.Responses.Get(ctx, cl.ID, id)
}

// recordOwner remembers that the client owns response id, which its backend keeps.
func (s *server) recordOwner(client int64, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	if err := s.Responses.Add(ctx, &db.StoredResponse{ID: id, ClientID: client, Forwarded: true}); err != nil {
		s.log.Error("response owner not recorded", "response_id", id, "client_id", client, "error", err.Error())
	}
}

// responseLoader reads the client's own stored responses; with no store there are none.
func (s *server) responseLoader(cl *gateway.Client) responses.Loader {
	return func(id string) (*responses.Stored, error) {
		if s.Responses == nil {
			return nil, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
		defer cancel()
		r, err := s.Responses.Get(ctx, cl.ID, id)
		if err != nil || r == nil || r.Forwarded {
			// A response another backend keeps is not state the gateway can translate.
			return nil, err
		}
		return &responses.Stored{Input: []byte(r.Input), Body: []byte(r.Body)}, nil
	}
}

// storeResponse keeps a finished response for continuations. It runs as the answer's last
// bytes are written, so a continuation sent right after the answer finds it; a failure is
// logged and costs only the continuation.
func (s *server) storeResponse(client int64, input []byte, o *responses.Object) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	err := s.Responses.Add(ctx, &db.StoredResponse{ID: o.ID, ClientID: client, Input: string(input), Body: string(o.JSON())})
	if err != nil {
		s.log.Error("response not stored", "response_id", o.ID, "client_id", client, "error", err.Error())
	}
}

// storedResponse is the client's stored response named by the path, or a 404.
func (s *server) storedResponse(c *fiber.Ctx) (*gateway.Client, *db.StoredResponse, error) {
	cl, _ := clientOf(c)
	id := c.Params("id")
	var r *db.StoredResponse
	if responseIDPattern.MatchString(id) {
		var err error
		if r, err = s.ownedResponse(cl, id); err != nil {
			return nil, nil, err
		}
	}
	if r == nil {
		return nil, nil, &gateway.Refusal{Kind: providers.KindNotFound, Param: "response_id",
			Message: "No response found with id '" + id + "'."}
	}
	return cl, r, nil
}

// responseIDPattern is what a response id may hold: it names an upstream path when forwarded.
var responseIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// forwardState asks the backend that keeps response r for path (r's id and what follows).
func (s *server) forwardState(c *fiber.Ctx, cl *gateway.Client, op, path string) error {
	ctx, cancel := s.upstreamContext(c)
	defer cancel()
	body, err := s.Gateway.ForwardState(ctx, cl, responses.NewDoor(&responses.Request{}), op, path)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// getResponse is GET /v1/responses/{id}: the client's stored response.
func (s *server) getResponse(c *fiber.Ctx) error {
	cl, r, err := s.storedResponse(c)
	if err != nil {
		return err
	}
	if c.Query("stream") == "true" {
		return &gateway.Refusal{Kind: providers.KindBadRequest, Param: "stream",
			Message: "replaying a stored response as a stream is not supported by this gateway; fetch it without stream"}
	}
	if r.Forwarded {
		return s.forwardState(c, cl, providers.OpRead, r.ID)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendString(r.Body)
}

// deleteResponse is DELETE /v1/responses/{id}.
func (s *server) deleteResponse(c *fiber.Ctx) error {
	cl, r, err := s.storedResponse(c)
	if err != nil {
		return err
	}
	if r.Forwarded {
		if err := s.forwardState(c, cl, providers.OpDelete, r.ID); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	if _, err := s.Responses.Delete(ctx, cl.ID, r.ID); err != nil {
		return err
	}
	if r.Forwarded {
		return nil // the upstream's answer is already written
	}
	return c.JSON(fiber.Map{"id": r.ID, "object": "response", "deleted": true})
}

// responseInputItems is GET /v1/responses/{id}/input_items: the items of the response's own
// turn, newest first unless order=asc, limit (1–100, default 20) at a time after the item id
// given as after.
func (s *server) responseInputItems(c *fiber.Ctx) error {
	cl, r, err := s.storedResponse(c)
	if err != nil {
		return err
	}
	if r.Forwarded {
		q := url.Values{}
		for _, k := range []string{"limit", "order", "after"} {
			if v := c.Query(k); v != "" {
				q.Set(k, v)
			}
		}
		path := r.ID + "/input_items"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		return s.forwardState(c, cl, providers.OpRead, path)
	}
	limit := 20
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return &gateway.Refusal{Kind: providers.KindBadRequest, Param: "limit", Message: "limit must be a number from 1 to 100"}
		}
		limit = n
	}
	order := c.Query("order", "desc")
	if order != "asc" && order != "desc" {
		return &gateway.Refusal{Kind: providers.KindBadRequest, Param: "order", Message: "order must be asc or desc"}
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(r.Input), &items); err != nil {
		return err
	}
	if order == "desc" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if after := c.Query("after"); after != "" {
		for i, it := range items {
			if itemID(it) == after {
				items = items[i+1:]
				break
			}
		}
	}
	more := len(items) > limit
	items = items[:min(len(items), limit)]
	var first, last any
	if len(items) > 0 {
		first, last = nullable(itemID(items[0])), nullable(itemID(items[len(items)-1]))
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return c.JSON(fiber.Map{"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": more})
}

func itemID(raw json.RawMessage) string {
	var it struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &it)
	return it.ID
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// responsesUnsupported answers the Responses endpoints the gateway serves on no backend.
func (s *server) responsesUnsupported(c *fiber.Ctx) error {
	return &gateway.Refusal{Kind: providers.KindBadRequest,
		Message: c.Method() + " " + c.Path() + " is not supported by this gateway: a background response cannot be cancelled through it"}
}
