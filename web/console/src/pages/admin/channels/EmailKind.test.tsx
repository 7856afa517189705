import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../../lib/i18n";
import { SessionContext } from "../../../lib/session";
import type { Me } from "../../../lib/types";
import { Channels } from "../Channels";
import { emailBody } from "./EmailKind";

afterEach(() => vi.unstubAllGlobals());

const admin: Me = {
  user: { id: 1, email: "a@example.com", name: "A", role: "admin", presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const mailChannel = {
  id: 9, kind: "email", name: "Support mail", line_id: 2, enabled: true, created_at: "", updated_at: "",
  settings: { address: "support@desk.example", imap_host: "imap.mail.ru", imap_port: 993, imap_security: "tls",
    smtp_host: "smtp.mail.ru", smtp_port: 465, smtp_security: "tls", signature: "Support", poll_seconds: 30 },
  credentials_set: ["password"],
  mailbox: { imported: 12, backlog: 3, last_sync_at: "2026-12-06T10:00:00Z", last_error: "", last_error_at: null, resyncs: 0, automatic: 1 },
  recent_automatic_mail: [{ reason: "bounce", sender: "mailer-daemon@mx.example", subject: "Undelivered", detail: "nobody@example.com 5.1.1", received_at: "2026-12-06T09:00:00Z" }],
};

test("an email channel: the mailbox's health, a failed connection test names the step, a save keeps the password and poll interval", async () => {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (url === "/api/v1/channels/9" && method === "GET") return json(200, mailChannel);
    if (url === "/api/v1/channels/9" && method === "PATCH") return json(200, mailChannel);
    if (url === "/api/v1/lines") return json(200, { items: [{ id: 2, name: "Mail" }] });
    if (url.startsWith("/api/v1/channels/9/history")) return json(200, { items: [], next_before: null });
    if (url === "/api/v1/channels/9/test") return json(200, { ok: false, step: "login", error: "NO [AUTHENTICATIONFAILED] Invalid credentials", duration_ms: 41 });
    return json(404, { error: { code: "not_found", message: url } });
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <Channels loc={{ path: "/admin/channels/9", params: new URLSearchParams() }} />
      </SessionContext.Provider>
    </LangProvider>,
  );
  expect(await screen.findByText("Mailbox password: set")).toBeInTheDocument();
  expect(await screen.findByText("12")).toBeInTheDocument(); // imported
  expect(screen.getByText("3")).toBeInTheDocument(); // backlog
  await userEvent.click(screen.getByRole("button", { name: "Test connection" }));
  expect(await screen.findByText("The IMAP server refused the address and password.")).toBeInTheDocument();
  expect(screen.getByText("NO [AUTHENTICATIONFAILED] Invalid credentials")).toBeInTheDocument();

  await userEvent.clear(screen.getByLabelText("Signature"));
  await userEvent.type(screen.getByLabelText("Signature"), "Mail desk");
  await userEvent.click(screen.getAllByRole("button", { name: "Save" }).at(-1)!);
  await vi.waitFor(() => {
    const patch = fetch.mock.calls.find(([u, i]) => u === "/api/v1/channels/9" && i?.method === "PATCH");
    expect(patch).toBeTruthy();
    const body = JSON.parse(String(patch![1]!.body));
    expect(body.credentials).toBeUndefined(); // an empty password field keeps the password
    expect(body.settings).toMatchObject({ signature: "Mail desk", imap_port: 993, smtp_security: "tls", poll_seconds: 30, address: "support@desk.example" });
  });
}, 20_000);

test("the create form sends the seed's settings, ports as numbers, and the password as a credential", () => {
  expect(emailBody({ address: " support@desk.example ", password: "pw", imap_host: "imap.mail.ru", imap_port: "993", imap_security: "tls",
    smtp_host: "smtp.mail.ru", smtp_port: "587", smtp_security: "starttls", signature: "Sig", folder: "" }))
    .toEqual({ settings: { address: "support@desk.example", imap_host: "imap.mail.ru", imap_port: 993, imap_security: "tls",
      smtp_host: "smtp.mail.ru", smtp_port: 587, smtp_security: "starttls", signature: "Sig", folder: "" }, credentials: { password: "pw" } });
});
