import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { useLocation } from "../../lib/router";
import { Search } from "./Search";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  history.replaceState(null, "", "/");
});

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });

function Screen() {
  const loc = useLocation();
  return <Search loc={loc} />;
}

test("a search goes into the URL, its hits mark the matched words as text, and more pages load", async () => {
  const fetch = vi.fn(async (url: string) => {
    if (url === "/api/v1/lines") return json({ items: [{ id: 2, name: "Sales" }] });
    const conv = { number: 1042, title: "", status: "active", channel_kind: "telegram", contact: { id: 7, name: "Ivan", email: "", phone: "" } };
    if (url.includes("cursor=c1"))
      return json({ items: [{ kind: "messages", message_id: "m2", direction: "out", at: "2026-12-01T10:00:00Z",
        snippet: [{ text: "second " }, { text: "orders", match: true }], conversation: conv }], next_cursor: null });
    return json({ items: [{ kind: "messages", message_id: "m1", direction: "in", at: "2026-12-01T11:00:00Z",
      snippet: [{ text: "my " }, { text: "orders", match: true }, { text: " <b>late</b>" }], conversation: conv }], next_cursor: "c1" });
  });
  vi.stubGlobal("fetch", fetch);
  history.replaceState(null, "", "/search");
  render(
    <LangProvider lang="en">
      <Screen />
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Words to find"), "order");
  await userEvent.selectOptions(await screen.findByLabelText("Line"), "2");
  await userEvent.click(screen.getByRole("button", { name: "Find" }));

  expect(location.pathname + location.search).toBe("/search?q=order&line=2");
  const mark = await screen.findByText("orders", { selector: "mark" });
  expect(mark.parentElement?.textContent).toBe("my orders <b>late</b>"); // text, not markup
  expect(document.querySelector("b")).toBeNull();
  expect(fetch.mock.calls.map(([u]) => u)).toContain("/api/v1/search?q=order&line=2");
  expect(screen.getByRole("link", { name: "Conversation №1042" })).toHaveAttribute("href", "/conversations/1042");

  await userEvent.click(screen.getByRole("button", { name: "Load more" }));
  expect(await screen.findByText("second")).toBeInTheDocument();
  expect(screen.getAllByRole("listitem")).toHaveLength(2);
  expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
}, 20_000);
