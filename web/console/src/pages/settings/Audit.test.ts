import { expect, test } from "vitest";
import { changes, show, type AuditRecord } from "./Audit";

test("an audit entry reads as field: before → after", () => {
  const r: AuditRecord = {
    id: 1, at: "2026-12-05T10:00:00Z", actor_id: 1, actor_name: "Admin", actor_token_id: null, remote_addr: "", entity_kind: "line",
    entity_id: "1", action: "update", before: { regulation_id: null, auto_open: false }, after: { regulation_id: 3, auto_open: true },
  };
  expect(changes(r)).toEqual([
    { field: "auto_open", before: false, after: true },
    { field: "regulation_id", before: null, after: 3 },
  ]);
  expect(show(null)).toBe("∅");
  expect(show(["a", "b"])).toBe('["a","b"]');
  expect(show("2026-12-05T10:00:00Z", "en")).not.toContain("T10:00:00Z");
  expect(show("plain", "ru")).toBe("plain");
});
