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
