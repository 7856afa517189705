import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { DialogSettings } from "./DialogSettings";

afterEach(() => vi.unstubAllGlobals());
// Typing key by key is slow on a busy machine; these tests type a lot.
vi.setConfig({ testTimeout: 30000 });

const me: Me = {
  user: { id: 1, email: "a@example.com", name: "Admin", role: "admin", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};

const current = { types: ["Support", "Refund"], reasons: ["Bug"], components: [] };

/** server answers GET with the current settings and PUT with what it was sent. */
function server(put?: (body: unknown) => Response) {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (url === "/api/v1/dialog-settings" && init?.method === "GET") return json(200, current);
    if (url === "/api/v1/dialog-settings" && init?.method === "PUT") {
      const body = JSON.parse(init.body as string);
      return put ? put(body) : json(200, body);
    }
    return json(404, { error: { code: "not_found", message: "no" } });
  });
}

function puts(fetch: ReturnType<typeof server>) {
  return fetch.mock.calls.filter((c) => (c[1] as RequestInit).method === "PUT").map((c) => JSON.parse((c[1] as RequestInit).body as string));
}

function renderIt(lang: "en" | "ru" = "en") {
  render(
    <LangProvider lang={lang}>
      <SessionContext.Provider value={me}>
        <DialogSettings />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

test("adding, renaming, reordering and removing entries PUTs the edited lists", async () => {
  const fetch = server();
  vi.stubGlobal("fetch", fetch);
  renderIt();
  await userEvent.type(await screen.findByLabelText("New entry for Request types"), "Complaint{Enter}");
  await userEvent.click(screen.getByRole("button", { name: "Move “Complaint” up" }));
  await userEvent.clear(screen.getByLabelText("Request types: entry 1"));
  await userEvent.type(screen.getByLabelText("Request types: entry 1"), "Help");
  await userEvent.click(screen.getByRole("button", { name: "Remove “Bug”" }));
  await userEvent.type(screen.getByLabelText("New entry for Reasons"), "Slow delivery");
  await userEvent.click(screen.getByRole("button", { name: "Add to Reasons" }));
  await userEvent.type(screen.getByLabelText("New entry for Components"), "Billing{Enter}");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));

  expect(await screen.findByRole("status")).toHaveTextContent("Saved");
  expect(puts(fetch)).toEqual([{ types: ["Help", "Complaint", "Refund"], reasons: ["Slow delivery"], components: ["Billing"] }]);
});

test("a repeated or empty entry, or no type at all, is refused before sending", async () => {
  const fetch = server();
  vi.stubGlobal("fetch", fetch);
  renderIt("ru");
  await userEvent.type(await screen.findByLabelText("Новый пункт: Типы обращений"), "Refund{Enter}");
  await userEvent.clear(screen.getByLabelText("Причины: пункт 1"));
  await userEvent.click(screen.getByRole("button", { name: "Сохранить" }));
  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("Ничего не отправлено");
  expect(alert).toHaveTextContent("Типы обращений: «Refund» указан дважды.");
  expect(alert).toHaveTextContent("Причины: пункт 1 пуст.");
  expect(puts(fetch)).toEqual([]);

  for (const name of ["Удалить «Support»", "Удалить «Refund»", "Удалить «Refund»"]) await userEvent.click(screen.getAllByRole("button", { name })[0]);
  await userEvent.click(screen.getByRole("button", { name: "Сохранить" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Оставьте хотя бы один тип обращения.");
  expect(puts(fetch)).toEqual([]);
});

test("the server's refusal is shown", async () => {
  const fetch = server(() => new Response(JSON.stringify({ error: { code: "forbidden", message: "only an admin" } }), { status: 403 }));
  vi.stubGlobal("fetch", fetch);
  renderIt();
  await screen.findByLabelText("Request types: entry 1");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("You are not allowed to do this.");
});
