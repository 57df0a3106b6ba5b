import { describe, expect, it } from "vitest";

import { scopeNote } from "./auth";

describe("scopeNote", () => {
  it("says nothing of an admin token, which may do anything", () => {
    expect(scopeNote(["read", "trade", "admin"])).toBe("");
  });

  it("says what a narrower token is limited to", () => {
    expect(scopeNote(["read", "trade"])).toBe(" (trade: no deletes or uploads)");
    expect(scopeNote(["read"])).toBe(" (read only)");
  });
});
