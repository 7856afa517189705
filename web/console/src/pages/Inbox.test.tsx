import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { events, type LiveEvent } from "../lib/events";
import { LangProvider } from "../lib/i18n";
import { useLocation } from "../lib/router";
import { SessionContext } from "../lib/session";
import type { Conversation, Me } from "../lib/types";
import { Inbox } from "./Inbox";

const admin: Me = {
  user: { id: 1, email: "admin@example.com", name: "Admin", role: "admin", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const operator: Me = {
  user: { id: 7, email: "olga@example.com", name: "Olga", role: "operator", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [1], supervisor_lines: [], queue_lines: [], permissions: ["omni"] },
};

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const inMin = (m: number) => new Date(Date.now() + m * 60000).toISOString();

function conv(n: number, over: Partial<Conversation> = {}): Conversation {
  return {
    number: n, kind: "request", status: "queued", chat_id: "c" + n, line_id: 1,
    channel: { id: 3, kind: "api", name: "Site API" },
    contact: { id: n, name: "Client " + n, email: "", phone: "" },
    assignee: null, participants: [], title: "", type: "", reasons: [], components: [],
    created_at: ago(600), last_activity_at: ago(10), closed_at: null,
    due: { first_response: null, next_response: null, resolution: null },
    overdue: false, unread: 0, client_rating: null, csat: null,
    last_message: { text: "hello " + n, direction: "in", created_at: ago(10) }, waiting_since: null,
    ...over,
  };
}

let listCalls = 0;
let countsCalls = 0;
let items: Conversation[] = [];
let fetchMock: ReturnType<typeof vi.fn>;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  listCalls = 0;
  countsCalls = 0;
  history.replaceState(null, "", "/inbox?view=all");
  items = [
    conv(1001, { waiting_since: ago(30), unread: 2 }),
    conv(1002, { waiting_since: ago(200), due: { first_response: ago(60), next_response: null, resolution: inMin(30) }, overdue: true }),
    conv(1003, { waiting_since: ago(400), assignee: { id: 7, name: "Olga" }, status: "active", due: { first_response: null, next_response: inMin(20), resolution: null } }),
  ];
  fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.startsWith("/api/v1/conversations/counts")) {
      countsCalls++;
      return json({ views: { unassigned: 4, mine: 2, all: 9, dialogs: 1 }, channel_kinds: { api: 7, email: 2 }, lines: { "1": 9 } });
    }
    if (url.startsWith("/api/v1/conversations/bulk")) {
      const body = JSON.parse(String(init?.body));
      return json({ action: body.action, results: body.numbers.map((n: number, i: number) => ({ number: n, status: i === 0 ? 200 : 409, code: i === 0 ? "ok" : "conflict", message: i === 0 ? undefined : "already closed" })) });
    }
    if (url.startsWith("/api/v1/conversations?")) {
      listCalls++;
      return json({ items, next_cursor: null });
    }
    if (url.startsWith("/api/v1/conversations/")) return json(conv(Number(url.split("/").pop())));
    if (url.startsWith("/api/v1/console-settings")) return json({ wait_warn_seconds: 120, wait_alert_seconds: 300, channel_kinds: [], statuses: ["queued", "active", "paused"] });
    if (url.startsWith("/api/v1/lines")) return json({ items: [{ id: 1, name: "Support" }] });
    if (url.startsWith("/api/v1/users")) return json({ items: [{ id: 7, name: "Olga", email: "olga@example.com", role: "operator" }] });
    return json({ error: { code: "not_found", message: "no" } }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function Routed() {
  return <Inbox loc={useLocation()} />;
}

function show(me: Me = admin, lang: "en" | "ru" = "en") {
  return render(
    <LangProvider lang={lang}>
      <SessionContext.Provider value={me}>
        <Routed />
      </SessionContext.Provider>
    </LangProvider>,
  );
}

const row = (n: number) => document.querySelector(`tr[data-number="${n}"]`) as HTMLElement;

test("rows show the client, last message, a waiting timer coloured by the thresholds, overdue SLA in red and the unread badge", async () => {
  show();
  await screen.findByText("Client 1001");
  expect(within(row(1001)).getByText(/hello 1001/)).toBeInTheDocument();
  expect(row(1001).querySelector(".wait")).toHaveAttribute("data-level", "ok");
  expect(row(1002).querySelector(".wait")).toHaveAttribute("data-level", "warn");
  expect(row(1003).querySelector(".wait")).toHaveAttribute("data-level", "alert");
  expect(row(1002).querySelector(".due")).toHaveClass("overdue");
  expect(row(1003).querySelector(".due")).not.toHaveClass("overdue");
  expect(within(row(1001)).getByLabelText("2 unread")).toHaveTextContent("2");
  expect(row(1002).querySelector(".unread")).toBeNull();
  expect(within(row(1003)).getByText("Olga")).toBeInTheDocument();
  expect(within(row(1003)).getByText("Active")).toBeInTheDocument();
});

test("the waiting timer ticks and changes colour when it crosses a threshold", async () => {
  items = [conv(1001, { waiting_since: ago(118) })];
  show();
  await screen.findByText("Client 1001");
  expect(row(1001).querySelector(".wait")).toHaveAttribute("data-level", "ok");
  await waitFor(() => expect(row(1001).querySelector(".wait")).toHaveAttribute("data-level", "warn"), { timeout: 4000 });
});

test("views and channel folders show the live counters", async () => {
  show();
  await waitFor(() => expect(document.querySelector('[data-count="all"]')).toHaveTextContent("9"));
  expect(document.querySelector('[data-count="unassigned"]')).toHaveTextContent("4");
  expect(document.querySelector('[data-count="mine"]')).toHaveTextContent("2");
  expect(document.querySelector('[data-count="dialogs"]')).toHaveTextContent("1");
  expect(document.querySelector('[data-kind="api"]')).toHaveTextContent("API7");
  expect(document.querySelector('[data-kind="email"]')).toHaveTextContent("Email2");
});

test("an operator without the unassigned queue does not see that view; the Russian UI says На мне", async () => {
  show(operator, "ru");
  await screen.findByText("Client 1001");
  expect(document.querySelector('[data-view="unassigned"]')).toBeNull();
  expect(screen.getByText("На мне")).toBeInTheDocument();
});

test("bulk select assigns through the bulk API and shows each number's result", async () => {
  show();
  await screen.findByText("Client 1001");
  await userEvent.click(screen.getByLabelText("Select conversation 1001"));
  await userEvent.click(screen.getByLabelText("Select conversation 1002"));
  expect(screen.getByText("2 selected")).toBeInTheDocument();
  await userEvent.selectOptions(await screen.findByLabelText("Assign to"), "7");
  await userEvent.click(screen.getByRole("button", { name: "Assign" }));
  const call = fetchMock.mock.calls.find(([u]) => String(u) === "/api/v1/conversations/bulk");
  expect(call).toBeDefined();
  expect(JSON.parse(String(call![1]!.body))).toEqual({ action: "assign", numbers: [1001, 1002], assignee_id: 7 });
  expect(await screen.findByText(/№1001: done/)).toBeInTheDocument();
  expect(screen.getByText(/№1002: conflict — already closed/)).toBeInTheDocument();
  expect(screen.getByText("1 selected")).toBeInTheDocument();
});

test("select all on the page then close", async () => {
  show();
  await screen.findByText("Client 1001");
  await userEvent.click(screen.getByLabelText("Select all on this page"));
  expect(screen.getByText("3 selected")).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Close" }));
  const call = fetchMock.mock.calls.find(([u]) => String(u) === "/api/v1/conversations/bulk");
  expect(JSON.parse(String(call![1]!.body))).toEqual({ action: "close", numbers: [1001, 1002, 1003], confirm_unread: true });
});

test("a storm of live events refreshes the list and counters once, not per event", async () => {
  let handler: ((e: LiveEvent) => void) | undefined;
  vi.spyOn(events, "subscribe").mockImplementation((h) => {
    handler = h;
    return () => undefined;
  });
  show();
  await screen.findByText("Client 1001");
  await waitFor(() => expect(countsCalls).toBe(1));
  const before = listCalls;
  items = [conv(1009, { unread: 1 }), ...items];
  act(() => {
    for (let i = 0; i < 50; i++) handler!({ id: String(i), kind: "message", at: new Date().toISOString(), conversation: 1009, data: { direction: "in" } });
  });
  expect(await screen.findByText("Client 1009", {}, { timeout: 3000 })).toBeInTheDocument();
  expect(listCalls - before).toBe(1);
  await waitFor(() => expect(countsCalls).toBe(2), { timeout: 3000 });
  await new Promise((r) => setTimeout(r, 1200));
  expect(listCalls - before).toBe(1);
  expect(countsCalls).toBe(2);
});

test("j and k open the next and previous conversation, not while typing", async () => {
  show();
  await screen.findByText("Client 1001");
  await userEvent.keyboard("j");
  expect(location.pathname).toBe("/inbox/1001");
  expect(location.search).toBe("?view=all");
  await waitFor(() => expect(row(1001)).toHaveAttribute("aria-current", "true"));
  expect(row(1001)).toHaveAttribute("aria-current", "true");
  await userEvent.keyboard("j");
  expect(location.pathname).toBe("/inbox/1002");
  await userEvent.keyboard("{Alt>}{ArrowUp}{/Alt}");
  expect(location.pathname).toBe("/inbox/1001");
  const sort = screen.getByLabelText("Sort");
  sort.focus();
  await userEvent.keyboard("j");
  expect(location.pathname).toBe("/inbox/1001");
  expect(await screen.findByText("Conversation №1001")).toBeInTheDocument();
});

test("the list pages by keyset: more rows come with the cursor, asked with the admin's statuses", async () => {
  const page2 = [conv(2001), conv(2002)];
  fetchMock.mockImplementation(async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url.startsWith("/api/v1/conversations?")) {
      const q = new URLSearchParams(url.split("?")[1]);
      expect(q.get("status")).toBe("queued,active,paused");
      expect(q.get("limit")).toBe("100");
      if (q.get("cursor") === "abc") return json({ items: page2, next_cursor: null });
      return json({ items, next_cursor: "abc" });
    }
    if (url.startsWith("/api/v1/console-settings")) return json({ wait_warn_seconds: 120, wait_alert_seconds: 300, channel_kinds: [], statuses: ["queued", "active", "paused"] });
    return json({ items: [], views: { unassigned: 0, mine: 0, all: 0, dialogs: 0 }, channel_kinds: {}, lines: {} });
  });
  show();
  await screen.findByText("Client 1001");
  await userEvent.click(screen.getByRole("button", { name: "Load more" }));
  expect(await screen.findByText("Client 2002")).toBeInTheDocument();
  expect(document.querySelectorAll("tr[data-number]").length).toBe(5);
  expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
});

test("a long list renders only the rows in view, with spacers for the rest", async () => {
  items = Array.from({ length: 200 }, (_, i) => conv(5000 + i));
  show();
  await waitFor(() => expect(row(5000)).not.toBeNull());
  const rendered = document.querySelectorAll("tr[data-number]").length;
  expect(rendered).toBeLessThanOrEqual(60);
  expect(document.querySelector("tr.spacer")).not.toBeNull();
  expect(document.querySelector("table")).toHaveAttribute("aria-rowcount", "200");
});
