import { expect, test } from "vitest";
import type { Me, Permission, Role } from "../../lib/types";
import { routes } from "../../routes";

// Each settings screen is open to whoever the API lets write what it edits (api/server.go).
function user(role: Role, permissions: Permission[] = []): Me {
  return {
    user: { id: 2, email: "u@example.com", name: "U", role, presence: "online", created_at: "2026-01-01T00:00:00Z" },
    access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions },
  };
}

const settingsPaths = ["/admin/regulations", "/admin/templates", "/admin/dialog-settings", "/admin/standard-messages", "/admin/webhooks", "/admin/audit", "/admin/tokens"];

function open(me: Me): string[] {
  return routes.filter((r) => r.adminNav && settingsPaths.includes(r.adminNav.path) && r.allowed(me)).map((r) => r.adminNav!.path);
}

test("settings screens follow the API's rules", () => {
  expect(open(user("admin"))).toEqual(settingsPaths);
  // ruleOmniSettings lets a supervisor edit templates; dialog settings need their own permission.
  expect(open(user("supervisor"))).toEqual(["/admin/templates", "/admin/tokens"]);
  expect(open(user("supervisor", ["dialog_settings"]))).toEqual(["/admin/templates", "/admin/dialog-settings", "/admin/tokens"]);
  expect(open(user("operator"))).toEqual(["/admin/tokens"]);
  expect(open(user("operator", ["omni_settings"]))).toEqual(["/admin/templates", "/admin/tokens"]);
});

test("a screen's sub-pages belong to it", () => {
  const find = (p: string) => routes.find((r) => r.match(p))?.adminNav?.path;
  expect(find("/admin/regulations/new")).toBe("/admin/regulations");
  expect(find("/admin/regulations/12")).toBe("/admin/regulations");
  expect(find("/admin/webhooks/3")).toBe("/admin/webhooks");
});
