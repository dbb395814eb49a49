import { describe, expect, it } from "vitest";
import { verificationText } from "./verification";

describe("verificationText", () => {
  it("says the chain is intact, or where it breaks and what that means", () => {
    expect(verificationText({ ok: true, events: 12 })).toEqual({
      ok: true,
      text: "Hash chain verified: all 12 events are intact.",
    });
    const broken = verificationText({ ok: false, events: 12, first_bad_seq: 7, reason: "hash mismatch" });
    expect(broken.ok).toBe(false);
    expect(broken.text).toContain("broken at event 7 of 12: hash mismatch");
  });
});
