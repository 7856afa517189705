import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { InboxSettings } from "./InboxSettings";

afterEach(() => vi.unstubAllGlobals());

const me: Me = {
  user: { id: 1, email: "a@example.com", name: "Admin", role: "admin", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};

function server() {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (url === "/api/v1/console-settings" && init?.method === "GET")
      return json(200, { wait_warn_seconds: 120, wait_alert_seconds: 300, channel_kinds: [], statuses: ["queued", "active", "paused"] });
    if (url === "/api/v1/console-settings" && init?.method === "PUT") return json(200, JSON.parse(init.body as string));
    return json(404, { error: { code: "not_found", message: "no" } });
  });
}

function renderIt(lang: "en" | "ru" = "en") {
  render(
    <LangProvider lang={lang}>
      <SessionContext.Provider value={me}>
        <InboxSettings />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

const puts = (fetch: ReturnType<typeof server>) =>
  fetch.mock.calls.filter((c) => (c[1] as RequestInit).method === "PUT").map((c) => JSON.parse((c[1] as RequestInit).body as string));

test("the admin picks statuses, folders and thresholds in minutes; the server gets seconds", async () => {
  const fetch = server();
  vi.stubGlobal("fetch", fetch);
  renderIt();
  const warn = await screen.findByLabelText("Amber after, minutes");
  expect(warn).toHaveValue(2);
  await userEvent.clear(warn);
  await userEvent.type(warn, "3");
  await userEvent.clear(screen.getByLabelText("Red after, minutes"));
  await userEvent.type(screen.getByLabelText("Red after, minutes"), "10");
  await userEvent.click(screen.getByRole("checkbox", { name: "paused" }));
  await userEvent.click(screen.getByRole("checkbox", { name: "Telegram" }));
  await userEvent.click(screen.getByRole("checkbox", { name: "Email" }));
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  expect(await screen.findByText("Saved")).toBeInTheDocument();
  expect(puts(fetch)).toEqual([{ wait_warn_seconds: 180, wait_alert_seconds: 600, channel_kinds: ["telegram", "email"], statuses: ["queued", "active"] }]);
});

test("red before amber, a fraction of a minute or no status at all is refused before anything is sent", async () => {
  const fetch = server();
  vi.stubGlobal("fetch", fetch);
  renderIt("ru");
  const warn = await screen.findByLabelText("Жёлтый через, минут");
  await userEvent.clear(warn);
  await userEvent.type(warn, "9");
  for (const s of ["в очереди", "в работе", "на паузе"]) await userEvent.click(screen.getByRole("checkbox", { name: s }));
  await userEvent.click(screen.getByRole("button", { name: "Сохранить" }));
  expect(await screen.findByText("Жёлтый должен наступать раньше красного.")).toBeInTheDocument();
  expect(screen.getByText("Отметьте хотя бы один статус.")).toBeInTheDocument();
  await userEvent.clear(warn);
  await userEvent.type(warn, "1.5");
  expect(puts(fetch)).toEqual([]);
});
