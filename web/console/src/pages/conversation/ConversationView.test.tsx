import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { events, type LiveEvent } from "../../lib/events";
import type { Message } from "../../lib/types";
import { ConversationView } from "./ConversationView";
import { calls, conversation, renderAs, stubFetch } from "./testutil";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const msg = (over: Partial<Message>): Message => ({
  id: "m1",
  chat_id: "c",
  conversation: 1001,
  direction: "in",
  author: null,
  text: "",
  attachments: [],
  buttons: [],
  status: "received",
  created_at: "2026-12-05T10:00:00Z",
  ...over,
});

test("messages are styled by kind, a failed one can be sent again, and live events add and update them once", async () => {
  // Every part of the view subscribes; an event goes to all of them, as the stream does.
  const handlers = new Set<(e: LiveEvent) => void>();
  vi.spyOn(events, "subscribe").mockImplementation((h) => {
    handlers.add(h);
    return () => handlers.delete(h);
  });
  const emit = (e: LiveEvent) => handlers.forEach((h) => h(e));
  let list: Message[] = [
    msg({ id: "a", text: "my order is late", attachments: [{ url: "https://x.example/photo.png", name: "photo.png", content_type: "image/png" }, { url: "https://x.example/bill.pdf", name: "bill.pdf" }] }),
    msg({ id: "b", direction: "out", author: { id: 7, name: "Anna" }, text: "looking", status: "failed", created_at: "2026-12-05T10:01:00Z", delivery: { attempts: 3, last_error: "connection refused" } }),
    msg({ id: "c", direction: "note", author: { id: 7, name: "Anna" }, text: "ask the warehouse", status: "internal", created_at: "2026-12-05T10:02:00Z" }),
    msg({ id: "d", direction: "out", kind: "csat", text: "Rate us", status: "sent", buttons: [{ payload: "csat:1001:3", text: "Excellent" }], created_at: "2026-12-05T10:03:00Z" }),
  ];
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/conversations/1001") return { body: conversation() };
    if (url === "/api/v1/conversations/1001/messages") return { body: { items: list } };
    if (url === "/api/v1/conversations/1001/history") return { body: { items: [{ seq: 1, at: "2026-12-05T10:00:00Z", actor: null, kind: "opened", data: {} }] } };
    if (url.startsWith("/api/v1/conversations?") || url.startsWith("/api/v1/contacts/")) return { body: { items: [], next_cursor: null } };
    if (init.method === "POST" && url === "/api/v1/conversations/1001/messages/b/retry") return { status: 202, body: { ...list[1], status: "pending" } };
  });
  renderAs(<ConversationView number={1001} />);
  const log = await screen.findByRole("log");
  await within(log).findByText("my order is late");
  const article = (text: string) => within(log).getByText(text).closest("article")!;
  expect(article("my order is late")).toHaveClass("conv-client");
  expect(article("looking")).toHaveClass("conv-operator");
  expect(article("ask the warehouse")).toHaveClass("conv-note");
  expect(article("Rate us")).toHaveClass("conv-system");
  expect(within(article("Rate us")).getByText("Satisfaction survey")).toBeInTheDocument();
  expect(within(article("Rate us")).getByText("Excellent")).toBeInTheDocument();
  expect(within(article("my order is late")).getByRole("img", { name: "photo.png" })).toHaveAttribute("src", "https://x.example/photo.png");
  expect(within(article("my order is late")).getByRole("link", { name: /bill\.pdf/ })).toHaveAttribute("href", "https://x.example/bill.pdf");
  expect(within(article("looking")).getByRole("alert")).toHaveTextContent("Not delivered: connection refused");
  // The timeline comes with the client panel's own requests: wait for it.
  expect(await screen.findByText("opened")).toBeInTheDocument();

  await userEvent.click(within(article("looking")).getByRole("button", { name: "Send again" }));
  await waitFor(() => expect(within(article("looking")).queryByRole("alert")).not.toBeInTheDocument());
  expect(calls(fetch)).toContainEqual(["POST", "/api/v1/conversations/1001/messages/b/retry", {}]);

  // A new client message arrives live; the list read again has it too: it shows once.
  const live = msg({ id: "e", text: "hello?", created_at: "2026-12-05T10:04:00Z" });
  list = [...list, live];
  act(() => emit({ id: "1", kind: "message", at: live.created_at, conversation: 1001, data: { ...live } }));
  expect(within(log).getByText("hello?")).toBeInTheDocument();
  await waitFor(() => expect(calls(fetch).filter(([, u]) => u === "/api/v1/conversations/1001/messages").length).toBeGreaterThan(1));
  expect(within(log).getAllByText("hello?")).toHaveLength(1);
  // Another conversation's event changes nothing.
  act(() => emit({ id: "2", kind: "message", at: live.created_at, conversation: 999, data: { ...live, id: "x", text: "elsewhere" } }));
  expect(within(log).queryByText("elsewhere")).not.toBeInTheDocument();
});

test("the actions follow the state: a queued conversation offers Take, and Alt+C opens the wrap-up", async () => {
  let conv = conversation({ status: "queued", assignee: null });
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/conversations/1001") return { body: conv };
    if (url === "/api/v1/conversations/1001/take" && init.method === "POST") {
      conv = conversation();
      return { body: conv };
    }
    if (url === "/api/v1/dialog-settings") return { body: { types: ["Support"], reasons: [], components: [] } };
    if (url.endsWith("/messages") || url.endsWith("/history")) return { body: { items: [] } };
    if (url.startsWith("/api/v1/conversations?") || url.startsWith("/api/v1/contacts/")) return { body: { items: [], next_cursor: null } };
  });
  renderAs(<ConversationView number={1001} />);
  const take = await screen.findByRole("button", { name: "Take" });
  expect(screen.queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
  await userEvent.click(take);
  expect(await screen.findByRole("button", { name: "Pause" })).toBeInTheDocument();
  expect(screen.queryByRole("button", { name: "Take" })).not.toBeInTheDocument();
  expect(calls(fetch)).toContainEqual(["POST", "/api/v1/conversations/1001/take", {}]);
  expect(screen.getByLabelText("Reply to the client")).toBeEnabled();
  await userEvent.keyboard("{Alt>}c{/Alt}");
  expect(await screen.findByRole("dialog", { name: "Close №1001" })).toBeInTheDocument();
});

test("a refused action says why in the user's language", async () => {
  stubFetch((url, init) => {
    if (url === "/api/v1/conversations/1001") return { body: conversation({ status: "queued", assignee: null }) };
    if (init.method === "POST") return { status: 409, body: { error: { code: "already_taken", message: "conversation #1001 is already taken by operator 3 (Boris)" } } };
    if (url.endsWith("/messages") || url.endsWith("/history")) return { body: { items: [] } };
    if (url.startsWith("/api/v1/conversations?") || url.startsWith("/api/v1/contacts/")) return { body: { items: [], next_cursor: null } };
  });
  renderAs(<ConversationView number={1001} />, "ru");
  await userEvent.click(await screen.findByRole("button", { name: "Взять" }));
  expect(await screen.findByText("Обращение уже взял(а) Boris.")).toBeInTheDocument();
});
