import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { ClientPanel } from "./ClientPanel";
import { calls, conversation, renderAs, stubFetch } from "./testutil";

afterEach(() => vi.unstubAllGlobals());

test("the client panel lists earlier conversations and brings their operator in as a participant", async () => {
  const current = conversation({ participants: [{ id: 8, name: "Pavel" }] });
  const earlier = conversation({ number: 990, status: "closed", assignee: { id: 3, name: "Boris" }, created_at: "2026-11-01T10:00:00Z", title: "Broken app" });
  const fetch = stubFetch((url, init) => {
    if (url.startsWith("/api/v1/contacts/9/conversations")) return { body: { items: [current, earlier], next_cursor: null } };
    if (url.startsWith("/api/v1/conversations?chat=")) return { body: { items: [current], next_cursor: null } };
    if (url === "/api/v1/conversations/1001/history")
      return { body: { items: [{ seq: 1, at: "2026-12-05T10:00:00Z", actor: { id: 1, name: "Admin" }, kind: "transferred", data: { to: 7, comment: "VIP" } }] } };
    if (init.method === "PATCH" && url === "/api/v1/conversations/1001") return { body: { ...current, participants: [...current.participants, { id: 3, name: "Boris" }] } };
  });
  const changed = vi.fn();
  renderAs(<ClientPanel conversation={current} onChanged={changed} />);
  expect(await screen.findByText("Broken app", { exact: false })).toBeInTheDocument();
  expect(screen.getByText("Earlier requests").nextSibling).toHaveTextContent("1");
  expect(screen.getByText("transferred")).toBeInTheDocument();
  expect(screen.getByText(/→ Anna/)).toBeInTheDocument();
  expect(screen.getByText("«VIP»")).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Bring in" }));
  await waitFor(() => expect(changed).toHaveBeenCalledOnce());
  expect(calls(fetch)).toContainEqual(["PATCH", "/api/v1/conversations/1001", { participants: [8, 3] }]);
  expect(calls(fetch).some(([, u]) => u === "/api/v1/conversations?chat=3f1c1b8e-7a3c-4a4e-9f55-000000000001&limit=100")).toBe(true);
});

test("the panel shows the client's profile link, local time and details; an unsafe link is not a link", async () => {
  vi.useFakeTimers({ now: new Date("2026-12-05T10:00:00Z"), shouldAdvanceTime: true });
  try {
    stubFetch((url) => {
      if (url === "/api/v1/contacts/9")
        return { body: { id: 9, profile_url: "https://crm.example/clients/77", timezone: "Asia/Yekaterinburg", fields: { plan: "Gold", city: "Екатеринбург" }, channels: ["api"] } };
      if (url.includes("conversations")) return { body: { items: [], next_cursor: null } };
      if (url.endsWith("/history")) return { body: { items: [] } };
    });
    renderAs(<ClientPanel conversation={conversation()} onChanged={() => {}} />);
    const link = await screen.findByRole("link", { name: "Open in the client's system" });
    expect(link).toHaveAttribute("href", "https://crm.example/clients/77");
    // 10:00 UTC is 15:00 in Yekaterinburg (UTC+5).
    expect(screen.getByText("Local time").nextSibling).toHaveTextContent("15:00");
    expect(screen.getByText("plan").nextSibling).toHaveTextContent("Gold");
    expect(screen.getByText("city").nextSibling).toHaveTextContent("Екатеринбург");
  } finally {
    vi.useRealTimers();
  }
});

test("safeLink keeps http and https only", async () => {
  const { safeLink } = await import("./ClientPanel");
  expect(safeLink("https://crm.example/x")).toBe("https://crm.example/x");
  expect(safeLink("javascript:alert(1)")).toBeNull();
  expect(safeLink("data:text/html,hi")).toBeNull();
  expect(safeLink("")).toBeNull();
});
