import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { Wizard } from "./Wizard";

afterEach(() => vi.unstubAllGlobals());

const admin: Me = {
  user: { id: 1, email: "admin@example.com", name: "Admin", role: "admin", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const line = { id: 7, name: "Support", regulation_id: null, auto_open: false, auto_close_minutes: 0, auto_close_text: "", default_type: "Support", paused_client_message: "resume", merge_replies_after_close: false, created_at: "", updated_at: "" };
const group = (id: number, name: string, kind: string) => ({ id, name, kind, permissions: ["omni"], member_ids: [], line_ids: [2], created_at: "", updated_at: "" });

function backend() {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (method === "POST" && url === "/api/v1/lines") return json(201, line);
    if (method === "POST" && url === "/api/v1/channels")
      return json(201, { channel: { id: 3, kind: "api", name: "Site", line_id: 7, settings: { callback_url: "https://example.com/hook" }, enabled: true }, inbound_token: "ldi_TOKEN123", secret: "ldw_SECRET" });
    if (method === "GET" && url === "/api/v1/groups") return json(200, { items: [group(1, "Ops", "operators"), group(2, "Leads", "supervisors")] });
    if (method === "POST" && url === "/api/v1/groups") return json(201, { ...group(5, "Night", "operators"), line_ids: [] });
    if (method === "PATCH" && url.startsWith("/api/v1/groups/")) return json(200, group(Number(url.split("/").pop()), "x", "operators"));
    return json(404, { error: { code: "not_found", message: "no " + url } });
  });
}

function calls(fetch: ReturnType<typeof backend>, method: string, url: string) {
  return fetch.mock.calls.filter(([u, i]) => u === url && (i?.method ?? "GET") === method).map(([, i]) => JSON.parse(String(i?.body ?? "null")));
}

function renderWizard() {
  return render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <Wizard />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

test("the wizard creates a line, then an api channel on it, shows the token once, then puts groups on the line", async () => {
  const fetch = backend();
  vi.stubGlobal("fetch", fetch);
  renderWizard();

  await userEvent.type(screen.getByLabelText("Line name"), "Support");
  await userEvent.click(screen.getByLabelText("Open a conversation on every first client message"));
  await userEvent.click(screen.getByRole("button", { name: "Create line" }));
  expect(calls(fetch, "POST", "/api/v1/lines")).toEqual([{ name: "Support", auto_open: false }]);

  const name = await screen.findByLabelText("Channel name");
  await userEvent.clear(name);
  await userEvent.type(name, "Site");
  await userEvent.type(screen.getByLabelText("Callback URL"), "https://example.com/hook");
  await userEvent.click(screen.getByRole("button", { name: "Create channel" }));
  expect(calls(fetch, "POST", "/api/v1/channels")).toEqual([
    { kind: "api", name: "Site", line_id: 7, settings: { callback_url: "https://example.com/hook" } },
  ]);

  // The token, the secret, the inbound URL and a curl example, shown this once.
  expect(await screen.findByDisplayValue("ldi_TOKEN123")).toBeInTheDocument();
  expect(screen.getByDisplayValue("ldw_SECRET")).toBeInTheDocument();
  expect(screen.getByDisplayValue(`POST ${location.origin}/api/v1/channels/3/inbound`)).toBeInTheDocument();
  expect((screen.getByLabelText("Example request") as HTMLTextAreaElement).value).toContain("Authorization: Bearer ldi_TOKEN123");
  expect(screen.getByRole("button", { name: "Copy: Inbound token" })).toBeInTheDocument();

  await userEvent.click(screen.getByRole("button", { name: /I have saved the token/ }));
  expect(screen.queryByDisplayValue("ldi_TOKEN123")).toBeNull();
  expect(document.body.textContent).not.toContain("ldi_TOKEN123");

  // Step 3: one existing operators group, one supervisors group, and one created inline.
  await userEvent.click(await screen.findByLabelText("Ops"));
  await userEvent.click(screen.getByLabelText("Leads"));
  await userEvent.type(screen.getByLabelText("Group name"), "Night");
  await userEvent.click(screen.getByRole("button", { name: "Create group" }));
  expect(calls(fetch, "POST", "/api/v1/groups")).toEqual([{ name: "Night", kind: "operators", permissions: ["omni", "unassigned_queue"] }]);
  expect(await screen.findByLabelText("Night")).toBeChecked();
  await userEvent.click(screen.getByRole("button", { name: "Finish" }));

  expect(await screen.findByText("Line «Support» is ready to receive messages.")).toBeInTheDocument();
  expect(calls(fetch, "PATCH", "/api/v1/groups/1")).toEqual([{ line_ids: [2, 7] }]);
  expect(calls(fetch, "PATCH", "/api/v1/groups/2")).toEqual([{ line_ids: [2, 7] }]);
  expect(calls(fetch, "PATCH", "/api/v1/groups/5")).toEqual([{ line_ids: [7] }]);
}, 20_000);

test("the wizard lists every invalid field the server names", async () => {
  vi.stubGlobal("fetch", vi.fn(async () => json(400, { error: { code: "invalid_fields", message: "name is required; auto_close_minutes must be at least 0" } })));
  renderWizard();
  await userEvent.type(screen.getByLabelText("Line name"), " ");
  await userEvent.click(screen.getByRole("button", { name: "Create line" }));
  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("Please fix the following:");
  expect(alert.querySelectorAll("li")).toHaveLength(2);
}, 20_000);
