import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../lib/i18n";
import { RegulationEditor, type Regulation } from "./Regulations";

afterEach(() => vi.unstubAllGlobals());
// Typing key by key is slow on a busy machine; these tests type a lot.
vi.setConfig({ testTimeout: 30000 });

const regulation: Regulation = {
  id: 7,
  name: "Office",
  first_response_minutes: 15,
  next_response_minutes: 30,
  resolution_minutes: 480,
  warn_before_minutes: 5,
  pause_stops_clock: true,
  calendar: { time_zone: "Europe/Moscow", week: { mon: [{ start: "09:00", end: "18:00" }], tue: [{ start: "09:00", end: "18:00" }] }, holidays: ["2027-01-07"] },
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

function answer(status: number, body: unknown) {
  return vi.fn(async (_url: string, init?: RequestInit) => {
    void init;
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
}

function sentBody(fetch: ReturnType<typeof answer>) {
  const init = fetch.mock.calls[0][1] as RequestInit;
  return JSON.parse(init.body as string);
}

async function retype(el: HTMLElement, value: string) {
  await userEvent.clear(el);
  if (value) await userEvent.type(el, value);
}

test("splitting Monday into two intervals PATCHes the whole calendar", async () => {
  const fetch = answer(200, regulation);
  vi.stubGlobal("fetch", fetch);
  const saved = vi.fn();
  render(
    <LangProvider lang="en">
      <RegulationEditor regulation={regulation} onSaved={saved} />
    </LangProvider>,
  );
  await retype(screen.getByLabelText("Monday, interval 1, to"), "13:00");
  await userEvent.click(screen.getByRole("button", { name: "Add an interval on Monday" }));
  await retype(screen.getByLabelText("Monday, interval 2, from"), "14:00");
  await retype(screen.getByLabelText("Monday, interval 2, to"), "19:30");
  await userEvent.click(screen.getByRole("button", { name: "Remove interval 1 on Tuesday" }));
  await retype(screen.getByLabelText("Resolution, min"), "600");
  await userEvent.type(screen.getByLabelText("Holiday date"), "2027-01-01");
  await userEvent.click(screen.getByRole("button", { name: "Add holiday" }));
  await userEvent.click(screen.getByRole("button", { name: "Save" }));

  await vi.waitFor(() => expect(saved).toHaveBeenCalledOnce());
  expect(fetch).toHaveBeenCalledOnce();
  expect(fetch.mock.calls[0][0]).toBe("/api/v1/regulations/7");
  expect((fetch.mock.calls[0][1] as RequestInit).method).toBe("PATCH");
  expect(sentBody(fetch)).toEqual({
    name: "Office",
    first_response_minutes: 15,
    next_response_minutes: 30,
    resolution_minutes: 600,
    warn_before_minutes: 5,
    pause_stops_clock: true,
    calendar: {
      time_zone: "Europe/Moscow",
      week: {
        mon: [
          { start: "09:00", end: "13:00" },
          { start: "14:00", end: "19:30" },
        ],
        tue: [],
        wed: [],
        thu: [],
        fri: [],
        sat: [],
        sun: [],
      },
      holidays: ["2027-01-01", "2027-01-07"],
    },
  });
});

test("an interval that ends before it starts is refused before sending", async () => {
  const fetch = answer(200, regulation);
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <RegulationEditor regulation={regulation} onSaved={() => {}} />
    </LangProvider>,
  );
  const end = screen.getByLabelText("Tuesday, interval 1, to");
  await retype(end, "08:00");
  await retype(screen.getByLabelText("Monday, interval 1, from"), "9:00");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));

  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("Nothing was sent");
  expect(alert).toHaveTextContent("Tuesday, interval 1: the start 09:00 is not before the end 08:00.");
  expect(alert).toHaveTextContent("Monday, interval 1: “9:00” is not a time between 00:00 and 24:00");
  expect(end).toHaveAttribute("aria-invalid", "true");
  expect(fetch).not.toHaveBeenCalled();
});

test("overlapping intervals of a day are refused before sending", async () => {
  const fetch = answer(200, regulation);
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="ru">
      <RegulationEditor regulation={regulation} onSaved={() => {}} />
    </LangProvider>,
  );
  await userEvent.click(screen.getByRole("button", { name: "Добавить интервал: Понедельник" }));
  await retype(screen.getByLabelText("Понедельник, интервал 2, с"), "17:00");
  await userEvent.click(screen.getByRole("button", { name: "Сохранить" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Понедельник, интервал 2 пересекается");
  expect(fetch).not.toHaveBeenCalled();
});

test("a new regulation is POSTed, and the server's invalid_fields are shown", async () => {
  const fetch = answer(400, { error: { code: "invalid_fields", message: "name is required; calendar: week.mon[0]: start 10:00 is not before end 09:00\nholidays[0]: malformed date \"x\" (want YYYY-MM-DD)" } });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <RegulationEditor regulation={null} onSaved={() => {}} />
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Name"), "Support 24/7");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("The server refused the change:");
  const items = within(alert).getAllByRole("listitem").map((li) => li.textContent);
  expect(items).toEqual(["name is required", "calendar: week.mon[0]: start 10:00 is not before end 09:00", 'holidays[0]: malformed date "x" (want YYYY-MM-DD)']);
  expect(fetch.mock.calls[0][0]).toBe("/api/v1/regulations");
  expect((fetch.mock.calls[0][1] as RequestInit).method).toBe("POST");
  const body = sentBody(fetch);
  expect(body.name).toBe("Support 24/7");
  expect(body.calendar.week.fri).toEqual([{ start: "09:00", end: "18:00" }]);
  expect(body.calendar.week.sat).toEqual([]);
});
