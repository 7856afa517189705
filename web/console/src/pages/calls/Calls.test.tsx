import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { Calls } from "./Calls";

afterEach(() => vi.unstubAllGlobals());

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const base = {
  channel_id: 3, line_id: 2, direction: "in", to: "74950000000", state: "ended", missed: false, cause: "normalClearing",
  answered_by: { id: 5, name: "Mira" }, conversation: null, started_at: "2026-12-06T09:00:00Z", answered_at: "2026-12-06T09:00:05Z",
  ended_at: "2026-12-06T09:03:10Z",
};
const known = { ...base, id: 1, from: "89161234567", client_number: "79161234567", contact: { id: 9, name: "Иван Петров", email: "", phone: "+79161234567" },
  recording_url: "/api/v1/files/rec-1" };
const unknown = { ...base, id: 2, from: "+7 999 000-00-01", client_number: "79990000001", contact: null, missed: true, cause: "noAnswer",
  answered_by: null, answered_at: null };

function setup(extra?: (url: string, init?: RequestInit) => Response | undefined) {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const r = extra?.(url, init);
    if (r) return r;
    if (url.startsWith("/api/v1/calls?")) return json(200, { calls: [unknown, known] });
    if (url === "/api/v1/calls/1") return json(200, known);
    if (url === "/api/v1/calls/2") return json(200, unknown);
    if (url === "/api/v1/dialog-settings") return json(200, { types: ["Support", "Sales"], reasons: [], components: [] });
    return json(404, { error: { code: "not_found", message: url } });
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

test("the log lists calls with their client or the unknown number, and a missed call says so", async () => {
  setup();
  render(<LangProvider lang="en"><Calls selected={null} /></LangProvider>);
  const rows = await screen.findAllByRole("row");
  expect(within(rows[1]).getByText("Unknown number")).toBeInTheDocument();
  expect(within(rows[1]).getByText("Missed (noAnswer)")).toBeInTheDocument();
  expect(within(rows[2]).getByText("Иван Петров")).toBeInTheDocument();
  expect(within(rows[2]).getByText("3m")).toBeInTheDocument();
});

test("a known caller's card plays the recording and makes a resolved conversation with its type and solution", async () => {
  const fetch = setup((url, init) =>
    url === "/api/v1/calls/1/conversation" && init?.method === "POST" ? json(201, { number: 77 }) : undefined,
  );
  render(<LangProvider lang="en"><Calls selected={1} /></LangProvider>);
  const card = await screen.findByRole("complementary", { name: /Incoming call/ });
  expect(await within(card).findByText("Иван Петров")).toBeInTheDocument();
  expect(card.querySelector("audio")?.getAttribute("src")).toBe("/api/v1/files/rec-1");
  await userEvent.selectOptions(await within(card).findByLabelText("Type"), "Support");
  await userEvent.type(within(card).getByLabelText("Solution"), "Explained the tariff");
  await userEvent.click(within(card).getByRole("button", { name: "Create conversation" }));
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/calls/1/conversation", expect.objectContaining({ method: "POST",
      body: JSON.stringify({ type: "Support", solution: "Explained the tariff", resolved: true }) })),
  );
});

test("an unknown number is offered a new client card", async () => {
  const fetch = setup((url, init) =>
    url === "/api/v1/calls/2/contact" && init?.method === "POST"
      ? json(201, { ...unknown, contact: { id: 10, name: "Пётр", email: "petr@example.com", phone: "+79990000001" } })
      : undefined,
  );
  render(<LangProvider lang="ru"><Calls selected={2} /></LangProvider>);
  expect(await screen.findByText("Номера +79990000001 нет ни у одного клиента. Создайте карточку:")).toBeInTheDocument();
  await userEvent.type(screen.getByLabelText("Имя"), "Пётр");
  await userEvent.type(screen.getByLabelText("Email"), "petr@example.com");
  await userEvent.click(screen.getByRole("button", { name: "Создать карточку клиента" }));
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/calls/2/contact", expect.objectContaining({ method: "POST",
      body: JSON.stringify({ name: "Пётр", email: "petr@example.com" }) })),
  );
  expect(await screen.findByText("Пётр")).toBeInTheDocument();
});
