// Test helpers: a signed-in operator, a conversation, and a fetch that answers by route.
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";
import { LangProvider, type Lang } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Conversation, Me } from "../../lib/types";

export const me: Me = {
  user: { id: 7, email: "anna@example.com", name: "Anna", role: "operator", presence: "online", created_at: "2026-01-01T00:00:00Z" },
  access: { operator_lines: [1], supervisor_lines: [], queue_lines: [1], permissions: ["omni"] },
};

export function conversation(over: Partial<Conversation> = {}): Conversation {
  return {
    number: 1001,
    kind: "request",
    status: "active",
    chat_id: "3f1c1b8e-7a3c-4a4e-9f55-000000000001",
    line_id: 1,
    channel: { id: 5, kind: "api", name: "Site API" },
    contact: { id: 9, name: "Ivan", email: "ivan@example.com", phone: "" },
    assignee: { id: 7, name: "Anna" },
    participants: [],
    title: "",
    type: "",
    reasons: [],
    components: [],
    created_at: "2026-12-05T10:00:00Z",
    last_activity_at: "2026-12-05T10:00:00Z",
    closed_at: null,
    due: { first_response: null, next_response: null, resolution: null },
    overdue: false,
    unread: 0,
    client_rating: null,
    csat: null,
    ...over,
  };
}

type Handler = (url: string, init: RequestInit) => { status?: number; body: unknown } | undefined;

/** routes answers each call with the first handler that returns something; others get 404. */
export function stubFetch(handler: Handler) {
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const r = handler(url, init) ?? { status: 404, body: { error: { code: "not_found", message: "not found" } } };
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return fn;
}

export function renderAs(node: ReactNode, lang: Lang = "en") {
  return render(
    <LangProvider lang={lang}>
      <SessionContext.Provider value={me}>{node}</SessionContext.Provider>
    </LangProvider>,
  );
}

/** calls lists the [method, url, body] of every fetch. */
export function calls(fn: ReturnType<typeof stubFetch>) {
  return fn.mock.calls.map(
    ([url, init]) => [init?.method ?? "GET", url, init?.body instanceof FormData ? init.body : init?.body ? JSON.parse(String(init.body)) : undefined] as const,
  );
}
