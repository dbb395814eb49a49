import { describe, expect, it } from "vitest";
import { formatDeadline } from "./format";

describe("formatDeadline", () => {
  const now = new Date(2031, 4, 4, 8, 0).getTime();

  it("gives the time alone on the same day, with the date on another", () => {
    expect(formatDeadline(new Date(2031, 4, 4, 9, 5).toISOString(), now)).toBe("09:05");
    expect(formatDeadline(new Date(2031, 4, 6, 17, 30).toISOString(), now)).toBe("2031-05-06 17:30");
  });

  it("gives nothing without a deadline or for text that is not a date", () => {
    expect(formatDeadline(null, now)).toBeNull();
    expect(formatDeadline(undefined, now)).toBeNull();
    expect(formatDeadline("soon", now)).toBeNull();
  });
});
