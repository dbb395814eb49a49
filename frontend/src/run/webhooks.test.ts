import { describe, expect, it } from "vitest";
import { outcome, retryPending, type DeliveryAttempt } from "./webhooks";

const now = Date.parse("2026-11-25T10:00:00Z");

function attempt(fields: Partial<DeliveryAttempt>): DeliveryAttempt {
  return {
    id: 1, delivery_id: "d1", kind: "finished", url: "https://hooks.example.org/", attempt: 1,
    ok: false, status_code: 500, error: "", duration_ms: 12, next_retry_at: null,
    created_at: "2026-11-25T09:59:00Z", ...fields,
  };
}

describe("webhook deliveries", () => {
  it("keeps fetching while the latest attempt of a delivery has a retry due", () => {
    const due = attempt({ next_retry_at: "2026-11-25T10:00:05Z" });
    expect(retryPending([due], now)).toBe(true);
  });

  it("stops once a later attempt succeeded or the retries gave up", () => {
    const failed = attempt({ next_retry_at: "2026-11-25T10:00:05Z" });
    const delivered = attempt({ id: 2, attempt: 2, ok: true, status_code: 200 });
    expect(retryPending([failed, delivered], now)).toBe(false);
    expect(retryPending([attempt({ next_retry_at: null })], now)).toBe(false);
  });

  it("says what each attempt came to", () => {
    expect(outcome(attempt({ ok: true, status_code: 200 }))).toBe("delivered (HTTP 200)");
    expect(outcome(attempt({ next_retry_at: "2026-11-25T10:00:05Z" }))).toBe(
      "failed: HTTP 500; retrying",
    );
    expect(outcome(attempt({ status_code: null, error: "connection refused" }))).toBe(
      "failed: connection refused; gave up",
    );
  });
});
