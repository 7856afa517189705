import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { SessionContext } from "../../lib/session";
import type { Me } from "../../lib/types";
import { SupervisorReports } from "./Reports";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const admin: Me = {
  user: { id: 1, email: "a@example.com", name: "A", role: "admin", presence: "online", created_at: "" },
  access: { operator_lines: [], supervisor_lines: [], queue_lines: [], permissions: [] },
};
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
const row = (key: string, label: string, opened: number, closed: number) => ({
  key, label, opened, closed, sla_met: closed, sla_breached: 0,
  first_response: { count: 1, median_seconds: 600, p90_seconds: 7200 }, resolution: { count: 0, median_seconds: null, p90_seconds: null },
  csat: { bad: 1, normal: 0, excellent: 1, score: 50 }, client_ratings: { bad: 0, normal: 1, excellent: 0, score: 0 },
});

test("the report draws its chart and table, and its files follow the filters", async () => {
  const fetch = vi.fn(async (url: string) => {
    if (url === "/api/v1/lines") return json({ items: [{ id: 2, name: "Sales" }] });
    if (url.includes("group=line"))
      return json({ group: "line", rows: [row("2", "Sales", 3, 1)], total: row("total", "", 3, 1), backlog: null });
    return json({ group: "day", rows: [row("2026-12-01", "2026-12-01", 2, 1), row("2026-12-02", "2026-12-02", 1, 0)],
      total: row("total", "", 3, 1), backlog: [{ at: "", open: 1 }, { at: "", open: 2 }] });
  });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <SessionContext.Provider value={admin}>
        <SupervisorReports />
      </SessionContext.Provider>
    </LangProvider>,
  );
  const chart = await screen.findByRole("img", { name: "Opened and closed conversations" });
  expect(chart.querySelectorAll("rect.bar")).toHaveLength(4);
  expect(chart.querySelector("polyline.backlog")).not.toBeNull();
  expect(screen.getByRole("rowheader", { name: "Total" })).toBeInTheDocument();
  expect(screen.getAllByText("10m / 2h 00m")).toHaveLength(3);

  await userEvent.selectOptions(screen.getByLabelText("By"), "line");
  await userEvent.selectOptions(screen.getByLabelText("Line"), "2");
  await userEvent.click(screen.getByRole("button", { name: "Show" }));
  expect(await screen.findByRole("rowheader", { name: "Sales" })).toBeInTheDocument();
  expect(screen.getByRole("img").querySelector("polyline")).toBeNull();
  const csv = screen.getAllByRole("link", { name: "CSV" })[0].getAttribute("href")!;
  expect(csv).toContain("/api/v1/reports/conversations?");
  expect(csv).toContain("group=line");
  expect(csv).toContain("line=2");
  expect(csv).toContain("format=csv");
}, 20_000);
