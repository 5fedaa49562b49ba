package gateway

import (
	"errors"
	"io"

	"github.com/aigateway/ai-gateway/providers"
)

// Stream is a streamed answer on its way to the caller. Next returns the caller's wire bytes,
// frame by frame (the door's in-band error event when the upstream failed, its closing bytes
// at the end); End settles the call once the stream is over. Next must be called from one
// goroutine; End and Close may be called from another once Next will not be called again.
type Stream struct {
	call    *Call
	door    providers.Door
	frames  providers.Frames // a forwarded stream
	events  providers.Stream // a translated stream
	w       providers.StreamWriter
	logBody []byte
	// cancel ends the call's upstream context (Close).
	cancel func()

	// What a translated stream reported (a forwarded one keeps it in frames.Summary).
	usage    providers.Usage
	hasUsage bool
	finish   string
	model    string
	// outBytes counts answer bytes, for an estimate when the upstream reports no usage.
	outBytes int
	ended    bool
}

func newStream(call *Call, x *Exchange, frames providers.Frames, events providers.Stream) *Stream {
	s := &Stream{call: call, door: x.Door, frames: frames, events: events, logBody: logCopy(x.Body)}
	if frames != nil {
		s.w = x.Door.NewStream("", call.model)
	}
	return s
}

// ContentType is the Content-Type of the stream's response.
func (s *Stream) ContentType() string { return s.door.StreamContentType() }

// Keepalive is what to write while the upstream is silent.
func (s *Stream) Keepalive() []byte { return s.door.Keepalive() }

// Next appends the next piece of the answer to dst. At the end it appends the closing bytes and
// returns io.EOF; when the upstream failed (or ended the stream before the answer was complete)
// it appends the in-band error event and returns the *providers.Error.
func (s *Stream) Next(dst []byte) ([]byte, error) {
	start := len(dst)
	var err error
	if s.frames != nil {
		dst, err = s.nextFrame(dst)
	} else {
		dst, err = s.nextEvent(dst)
	}
	// Some upstreams echo the key they were sent (in error events, in echoed headers).
	return append(dst[:start], s.call.client.Redact(dst[start:])...), err
}

func (s *Stream) nextFrame(dst []byte) ([]byte, error) {
	f, err := s.frames.Next()
	if errors.Is(err, io.EOF) {
		return s.w.Finish(dst), io.EOF
	}
	if err != nil {
		e := s.call.client.RedactError(providers.AsError(err))
		return s.w.Error(dst, e), e
	}
	if f.Content {
		s.call.FirstByte()
		s.outBytes += 4 * max(f.Pieces, 1) // a streamed chunk carries about one token per answer
	}
	return s.w.Frame(dst, f), nil
}

func (s *Stream) nextEvent(dst []byte) ([]byte, error) {
	for {
		ev, err := s.events.Next()
		if s.w == nil {
			// The first event names the answer; an upstream that fails before it still gets a
			// well-formed stream with the error in it.
			id, m := "", s.call.model
			if err == nil && ev.Kind == providers.EventStart {
				id = ev.ID
				if ev.Model != "" {
					m = ev.Model
				}
			}
			s.model = m
			s.w = s.door.NewStream(id, m)
		}
		if errors.Is(err, io.EOF) {
			return s.w.Finish(dst), io.EOF
		}
		if err != nil {
			e := s.call.client.RedactError(providers.AsError(err))
			return s.w.Error(dst, e), e
		}
		switch ev.Kind {
		case providers.EventUsage:
			if ev.Usage != nil {
				s.usage, s.hasUsage = *ev.Usage, true
			}
		case providers.EventFinish:
			if ev.Choice == 0 {
				s.finish = ev.FinishReason
			}
		case providers.EventText, providers.EventReasoning, providers.EventToolCall, providers.EventToolArgs:
			s.call.FirstByte()
			s.outBytes += len(ev.Text) + len(ev.Args) + len(ev.ToolName)
		}
		dst = s.w.Encode(dst, ev)
		if len(dst) > 0 {
			return dst, nil
		}
	}
}

// Close releases the upstream; it is safe to call more than once.
func (s *Stream) Close() error {
	var err error
	if s.frames != nil {
		err = s.frames.Close()
	} else {
		err = s.events.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	return err
}

// End settles the call once the stream is over: clientGone when the caller went away (499),
// err the upstream's failure if any (io.EOF is none). Only the first call counts.
func (s *Stream) End(clientGone bool, err error) {
	if s.ended {
		return
	}
	s.ended = true
	usage, hasUsage, finish, model := s.usage, s.hasUsage, s.finish, s.model
	if s.frames != nil {
		sum := s.frames.Summary()
		usage, hasUsage, finish, model = sum.Usage, sum.HasUsage, sum.FinishReason, sum.Model
	}
	if !hasUsage {
		usage = s.call.estimatedUsage(s.outBytes)
	}
	o := Outcome{Status: 200, Usage: usage, FinishReason: finish, ModelUsed: model, RequestBody: s.logBody}
	switch {
	case clientGone:
		o.Status, o.Err = 499, &providers.Error{Kind: providers.KindCanceled, Message: "client closed the stream"}
	case err != nil && !errors.Is(err, io.EOF):
		e := s.call.client.RedactError(providers.AsError(err))
		o.Status, o.Err = e.Status(), e
	}
	s.call.End(o)
}
