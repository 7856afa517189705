import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { Channels } from "./Channels";

afterEach(() => vi.unstubAllGlobals());

const me = (role: "admin" | "supervisor"): Me => ({
  user: { id: 1, email: "a@example.com", name: "A", role, presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [2], queue_lines: [], permissions: ["omni_management"] },
});
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const channel = { id: 3, kind: "api", name: "Site", line_id: 2, settings: { callback_url: "https://example.com/hook" }, enabled: true, created_at: "", updated_at: "" };

let testAnswer: unknown = { ok: true, status_code: 204, duration_ms: 12 };

function backend() {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/channels/3" && method === "GET") return json(200, channel);
    if (url === "/api/v1/channels/3" && method === "PATCH") return json(200, { ...channel, ...JSON.parse(String(init?.body)) });
    if (url === "/api/v1/lines") return json(200, { items: [{ id: 2, name: "Sales" }] });
    if (url.startsWith("/api/v1/channels/3/history"))
      return json(200, { items: [{ id: 9, at: "2026-12-05T10:00:00Z", actor_id: 1, actor_name: "Admin", action: "create", before: null, after: { name: "Site" } }], next_before: null });
    if (url === "/api/v1/channels/3/rotate-token") return json(200, { inbound_token: "ldi_NEW" });
    if (url === "/api/v1/channels/3/test" && method === "POST") return json(200, testAnswer);
    return json(404, { error: { code: "not_found", message: url } });
  });
}

function renderPage(role: "admin" | "supervisor") {
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={me(role)}>
        <Channels loc={{ path: "/admin/channels/3", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

test("an api channel's page comes from the kind registry: callback, token rotation shown once, enable/disable, history", async () => {
  const fetch = backend();
  vi.stubGlobal("fetch", fetch);
  vi.stubGlobal("confirm", () => true);
  renderPage("admin");
  expect(await screen.findByDisplayValue("https://example.com/hook")).toBeInTheDocument();
  expect(await screen.findByText("Admin")).toBeInTheDocument(); // history row
  await userEvent.click(screen.getByRole("button", { name: "New inbound token" }));
  expect(await screen.findByDisplayValue("ldi_NEW")).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Disable" }));
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/channels/3", expect.objectContaining({ method: "PATCH", body: JSON.stringify({ enabled: false }) })),
  );
  expect(await screen.findByRole("button", { name: "Enable" })).toBeInTheDocument();
}, 20_000);

test("a supervisor reads the channel but gets no buttons that would be refused", async () => {
  vi.stubGlobal("fetch", backend());
  renderPage("supervisor");
  expect(await screen.findByDisplayValue("https://example.com/hook")).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "New inbound token" })).toBeNull();
  expect(screen.queryByRole("button", { name: "Disable" })).toBeNull();
}, 20_000);

test("a supervisor of the line tests the callback and reads what failed", async () => {
  vi.stubGlobal("fetch", backend());
  renderPage("supervisor");
  const button = await screen.findByRole("button", { name: "Test connection" });
  await userEvent.click(button);
  expect(await screen.findByRole("status")).toHaveTextContent("The callback answered 204 in 12 ms.");
  testAnswer = { ok: false, step: "answer", status_code: 503, error: "callback answered 503", duration_ms: 30 };
  await userEvent.click(button);
  expect(await screen.findByText("The callback answered 503, not a 2xx.")).toBeInTheDocument();
}, 20_000);
