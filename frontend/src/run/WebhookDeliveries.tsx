import { useEffect, useState } from "react";
import { api } from "../lib/api";
import { outcome, retryPending, type DeliveryAttempt } from "./webhooks";

const RETRY_POLL_MS = 5000;

/** Every attempt to tell the team's webhooks about this run, refreshed while retries are due. */
export function WebhookDeliveries({ runId, status }: { runId: string; status: string }) {
  const [attempts, setAttempts] = useState<DeliveryAttempt[]>([]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const found = await api<DeliveryAttempt[]>("GET", `/runs/${runId}/webhook-deliveries`);
        if (stopped) return;
        setAttempts(found);
        if (retryPending(found, Date.now())) timer = setTimeout(load, RETRY_POLL_MS);
      } catch {
        // Deliveries are secondary on this page; the next status change fetches them again.
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [runId, status]);

  if (attempts.length === 0) return null;
  return (
    <section className="webhook-deliveries" aria-label="Webhook deliveries">
      <h2>Webhook deliveries</h2>
      <ul>
        {attempts.map((a) => (
          <li key={a.id} className={a.ok ? "ok" : "failed"}>
            <span>
              {a.kind}, attempt {a.attempt}: {outcome(a)}
            </span>
            <span className="muted">
              {a.url} · {a.duration_ms} ms · {new Date(a.created_at).toLocaleTimeString()}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
