import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { events, type LiveEvent } from "../../lib/events";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { SupervisorOperators } from "./Operators";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const admin: Me = {
  user: { id: 1, email: "a@example.com", name: "A", role: "admin", presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });

test("the operators board shows today's numbers, filters by line and reloads on presence", async () => {
  let presence = "online";
  const fetch = vi.fn(async (url: string) => {
    if (url === "/api/v1/lines") return json({ items: [{ id: 2, name: "Sales" }] });
    return json({ items: [{ id: 11, name: "Ann", presence, capacity: 3, active: 2, last_reply_at: null, since_last_reply_seconds: null, replies_today: 4,
      avg_first_response_seconds: 95, avg_response_seconds: 30, first_responses_measured: 2, responses_measured: 4 }] });
  });
  vi.stubGlobal("fetch", fetch);
  const handlers: ((e: LiveEvent) => void)[] = [];
  const subscribe = events.subscribe.bind(events);
  vi.spyOn(events, "subscribe").mockImplementation((h) => (handlers.push(h), subscribe(h)));
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <SupervisorOperators />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(await screen.findByText("2 of 3")).toBeInTheDocument();
  expect(screen.getByText("1m")).toBeInTheDocument(); // 95 s first response
  expect(screen.getByText("30s")).toBeInTheDocument();
  expect(screen.getByText("Online")).toBeInTheDocument();

  await userEvent.selectOptions(screen.getByLabelText("Line"), "2");
  await vi.waitFor(() => expect(fetch.mock.calls.map(([u]) => u)).toContain("/api/v1/supervisor/operators?line=2"));

  presence = "away";
  handlers.forEach((h) => h({ id: "5", kind: "presence", at: "", data: {} }));
  expect(await screen.findByText("Away")).toBeInTheDocument();
}, 20_000);
