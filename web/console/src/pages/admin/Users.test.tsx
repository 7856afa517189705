import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { Users } from "./Users";

afterEach(() => vi.unstubAllGlobals());

const admin: Me = {
  user: { id: 1, email: "admin@example.com", name: "Admin", role: "admin", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const user = { id: 4, email: "carol@example.com", name: "Carol", role: "operator", presence: "offline", created_at: "", updated_at: "", disabled: false, group_ids: [], capacity: 0 };

test("a new user without a password gets a one-time link; capacity and groups are saved after", async () => {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/groups" && method === "GET")
      return json(200, { items: [{ id: 1, name: "Ops", kind: "operators", permissions: [], member_ids: [2], line_ids: [], created_at: "", updated_at: "" }] });
    if (url === "/api/v1/users" && method === "POST")
      return json(201, { user, password_link: { token: "ldp_x", url: "/#set-password=ldp_x", expires_at: "2026-12-08T12:00:00Z" } });
    if (method === "PATCH") return json(200, {});
    return json(404, { error: { code: "not_found", message: url } });
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="ru">
      <SessionContext.Provider value={admin}>
        <Users loc={{ path: "/admin/users/new", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Имя"), "Carol");
  await userEvent.type(screen.getByLabelText("Эл. почта"), "carol@example.com");
  const cap = screen.getByLabelText("Вместимость (активных обращений)");
  await userEvent.clear(cap);
  await userEvent.type(cap, "4");
  await userEvent.click(await screen.findByRole("checkbox", { name: /Ops/ }));
  await userEvent.click(screen.getByRole("button", { name: "Создать" }));

  expect(await screen.findByDisplayValue(location.origin + "/#set-password=ldp_x")).toBeInTheDocument();
  const body = (u: string, m: string) => fetch.mock.calls.filter(([x, i]) => x === u && i?.method === m).map(([, i]) => JSON.parse(String(i?.body)));
  expect(body("/api/v1/users", "POST")).toEqual([{ email: "carol@example.com", name: "Carol", role: "operator" }]);
  expect(body("/api/v1/users/4", "PATCH")).toEqual([{ capacity: 4 }]);
  expect(body("/api/v1/groups/1", "PATCH")).toEqual([{ member_ids: [2, 4] }]);
}, 20_000);

test("a taken email is a clear conflict", async () => {
  vi.stubGlobal("fetch", vi.fn(async (url: string, init?: RequestInit) =>
    url === "/api/v1/users" && init?.method === "POST"
      ? json(409, { error: { code: "email_taken", message: "a user with email carol@example.com already exists" } })
      : json(200, { items: [] })));
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <Users loc={{ path: "/admin/users/new", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Name"), "Carol");
  await userEvent.type(screen.getByLabelText("Email"), "carol@example.com");
  await userEvent.click(screen.getByRole("button", { name: "Create" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Another user already has this email.");
}, 20_000);
