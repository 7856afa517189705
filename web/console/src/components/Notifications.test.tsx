import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { events, type LiveEvent } from "../lib/events";
import { LangProvider } from "../lib/i18n";
import { SessionContext } from "../lib/session";
import type { Me } from "../lib/types";
import { classify, NotificationBell } from "./Notifications";

const olga: Me = {
  user: { id: 7, email: "olga@example.com", name: "Olga", role: "operator", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [1], supervisor_lines: [], queue_lines: [1], permissions: ["omni", "unassigned_queue"] },
};
const ev = (e: Partial<LiveEvent>): LiveEvent => ({ id: "1", kind: "x", at: new Date().toISOString(), data: {}, ...e });

test("classify picks what is the user's news", () => {
  expect(classify(ev({ kind: "conversation.opened", conversation: 5, line_id: 1, status: "queued" }), olga)?.kind).toBe("new_conversation");
  expect(classify(ev({ kind: "conversation.opened", conversation: 5, line_id: 2, status: "queued" }), olga)).toBeNull();
  expect(classify(ev({ kind: "conversation.assigned", conversation: 5, assignee_id: 7, data: { actor_id: 3 } }), olga)?.kind).toBe("assigned");
  expect(classify(ev({ kind: "conversation.assigned", conversation: 5, assignee_id: 7, data: { actor_id: 7 } }), olga)).toBeNull();
  expect(classify(ev({ kind: "message", conversation: 5, assignee_id: 7, data: { direction: "in" } }), olga)?.kind).toBe("message");
  expect(classify(ev({ kind: "message", conversation: 5, assignee_id: 8, data: { direction: "in" } }), olga)).toBeNull();
  expect(classify(ev({ kind: "message", conversation: 5, assignee_id: 7, data: { direction: "out" } }), olga)).toBeNull();
  expect(classify(ev({ kind: "conversation.sla_warning", conversation: 5, assignee_id: 7 }), olga)?.kind).toBe("sla_warning");
  expect(classify(ev({ kind: "notification", data: { id: 3, kind: "sla_breached", data: { conversation: 5 } } }), olga)?.key).toBe("sla_breached:5");
});

let handler: ((e: LiveEvent) => void) | undefined;
beforeEach(() => {
  document.title = "linedesk";
  vi.spyOn(events, "subscribe").mockImplementation((h) => {
    handler = h;
    return () => undefined;
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

test("the bell counts stored and live news, shows it in the tab title, and marks all read", async () => {
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url === "/api/v1/notifications/read") return new Response(JSON.stringify({ marked: 2, unread: 0 }), { status: 200 });
    return new Response(JSON.stringify({ items: [{ id: 1, kind: "assigned", text: "Conversation #12 is yours now", data: { conversation: 12 }, created_at: new Date().toISOString(), read_at: null }], unread: 1 }), { status: 200 });
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="ru">
      <SessionContext.Provider value={olga}>
        <NotificationBell />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(await screen.findByTestId("bell-count")).toHaveTextContent("1");
  // The title follows the count in an effect of its own: wait for it rather than race it.
  await waitFor(() => expect(document.title).toBe("(1) linedesk"));
  act(() => handler!(ev({ id: "9", kind: "message", conversation: 12, assignee_id: 7, data: { direction: "in" } })));
  act(() => handler!(ev({ id: "10", kind: "conversation.opened", conversation: 13, line_id: 1, status: "queued" })));
  await waitFor(() => expect(document.title).toBe("(3) linedesk"));
  await userEvent.click(screen.getByRole("button", { name: "Уведомления: непрочитанных 3" }));
  expect(screen.getByText("Обращение №12 назначено вам")).toBeInTheDocument();
  expect(screen.getByText("Новое сообщение клиента в №12")).toBeInTheDocument();
  expect(screen.getByText("Новое обращение №13 в очереди")).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Отметить все прочитанными" }));
  await waitFor(() => expect(document.title).toBe("linedesk"));
  expect(fetch).toHaveBeenCalledWith("/api/v1/notifications/read", expect.objectContaining({ method: "POST", body: JSON.stringify({ all: true }) }));
});
