/** A webhook delivery attempt as `GET /api/runs/{id}/webhook-deliveries` lists it. */
export interface DeliveryAttempt {
  id: number;
  delivery_id: string;
  kind: string;
  url: string;
  attempt: number;
  ok: boolean;
  status_code: number | null;
  error: string;
  duration_ms: number;
  next_retry_at: string | null;
  created_at: string;
}

/** Whether a retry is still to come, so the list is worth fetching again. */
export function retryPending(attempts: DeliveryAttempt[], now: number): boolean {
  const latest = new Map<string, DeliveryAttempt>();
  for (const a of attempts) {
    const seen = latest.get(a.delivery_id);
    if (!seen || a.attempt > seen.attempt) latest.set(a.delivery_id, a);
  }
  return [...latest.values()].some(
    (a) => !a.ok && a.next_retry_at !== null && Date.parse(a.next_retry_at) > now - 60_000,
  );
}

/** What one attempt came to, in words. */
export function outcome(a: DeliveryAttempt): string {
  if (a.ok) return `delivered (HTTP ${a.status_code})`;
  const why = a.status_code !== null ? `HTTP ${a.status_code}` : a.error || "no answer";
  return a.next_retry_at ? `failed: ${why}; retrying` : `failed: ${why}; gave up`;
}
