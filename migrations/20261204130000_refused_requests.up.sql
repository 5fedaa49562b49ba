-- Refused requests (403, 429, 400 from the gateway's own checks) are requests like any other in
-- the dashboard's totals; usage_daily counts how many of its requests were refused, so a restart
-- restores both the totals (requests) and the daily request quota (requests - refused: only
-- forwarded requests count against it). request_log marks the refused rows, so the rate-limit
-- windows can be restored at start from the forwarded ones.
ALTER TABLE usage_daily ADD COLUMN refused BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE request_log ADD COLUMN refused BOOLEAN NOT NULL DEFAULT FALSE;
