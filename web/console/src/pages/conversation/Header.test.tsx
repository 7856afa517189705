import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { Header } from "./Header";
import { calls, conversation, renderAs, stubFetch } from "./testutil";

afterEach(() => vi.unstubAllGlobals());

test("an operator transfers to a colleague picked by name, with a comment", async () => {
  const fetch = stubFetch((url, init) => {
    if (url === "/api/v1/conversations/1001/operators")
      return {
        body: {
          items: [
            { id: 7, name: "Anna", presence: "online", capacity: 0, active: 3 },
            { id: 8, name: "Vera", presence: "online", capacity: 5, active: 1 },
            { id: 9, name: "Boris", presence: "away", capacity: 0, active: 0 },
          ],
        },
      };
    if (init.method === "POST" && url === "/api/v1/conversations/1001/transfer") return { body: conversation({ assignee: { id: 8, name: "Vera" } }) };
  });
  const onChanged = vi.fn();
  renderAs(<Header conversation={conversation()} onAction={async () => {}} onClose={() => {}} onChanged={onChanged} />);
  await userEvent.click(screen.getByRole("button", { name: "Transfer" }));
  const who = await screen.findByLabelText("Operator");
  await waitFor(() => expect(screen.getByRole("option", { name: /Vera/ })).toBeInTheDocument());
  // The current assignee is not offered; the others show presence and load.
  expect(screen.queryByRole("option", { name: /Anna/ })).toBeNull();
  expect(screen.getByRole("option", { name: /Boris/ })).toHaveTextContent("Away");
  await userEvent.selectOptions(who, "8");
  await userEvent.type(screen.getByLabelText("Comment for the operator"), "VIP client, billing question");
  const dialog = screen.getByRole("dialog");
  await userEvent.click(within(dialog).getByRole("button", { name: "Transfer" }));
  await waitFor(() => expect(onChanged).toHaveBeenCalled());
  expect(calls(fetch)).toContainEqual(["POST", "/api/v1/conversations/1001/transfer", { assignee_id: 8, comment: "VIP client, billing question" }]);
});

test("a closed conversation's history downloads as JSON or CSV and opens as a printable transcript", () => {
  stubFetch(() => undefined);
  renderAs(<Header conversation={conversation({ status: "closed" })} onAction={async () => {}} onClose={() => {}} onChanged={() => {}} />);
  expect(screen.getByRole("link", { name: "JSON" })).toHaveAttribute("href", "/api/v1/conversations/1001/export?format=json");
  expect(screen.getByRole("link", { name: "CSV" })).toHaveAttribute("download", "conversation-1001.csv");
  const print = screen.getByRole("link", { name: "Printable transcript" });
  expect(print.getAttribute("href")).toMatch(/^\/api\/v1\/conversations\/1001\/transcript\?lang=en&tz=/);
  expect(print).toHaveAttribute("target", "_blank");
});

test("priority and tags change in place", async () => {
  const fetch = stubFetch((url, init) => {
    if (init.method === "PATCH" && url === "/api/v1/conversations/1001") {
      const body = JSON.parse(String(init.body));
      return { body: conversation({ tags: body.tags ?? ["vip"], priority: body.priority ?? "normal" }) };
    }
  });
  const onChanged = vi.fn();
  renderAs(<Header conversation={conversation({ tags: ["vip"] })} onAction={async () => {}} onClose={() => {}} onChanged={onChanged} />);
  await userEvent.selectOptions(screen.getByLabelText("Priority"), "urgent");
  await waitFor(() => expect(calls(fetch)).toContainEqual(["PATCH", "/api/v1/conversations/1001", { priority: "urgent" }]));
  await userEvent.type(screen.getByLabelText("Add a tag"), "refund{Enter}");
  await waitFor(() => expect(calls(fetch)).toContainEqual(["PATCH", "/api/v1/conversations/1001", { tags: ["vip", "refund"] }]));
  await userEvent.click(screen.getByRole("button", { name: "Remove the tag vip" }));
  await waitFor(() => expect(calls(fetch)).toContainEqual(["PATCH", "/api/v1/conversations/1001", { tags: [] }]));
  expect(onChanged).toHaveBeenCalledTimes(3);
});
