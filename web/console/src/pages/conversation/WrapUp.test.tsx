import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { WrapUp } from "./WrapUp";
import { calls, conversation, renderAs, stubFetch } from "./testutil";

afterEach(() => vi.unstubAllGlobals());

const settings = { body: { types: ["Support", "Refund"], reasons: ["Delivery", "Payment"], components: ["App", "Site"] } };

test("the wrap-up sends every field to /close", async () => {
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/dialog-settings") return settings;
    if (init.method === "POST" && url === "/api/v1/conversations/1001/close") return { body: conversation({ status: "closed" }) };
  });
  const done = vi.fn();
  renderAs(<WrapUp conversation={conversation()} onDone={done} onCancel={() => {}} />);
  await screen.findByRole("option", { name: "Refund" });
  await userEvent.selectOptions(screen.getByLabelText("Type"), "Refund");
  await userEvent.click(screen.getByRole("checkbox", { name: "Payment" }));
  await userEvent.click(screen.getByRole("checkbox", { name: "Site" }));
  await userEvent.type(screen.getByLabelText("Solution"), "Refunded in full");
  await userEvent.click(screen.getByRole("radio", { name: "2 of 3 stars" }));
  await userEvent.click(screen.getByRole("checkbox", { name: /CSAT/ })); // on by default: now off
  await userEvent.click(screen.getByRole("checkbox", { name: "Close and open a ticket" }));
  expect(screen.queryByText(/unread messages/)).not.toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Close conversation" }));
  await waitFor(() => expect(done).toHaveBeenCalledOnce());
  expect(calls(fetch)).toContainEqual([
    "POST",
    "/api/v1/conversations/1001/close",
    { type: "Refund", reasons: ["Payment"], components: ["Site"], solution: "Refunded in full", client_rating: 2, send_csat: false, open_ticket: true },
  ]);
});

test("unread client messages need a confirmation, sent as confirm_unread", async () => {
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/dialog-settings") return settings;
    if (init.method === "POST") return { body: conversation({ status: "closed" }) };
  });
  const done = vi.fn();
  renderAs(<WrapUp conversation={conversation({ unread: 2 })} onDone={done} onCancel={() => {}} />, "ru");
  expect(screen.getByRole("alert")).toHaveTextContent("У клиента есть непрочитанные сообщения (2).");
  const submit = screen.getByRole("button", { name: "Закрыть обращение" });
  expect(submit).toBeDisabled();
  await userEvent.click(screen.getByRole("checkbox", { name: "Всё равно закрыть" }));
  expect(submit).toBeEnabled();
  await userEvent.click(submit);
  await waitFor(() => expect(done).toHaveBeenCalledOnce());
  expect(calls(fetch).find(([m]) => m === "POST")?.[2]).toMatchObject({ confirm_unread: true, send_csat: true, client_rating: 0 });
});

test("a 409 unread_messages turns the warning on and the retry confirms", async () => {
  let closes = 0;
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/dialog-settings") return settings;
    if (init.method === "POST") {
      closes++;
      const body = JSON.parse(String(init.body));
      if (!body.confirm_unread) return { status: 409, body: { error: { code: "unread_messages", message: "unread" } } };
      return { body: conversation({ status: "closed" }) };
    }
  });
  const done = vi.fn();
  renderAs(<WrapUp conversation={conversation()} onDone={done} onCancel={() => {}} />);
  await userEvent.click(screen.getByRole("button", { name: "Close conversation" }));
  expect(await screen.findByText(/The client has unread messages/)).toBeInTheDocument();
  expect(done).not.toHaveBeenCalled();
  expect(screen.getByRole("button", { name: "Close conversation" })).toBeDisabled();
  await userEvent.click(screen.getByRole("checkbox", { name: "Close anyway" }));
  await userEvent.click(screen.getByRole("button", { name: "Close conversation" }));
  await waitFor(() => expect(done).toHaveBeenCalledOnce());
  expect(closes).toBe(2);
  expect(calls(fetch).filter(([m]) => m === "POST").map(([, , b]) => b.confirm_unread)).toEqual([undefined, true]);
});
