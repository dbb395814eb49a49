import { describe, expect, it } from "vitest";
import { ApiError } from "./api";

describe("ApiError", () => {
  it("keeps the status and body the API answered with", () => {
    const error = new ApiError(422, { problems: [] });
    expect(error.status).toBe(422);
    expect(error.body).toEqual({ problems: [] });
  });
});
