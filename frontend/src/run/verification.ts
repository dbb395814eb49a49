// The sentence the audit page shows for GET /api/runs/{id}/verify.

export type Verification =
  | { ok: true; events: number }
  | { ok: false; events: number; first_bad_seq: number; reason: string };

export function verificationText(v: Verification): { text: string; ok: boolean } {
  if (v.ok) {
    return { ok: true, text: `Hash chain verified: all ${v.events} events are intact.` };
  }
  return {
    ok: false,
    text: `Hash chain broken at event ${v.first_bad_seq} of ${v.events}: ${v.reason}. The trail was changed after it was written.`,
  };
}
