import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { KnowledgePanel, plainText } from "./KnowledgePanel";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });

test("plainText reads an article's Markdown as a messenger shows it", () => {
  expect(plainText("# Refunds\n\n**Open** your [account](https://shop.example/a) and press Return.\n\n- one\n- two\n\n![scheme](https://desk/f/1)"))
    .toBe("Refunds\n\nOpen your account (https://shop.example/a) and press Return.\n\n• one\n• two\n\nhttps://desk/f/1");
});

test("the panel suggests articles for the client's message, searches, and inserts an article's text or link", async () => {
  const fetch = vi.fn(async (url: string) => {
    if (url === "/api/v1/conversations/7/kb-suggestions")
      return json({ items: [{ id: 1, title: "Refunds", snippet: [{ text: "how to " }, { text: "refund", match: true }] }] });
    if (url.startsWith("/api/v1/kb/articles?")) return json({ items: [] });
    if (url === "/api/v1/kb/articles/1")
      return json({ id: 1, title: "Refunds", snippet: [], body: "**Open** the account", html: "<p><strong>Open</strong> the account</p>", public_url: "https://desk/kb/1" });
    return new Response("{}", { status: 404 });
  });
  vi.stubGlobal("fetch", fetch);
  const onInsert = vi.fn();
  render(
    <LangProvider lang="en">
      <KnowledgePanel number={7} lastClientMessage="m1" onInsert={onInsert} />
    </LangProvider>,
  );
  expect(await screen.findByText("refund", { selector: "mark" })).toBeInTheDocument();

  await userEvent.type(screen.getByLabelText("Search articles"), "delivery");
  await userEvent.click(screen.getByRole("button", { name: "Find" }));
  expect(await screen.findByText("No article found.")).toBeInTheDocument();
  expect(fetch.mock.calls.map(([u]) => u)).toContain("/api/v1/kb/articles?q=delivery&limit=10");
  await userEvent.clear(screen.getByLabelText("Search articles"));
  await userEvent.click(screen.getByRole("button", { name: "Find" }));

  await userEvent.click(await screen.findByRole("button", { name: "Refunds" }));
  expect(await screen.findByText("Open", { selector: "strong" })).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Insert the text" }));
  expect(onInsert).toHaveBeenLastCalledWith("Open the account");
  await userEvent.click(screen.getByRole("button", { name: "Insert the link" }));
  expect(onInsert).toHaveBeenLastCalledWith("Refunds: https://desk/kb/1");
}, 20_000);
