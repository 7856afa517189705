import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../../lib/i18n";
import { SessionContext } from "../../../lib/session";
import type { Me } from "../../../lib/types";
import { Channels } from "../Channels";

afterEach(() => vi.unstubAllGlobals());

const admin: Me = {
  user: { id: 1, email: "a@example.com", name: "A", role: "admin", presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const vkChannel = {
  id: 7, kind: "vk", name: "Community", line_id: 2, settings: { group_id: 214167102 }, enabled: true, created_at: "", updated_at: "",
  credentials_set: ["access_token"], webhook_url: "https://desk.example/hooks/7",
};

test("a VK channel: the token shows only as set; a new one is sent as a credential keeping the community; Connect lists what to paste in VK", async () => {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/channels/7" && method === "GET") return json(200, vkChannel);
    if (url === "/api/v1/channels/7" && method === "PATCH") return json(200, vkChannel);
    if (url === "/api/v1/lines") return json(200, { items: [{ id: 2, name: "Sales" }] });
    if (url.startsWith("/api/v1/channels/7/history")) return json(200, { items: [], next_before: null });
    if (url === "/api/v1/channels/7/connect")
      return json(200, { webhook_url: vkChannel.webhook_url, registered: false, account: "Shop community",
        steps: ["Server address: https://desk.example/hooks/7", "Secret key: ldw_s3cr3t"] });
    return json(404, { error: { code: "not_found", message: url } });
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <Channels loc={{ path: "/admin/channels/7", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(await screen.findByText("Community token: set")).toBeInTheDocument();
  expect(screen.getByDisplayValue("https://desk.example/hooks/7")).toBeInTheDocument();
  await userEvent.type(screen.getByLabelText("Replace the token"), "vk1.a.new-token");
  await userEvent.click(screen.getAllByRole("button", { name: "Save" }).at(-1)!);
  await vi.waitFor(() =>
    expect(fetch).toHaveBeenCalledWith("/api/v1/channels/7", expect.objectContaining({ method: "PATCH",
      body: JSON.stringify({ settings: { group_id: 214167102 }, credentials: { access_token: "vk1.a.new-token" } }) })),
  );
  await userEvent.click(screen.getAllByRole("button", { name: "Connect" }).at(-1)!);
  expect(await screen.findByText("Secret key: ldw_s3cr3t")).toBeInTheDocument();
  expect(screen.getByText("The platform is configured on its side:")).toBeInTheDocument();
}, 20_000);

test("a messenger's create form sends its ids as settings and its secrets as credentials", async () => {
  const { messengerBody, whatsappSpec, vkSpec, okSpec } = await import("./MessengerKind");
  expect(messengerBody(whatsappSpec, { token: " EAAG-token ", second: "app-secret", phone_number_id: " 106540352242922 ", business_account_id: "102290129340398", api_base_url: "" }))
    .toEqual({ settings: { phone_number_id: "106540352242922", business_account_id: "102290129340398" }, credentials: { access_token: "EAAG-token", app_secret: "app-secret" } });
  expect(messengerBody(vkSpec, { token: "vk1.a.x", group_id: "214167102", api_base_url: "http://fake" }))
    .toEqual({ settings: { api_base_url: "http://fake", group_id: 214167102 }, credentials: { access_token: "vk1.a.x" } });
  expect(messengerBody(okSpec, { token: "tkn1" })).toEqual({ settings: {}, credentials: { access_token: "tkn1" } });
  expect(okSpec.noWebhookURL).toBe(true);
});
