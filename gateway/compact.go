package gateway

import (
	"context"

	"github.com/aigateway/ai-gateway/providers"
)

// compact serves OpCompact: the conversation is compacted by a backend that serves the door's
// protocol itself (forwarded with the policy applied). A backend the door is translated to has
// no such operation: its attempt is a 400, which ends the routing.
func (g *Gateway) compact(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	if err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		fw, ok := forwarder(up.provider, x.Door)
		if !ok {
			return &providers.Error{Kind: providers.KindBadRequest, Type: "invalid_request_error",
				Message: "the " + up.backend + " backend cannot compact a conversation: remote compaction needs a backend that serves the Responses API itself; compact the conversation locally"}
		}
		req := x.Forward
		req.Op, req.Body, req.Policy, req.Stream = OpCompact, x.Body, call.policy(up.model), false
		f, err := fw.Forward(ctx, req)
		if err != nil {
			return err
		}
		sum := f.Summary
		if !sum.HasUsage {
			sum.Usage = call.estimatedUsage(len(f.Body))
		}
		a.Body, a.Usage = f.Body, sum.Usage
		a.outcome = Outcome{Status: 200, Usage: sum.Usage, ModelUsed: sum.Model, RequestBody: x.Body, ResponseBody: f.Body}
		return nil
	}); err != nil {
		return err
	}
	call.FirstByte()
	call.End(a.outcome)
	return nil
}
