import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../../lib/i18n";
import { SessionContext } from "../../../lib/session";
import type { Me } from "../../../lib/types";
import { browserOf } from "../../supervisor/Visitors";
import { Channels } from "../Channels";
import { cleanDomain, fromChannel, previewConfig, toSettings, webchatBody } from "./WebchatKind";

afterEach(() => vi.unstubAllGlobals());

const admin: Me = {
  user: { id: 1, email: "a@example.com", name: "A", role: "admin", presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const site = {
  id: 7, kind: "webchat", name: "Shop site", line_id: 2, enabled: true, created_at: "", updated_at: "",
  settings: { site_name: "Zolotoe-Dno", domain: "zolotoedno.ru", language: "ru", widgets: [{ kind: "chat" }],
    appearance: { operator_text: "#1f2933", operator_background: "#eef1f5", visitor_text: "#ffffff", visitor_background: "#2563eb", position: "right" },
    prechat: {} },
  embed_code: `<script src="https://desk.example/widget.js" data-site="7" data-lang="ru" async></script>`,
};

test("a site's page: the script to paste, and a scenario routing /pricing to a line is saved as the API wants it", async () => {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/channels/7" && method === "GET") return json(200, site);
    if (url === "/api/v1/channels/7" && method === "PATCH") return json(200, { ...site, settings: JSON.parse(String(init!.body)).settings });
    if (url === "/api/v1/lines") return json(200, { items: [{ id: 2, name: "Web" }, { id: 3, name: "Sales" }] });
    if (url === "/api/v1/groups") return json(200, { items: [{ id: 5, name: "Sales team", kind: "operators" }] });
    if (url.startsWith("/api/v1/channels/7/history")) return json(200, { items: [], next_before: null });
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
  expect(await screen.findByDisplayValue(site.embed_code)).toBeInTheDocument();
  await userEvent.click(screen.getByRole("checkbox", { name: "Request form" }));
  await userEvent.click(screen.getByRole("button", { name: "Add scenario" }));
  await userEvent.type(screen.getByLabelText("Site addresses, one a line"), "/pricing");
  await userEvent.selectOptions(await screen.findByLabelText("Line (department)"), "3");
  await userEvent.selectOptions(screen.getByLabelText("Group"), "5");
  await userEvent.click(screen.getByRole("button", { name: "Save site settings" }));
  await vi.waitFor(() => {
    const patch = fetch.mock.calls.find(([u, i]) => u === "/api/v1/channels/7" && i?.method === "PATCH");
    expect(patch).toBeTruthy();
    const body = JSON.parse(String(patch![1]!.body));
    expect(body.settings.widgets).toEqual([{ kind: "chat" }, { kind: "form" }]);
    expect(body.settings.scenarios).toEqual([{ name: "", active: true, match: "partial", urls: ["/pricing"], line_id: 3, group_id: 5, offer_form: true }]);
  });
  expect(await screen.findByText("Saved")).toBeInTheDocument();
}, 20_000);

test("the create form keeps the domain's host, the widgets chosen and the language", () => {
  expect(webchatBody({ site_name: " Zolotoe-Dno ", domain: "https://ZolotoeDno.ru/contacts", language: "en", widgets: ["chat", "callback"] })).toEqual({
    settings: { site_name: "Zolotoe-Dno", domain: "zolotoedno.ru", language: "en", widgets: [{ kind: "chat" }, { kind: "callback" }] },
  });
  expect(cleanDomain("shop.example.com/path")).toBe("shop.example.com");
});

test("settings round-trip with defaults, and the preview gets what the widget would", () => {
  const s = fromChannel({ site_name: "S", domain: "s.example", scenarios: [{ match: "full", urls: ["https://s.example/", " "], active: true }] });
  expect(s.appearance.position).toBe("right");
  expect(s.scenarios[0]).toMatchObject({ match: "full", line_id: 0, group_id: 0, offer_form: false });
  expect(toSettings(s).scenarios).toEqual([{ name: "", active: true, match: "full", urls: ["https://s.example/"], line_id: 0, group_id: 0, offer_form: false }]);
  expect(previewConfig(s, 4, false)).toMatchObject({ site: { id: 4, name: "S" }, route: { online: false, offer_form: true }, widgets: [{ kind: "chat", title: "" }] });
});

test("the visitor list names browsers briefly", () => {
  expect(browserOf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")).toBe("Chrome 131");
  expect(browserOf("Mozilla/5.0 ... Chrome/120.0 YaBrowser/24.1 Safari/537.36")).toBe("Chrome 120");
  expect(browserOf("Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0")).toBe("Firefox 128");
});
