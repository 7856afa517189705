import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { events, type LiveEvent } from "../../lib/events";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { SupervisorConversations } from "./Conversations";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const supervisor: Me = {
  user: { id: 9, email: "sup@example.com", name: "Sue", role: "supervisor", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [2, 3], queue_lines: [2, 3], permissions: ["omni"] },
};

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const now = new Date().toISOString();
const row = {
  number: 1042, title: "", status: "active", line: { id: 2, name: "Sales" }, channel: { id: 5, name: "Site API" }, channel_kind: "api",
  operator: { id: 11, name: "Ann" }, contact: "Client One", unread: 2, overdue: true, created_at: now, last_activity_at: now, duration_seconds: 125,
};

function backend() {
  return vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/lines") return json(200, { items: [{ id: 1, name: "Hidden" }, { id: 2, name: "Sales" }, { id: 3, name: "Support" }] });
    if (url === "/api/v1/channels") return json(200, { items: [{ id: 5, kind: "api", name: "Site API", line_id: 2 }, { id: 6, kind: "api", name: "App API", line_id: 3 }] });
    if (url === "/api/v1/users") return json(200, { items: [{ id: 11, name: "Ann", disabled: false }, { id: 12, name: "Bob", disabled: false }] });
    if (url.startsWith("/api/v1/supervisor/conversations")) return json(200, { items: [row] });
    if (method === "POST") return json(200, {});
    return json(404, { error: { code: "not_found", message: url } });
  });
}

const boardCalls = (fetch: ReturnType<typeof backend>) => fetch.mock.calls.map(([u]) => u).filter((u) => u.startsWith("/api/v1/supervisor/conversations"));

function renderBoard() {
  return render(
    <LangProvider lang="en">
      <SessionContext.Provider value={supervisor}>
        <SupervisorConversations />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

test("the filters and the sort build the board's query", async () => {
  const fetch = backend();
  vi.stubGlobal("fetch", fetch);
  renderBoard();
  expect(await screen.findByText("Client One")).toBeInTheDocument();
  expect(boardCalls(fetch)).toEqual(["/api/v1/supervisor/conversations?status=active&sort=duration"]);

  // Only the supervised lines are offered.
  const lineSelect = screen.getByLabelText("Line");
  expect(within(lineSelect).queryByText("Hidden")).toBeNull();
  await userEvent.selectOptions(lineSelect, "2");
  // The channel list narrows to the line's channels.
  expect(within(screen.getByLabelText("Channel")).queryByText("App API")).toBeNull();
  await userEvent.selectOptions(screen.getByLabelText("Channel"), "5");
  await userEvent.selectOptions(await screen.findByLabelText("Operator"), "11");
  await userEvent.selectOptions(screen.getByLabelText("Sort by"), "activity");
  await userEvent.selectOptions(screen.getByLabelText("Status"), "paused");
  await vi.waitFor(() =>
    expect(boardCalls(fetch).at(-1)).toBe("/api/v1/supervisor/conversations?line=2&channel=5&operator=11&status=paused&sort=activity"),
  );
  // "All open" asks for the three open statuses and shows each row's status.
  await userEvent.selectOptions(screen.getByLabelText("Status"), "open");
  await vi.waitFor(() =>
    expect(boardCalls(fetch).at(-1)).toBe("/api/v1/supervisor/conversations?line=2&channel=5&operator=11&status=queued%2Cactive%2Cpaused&sort=activity"),
  );
  expect(await screen.findByText("Active", { selector: "td small" })).toBeInTheDocument();
}, 20_000);

test("live events reload the board once per burst", async () => {
  const handlers: ((e: LiveEvent) => void)[] = [];
  const subscribe = events.subscribe.bind(events);
  vi.spyOn(events, "subscribe").mockImplementation((h) => {
    handlers.push(h);
    return subscribe(h);
  });
  const fetch = backend();
  vi.stubGlobal("fetch", fetch);
  renderBoard();
  expect(await screen.findByText("Client One")).toBeInTheDocument();
  expect(boardCalls(fetch)).toHaveLength(1);

  const ev = (kind: string): LiveEvent => ({ id: "1", kind, at: now, data: {} });
  handlers.forEach((h) => h(ev("task"))); // not about conversations or presence
  handlers.forEach((h) => h(ev("conversation.assigned")));
  handlers.forEach((h) => h(ev("presence")));
  handlers.forEach((h) => h(ev("conversation.replied")));
  await vi.waitFor(() => expect(boardCalls(fetch)).toHaveLength(2));
  await new Promise((r) => setTimeout(r, 500));
  expect(boardCalls(fetch)).toHaveLength(2);
}, 20_000);

test("a comment to the operator is an internal note on the conversation", async () => {
  const fetch = backend();
  vi.stubGlobal("fetch", fetch);
  renderBoard();
  await userEvent.click(await screen.findByRole("button", { name: "Comment №1042" }));
  await userEvent.type(screen.getByLabelText(/Comment to Ann/), "Please call the client back");
  await userEvent.click(screen.getByRole("button", { name: "Send comment" }));
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/conversations/1042/notes", expect.objectContaining({ method: "POST", body: JSON.stringify({ text: "Please call the client back" }) })),
  );
  expect(await screen.findByText("Comment on №1042 sent.")).toBeInTheDocument();

  await userEvent.click(screen.getByRole("button", { name: "Transfer №1042" }));
  await userEvent.selectOptions(screen.getByLabelText("To operator"), "12");
  await userEvent.type(screen.getByLabelText(/Comment for the new operator/), "VIP");
  await userEvent.click(screen.getByRole("button", { name: "Transfer" }));
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/conversations/1042/transfer", expect.objectContaining({ body: JSON.stringify({ assignee_id: 12, comment: "VIP" }) })),
  );
}, 20_000);
