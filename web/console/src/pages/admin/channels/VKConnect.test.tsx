import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../../../lib/i18n";
import { VKConnect } from "./VKConnect";

afterEach(() => vi.unstubAllGlobals());

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const lines = [{ id: 2, name: "Sales" }, { id: 5, name: "Support" }] as never[];

test("signing in with VK starts the OAuth for the chosen line and sends the browser to VK", async () => {
  const fetch = vi.fn(async () => json(200, { authorize_url: "https://oauth.vk.com/authorize?client_id=1" }));
  vi.stubGlobal("fetch", fetch);
  const assign = vi.fn();
  vi.stubGlobal("location", { ...window.location, assign });
  render(<LangProvider lang="en"><VKConnect lines={lines} connected={null} failed={null} /></LangProvider>);
  await userEvent.selectOptions(screen.getByLabelText("Line"), "5");
  await userEvent.click(screen.getByRole("button", { name: "Sign in with VK" }));
  await vi.waitFor(() => expect(assign).toHaveBeenCalledWith("https://oauth.vk.com/authorize?client_id=1"));
  expect(fetch).toHaveBeenCalledWith("/api/v1/vk/connect", expect.objectContaining({ method: "POST", body: JSON.stringify({ line_id: 5 }) }));
});

test("the result of the round trip and a missing VK app are told in the admin's words", async () => {
  vi.stubGlobal("fetch", vi.fn(async () => json(409, { error: { code: "vk_app_not_configured", message: "no VK app" } })));
  render(<LangProvider lang="ru"><VKConnect lines={lines} connected="Shop community, Shop support" failed={null} /></LangProvider>);
  expect(screen.getByText("Подключено: Shop community, Shop support.")).toBeInTheDocument();
  await userEvent.click(screen.getByRole("button", { name: "Авторизоваться во ВКонтакте" }));
  expect(await screen.findByText(/Приложение ВКонтакте не настроено/)).toBeInTheDocument();
});
