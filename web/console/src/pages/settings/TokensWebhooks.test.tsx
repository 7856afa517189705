import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { Tokens } from "./Tokens";
import { Webhooks } from "./Webhooks";

afterEach(() => vi.unstubAllGlobals());
vi.setConfig({ testTimeout: 30000 });

const me: Me = {
  user: { id: 3, email: "s@example.com", name: "Sam", role: "supervisor", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};

type Handler = (method: string, url: string, body: unknown) => [number, unknown] | undefined;

function server(h: Handler) {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const body = init?.body ? JSON.parse(init.body as string) : undefined;
    const [status, out] = h(method, url, body) ?? [404, { error: { code: "not_found", message: url } }];
    return status === 204 ? new Response(null, { status }) : new Response(JSON.stringify(out), { status, headers: { "Content-Type": "application/json" } });
  });
}

const token = { id: 9, user_id: 3, name: "CI", role: "", created_at: "2026-12-01T10:00:00Z", expires_at: null, last_used_at: null, revoked: false };

test("a new token is shown once, and a token can be revoked", async () => {
  let items = [token];
  const fetch = server((method, url, body) => {
    if (method === "GET" && url === "/api/v1/tokens") return [200, { items }];
    if (method === "POST" && url === "/api/v1/tokens") {
      const made = { ...token, id: 10, ...(body as object), token: "ldt_secret" };
      items = [...items, made];
      return [201, made];
    }
    if (method === "DELETE" && url === "/api/v1/tokens/9") {
      items = items.map((x) => (x.id === 9 ? { ...x, revoked: true } : x));
      return [200, { ...token, revoked: true }];
    }
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={me}>
        <Tokens />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(await screen.findByText("CI")).toBeInTheDocument();
  // A supervisor may not mint an admin token: the role list stops at their own.
  expect(within(screen.getByLabelText("Role")).queryByRole("option", { name: "admin" })).toBeNull();
  await userEvent.type(screen.getByLabelText("Name"), "Zapier");
  await userEvent.selectOptions(screen.getByLabelText("Role"), "operator");
  await userEvent.clear(screen.getByLabelText("Valid for, days"));
  await userEvent.type(screen.getByLabelText("Valid for, days"), "30");
  await userEvent.click(screen.getByRole("button", { name: "Create token" }));
  const shown = await screen.findByRole("region", { name: "The token" });
  expect(within(shown).getByRole("textbox")).toHaveValue("ldt_secret");
  const post = fetch.mock.calls.find((c) => (c[1] as RequestInit).method === "POST")!;
  expect(JSON.parse((post[1] as RequestInit).body as string)).toEqual({ name: "Zapier", role: "operator", expires_in_days: 30 });
  await userEvent.click(within(shown).getByRole("button", { name: "I have saved it" }));
  expect(screen.queryByRole("region", { name: "The token" })).toBeNull();

  const row = screen.getByText("CI").closest("tr")!;
  await userEvent.click(within(row).getByRole("button", { name: "Revoke" }));
  await userEvent.click(within(row).getByRole("button", { name: "Yes" }));
  expect(await within(row).findByText("revoked")).toBeInTheDocument();
  expect(fetch).toHaveBeenCalledWith("/api/v1/tokens/9", expect.objectContaining({ method: "DELETE" }));
});

test("a failed webhook delivery is retried from its log", async () => {
  const hook = { id: 4, url: "https://crm.example/hook", events: ["*"], line_id: null, description: "", enabled: true, created_at: "", updated_at: "" };
  let status = "failed";
  const fetch = server((method, url) => {
    if (url === "/api/v1/webhooks") return [200, { items: [hook] }];
    if (url === "/api/v1/lines") return [200, { items: [] }];
    if (method === "GET" && url.startsWith("/api/v1/webhooks/4/deliveries"))
      return [200, { items: [{ id: "d1", event: "conversation.closed", status, payload: {}, next_attempt_at: null, created_at: "2026-12-05T10:00:00Z", delivered_at: null, attempts: [{ at: "2026-12-05T10:00:01Z", status_code: 502, error: "", duration_ms: 40 }] }] }];
    if (method === "POST" && url === "/api/v1/webhooks/4/deliveries/d1/retry") {
      status = "pending";
      return [202, { id: "d1", status: "pending" }];
    }
  });
  vi.stubGlobal("fetch", fetch);
  const admin: Me = { ...me, user: { ...me.user, role: "admin" } };
  render(
    <LangProvider lang="ru">
      <SessionContext.Provider value={admin}>
        <Webhooks loc={{ path: "/admin/webhooks/4", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  const retry = await screen.findByRole("button", { name: "Повторить" });
  expect(screen.getByText("HTTP 502")).toBeInTheDocument();
  await userEvent.click(retry);
  const log = screen.getByRole("region", { name: "Журнал доставок" });
  expect(await within(log).findByRole("cell", { name: /ожидает/ })).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Повторить" })).toBeNull();
});
