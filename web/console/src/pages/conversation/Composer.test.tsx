import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { Composer } from "./Composer";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import { calls, conversation, me, renderAs, stubFetch } from "./testutil";

afterEach(() => vi.unstubAllGlobals());

const sent = (text: string, direction = "out") => ({
  status: 201,
  body: { id: "m-" + text, chat_id: "c", conversation: 1001, direction, author: { id: 7, name: "Anna" }, text, attachments: [], buttons: [], status: "pending", created_at: "2026-12-05T10:01:00Z" },
});

test("a reply goes to /messages, a note to /notes; Enter sends and Shift+Enter adds a line", async () => {
  const fetch = stubFetch((url, init) => {
    const body = init.body ? JSON.parse(String(init.body)) : {};
    if (init.method === "POST" && url === "/api/v1/conversations/1001/messages") return sent(body.text);
    if (init.method === "POST" && url === "/api/v1/conversations/1001/notes") return sent(body.text, "note");
  });
  const onSent = vi.fn();
  renderAs(<Composer conversation={conversation()} onSent={onSent} />);
  const box = screen.getByLabelText("Reply to the client");
  await userEvent.type(box, "Hello{Shift>}{Enter}{/Shift}there{Enter}");
  await waitFor(() => expect(onSent).toHaveBeenCalledTimes(1));
  expect(calls(fetch)).toContainEqual(["POST", "/api/v1/conversations/1001/messages", { text: "Hello\nthere" }]);
  expect(box).toHaveValue("");

  await userEvent.click(screen.getByRole("radio", { name: "Internal note" }));
  const note = screen.getByLabelText("Note for colleagues (the client does not see it)");
  await userEvent.type(note, "check the refund{Enter}");
  await waitFor(() => expect(onSent).toHaveBeenCalledTimes(2));
  expect(calls(fetch)).toContainEqual(["POST", "/api/v1/conversations/1001/notes", { text: "check the refund" }]);
  expect(calls(fetch).filter(([m, u]) => m === "POST" && !String(u).endsWith("/typing"))).toHaveLength(2);
});

test("/tag suggests the templates of the conversation's channel; arrows and Enter insert one", async () => {
  const fetch = stubFetch((url) => {
    if (url.startsWith("/api/v1/templates?")) {
      const q = new URLSearchParams(url.split("?")[1]);
      // The server filters by channel; answer only for the right one.
      if (q.get("channel") !== "5") return { body: { items: [] } };
      return {
        body: {
          items: [
            { id: 1, name: "Greeting", body: "Hello! How can I help?", tags: ["hello"], channel_ids: [] },
            { id: 2, name: "Refund", body: "Your refund is on its way.", tags: ["refund"], channel_ids: [5] },
          ].filter((x) => x.tags.some((g) => g.startsWith(q.get("tag") ?? ""))),
        },
      };
    }
  });
  renderAs(<Composer conversation={conversation()} onSent={() => {}} />);
  const box = screen.getByLabelText("Reply to the client");
  await userEvent.type(box, "Dear client, /re");
  const options = await screen.findAllByRole("option");
  expect(options.map((o) => o.textContent)).toEqual([expect.stringContaining("Refund")]);
  const lookups = calls(fetch).filter(([, u]) => u.startsWith("/api/v1/templates"));
  expect(lookups.at(-1)?.[1]).toBe("/api/v1/templates?tag=re&channel=5");
  await userEvent.keyboard("{Enter}");
  expect(box).toHaveValue("Dear client, Your refund is on its way.");
  expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
  // Enter picked the template; nothing was sent.
  expect(calls(fetch).filter(([m, u]) => m === "POST" && !String(u).endsWith("/typing"))).toHaveLength(0);

  await userEvent.clear(box);
  await userEvent.type(box, "/");
  await waitFor(() => expect(screen.getAllByRole("option")).toHaveLength(2));
  await userEvent.keyboard("{ArrowDown}{Enter}");
  expect(box).toHaveValue("Your refund is on its way.");
});

test(":name suggests emoji by English or Russian name", async () => {
  stubFetch(() => undefined);
  renderAs(<Composer conversation={conversation()} onSent={() => {}} />, "ru");
  const box = screen.getByLabelText("Ответ клиенту");
  await userEvent.type(box, "Спасибо :лайк");
  expect(await screen.findByRole("option", { name: /👍/ })).toBeInTheDocument();
  await userEvent.keyboard("{Enter}");
  expect(box).toHaveValue("Спасибо 👍");
});

test("a paused conversation disables replies and says to resume; a queued one says to take it", async () => {
  const fetch = stubFetch(() => undefined);
  const { unmount } = renderAs(<Composer conversation={conversation({ status: "paused" })} onSent={() => {}} />);
  expect(screen.getByLabelText("Reply to the client")).toBeDisabled();
  expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  expect(screen.getByRole("status")).toHaveTextContent("paused: resume it to write");
  unmount();
  renderAs(<Composer conversation={conversation({ status: "queued", assignee: null })} onSent={() => {}} />);
  expect(screen.getByLabelText("Reply to the client")).toBeDisabled();
  expect(screen.getByRole("status")).toHaveTextContent("take it first");
  expect(fetch).not.toHaveBeenCalled();
});

test("a refusal from the API is shown in the user's language", async () => {
  stubFetch((_url, init) => {
    if (init.method === "POST") return { status: 409, body: { error: { code: "not_assignee", message: "conversation #1001 is handled by operator 3 (Boris)" } } };
    return undefined;
  });
  renderAs(<Composer conversation={conversation()} onSent={() => {}} />, "ru");
  await userEvent.type(screen.getByLabelText("Ответ клиенту"), "привет{Enter}");
  expect(await screen.findByRole("alert")).toHaveTextContent("Обращение ведёт Boris.");
});

test("a draft does not follow the pane to another conversation", async () => {
  stubFetch(() => undefined);
  const { rerender } = renderAs(<Composer conversation={conversation()} onSent={() => {}} />);
  await userEvent.type(screen.getByLabelText("Reply to the client"), "for Ivan only");
  rerender(
    <LangProvider lang="en">
      <SessionContext.Provider value={me}>
        <Composer conversation={conversation({ number: 1002 })} onSent={() => {}} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(screen.getByLabelText("Reply to the client")).toHaveValue("");
});

test("files upload as soon as they are chosen and go with the reply; a file over 25 MB never leaves the browser", async () => {
  let uploads = 0;
  const fetch = stubFetch((url, init) => {
    if (init.method === "POST" && url === "/api/v1/conversations/1001/files") {
      const f = (init.body as FormData).get("file") as File;
      uploads++;
      return { status: 201, body: { id: "f-" + uploads, name: f.name, content_type: "image/png", size: f.size, url: "http://desk/api/v1/files/f-" + uploads } };
    }
    if (init.method === "POST" && url === "/api/v1/conversations/1001/messages") return sent(JSON.parse(String(init.body)).text);
  });
  const onSent = vi.fn();
  renderAs(<Composer conversation={conversation()} onSent={onSent} />);
  const picker = screen.getByLabelText("Files", { selector: "input" });
  const big = new File(["x"], "huge.mov");
  Object.defineProperty(big, "size", { value: 26 << 20 });
  await userEvent.upload(picker, [new File(["png-bytes"], "receipt.png", { type: "image/png" }), big]);
  const list = await screen.findByRole("list", { name: "Files to send" });
  await waitFor(() => expect(list).not.toHaveTextContent("uploading"));
  expect(list).toHaveTextContent("receipt.png");
  expect(list).toHaveTextContent("huge.mov");
  expect(list).toHaveTextContent("larger than 25 MB");
  expect(uploads).toBe(1);

  // A file alone is a reply; the refused one is not sent.
  await userEvent.click(screen.getByRole("button", { name: "Send" }));
  await waitFor(() => expect(onSent).toHaveBeenCalledTimes(1));
  expect(calls(fetch)).toContainEqual([
    "POST",
    "/api/v1/conversations/1001/messages",
    { text: "", attachments: [{ url: "http://desk/api/v1/files/f-1", name: "receipt.png", content_type: "image/png" }] },
  ]);
  expect(screen.queryByRole("list", { name: "Files to send" })).toBeNull();
});

test("a note takes no files: the composer says so and will not send", async () => {
  stubFetch((url, init) => {
    if (init.method === "POST" && url === "/api/v1/conversations/1001/files") return { status: 201, body: { id: "f", name: "a.txt", content_type: "text/plain", size: 1, url: "http://desk/f" } };
  });
  renderAs(<Composer conversation={conversation()} onSent={() => {}} />);
  await userEvent.upload(screen.getByLabelText("Files", { selector: "input" }), new File(["a"], "a.txt"));
  await screen.findByText(/a\.txt/);
  await userEvent.click(screen.getByRole("radio", { name: "Internal note" }));
  expect(screen.getByRole("status")).toHaveTextContent("Notes take no files");
  await userEvent.type(screen.getByLabelText("Note for colleagues (the client does not see it)"), "see attached");
  expect(screen.getByRole("button", { name: "Add note" })).toBeDisabled();
  await userEvent.click(screen.getByRole("button", { name: "Remove a.txt" }));
  expect(screen.getByRole("button", { name: "Add note" })).toBeEnabled();
});
