import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { LangProvider } from "../lib/i18n";
import { Login } from "./Login";

afterEach(() => vi.unstubAllGlobals());

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

test("a wrong password says so in the user's language and does not sign in", async () => {
  const fetch = answer(401, { error: { code: "invalid_credentials", message: "wrong email or password" } });
  vi.stubGlobal("fetch", fetch);
  const signedIn = vi.fn();
  render(
    <LangProvider lang="ru">
      <Login onSignedIn={signedIn} />
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Эл. почта"), "anna@example.com");
  await userEvent.type(screen.getByLabelText("Пароль"), "nope");
  await userEvent.click(screen.getByRole("button", { name: "Войти" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Неверная почта или пароль");
  expect(signedIn).not.toHaveBeenCalled();
  expect(fetch).toHaveBeenCalledWith("/api/v1/auth/login", expect.objectContaining({ method: "POST", body: JSON.stringify({ email: "anna@example.com", password: "nope" }) }));
});

test("throttled sign-in tells the user to wait", async () => {
  vi.stubGlobal("fetch", answer(429, { error: { code: "too_many_attempts", message: "too many attempts" } }));
  render(
    <LangProvider lang="en">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Email"), "a@example.com");
  await userEvent.type(screen.getByLabelText("Password"), "x");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts");
});

test("a good password signs in", async () => {
  vi.stubGlobal("fetch", answer(200, { user: { id: 1, email: "a@example.com", name: "A", role: "admin" } }));
  const signedIn = vi.fn();
  render(
    <LangProvider lang="en">
      <Login onSignedIn={signedIn} />
    </LangProvider>,
  );
  await userEvent.type(screen.getByLabelText("Email"), "a@example.com");
  await userEvent.type(screen.getByLabelText("Password"), "secret");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
  await vi.waitFor(() => expect(signedIn).toHaveBeenCalledOnce());
});

function config(sso: { enabled: boolean; label: string; login_url?: string }) {
  return vi.fn(async (path: string) =>
    path === "/api/v1/auth/config"
      ? new Response(JSON.stringify({ sso }), { status: 200, headers: { "Content-Type": "application/json" } })
      : new Response("{}", { status: 500 }),
  );
}

test("with single sign-on on, the SSO button leads to the provider, in the user's language", async () => {
  vi.stubGlobal("fetch", config({ enabled: true, label: "", login_url: "/api/v1/auth/oidc/login" }));
  render(
    <LangProvider lang="ru">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  const link = await screen.findByRole("link", { name: "Войти через SSO" });
  expect(link).toHaveAttribute("href", "/api/v1/auth/oidc/login");
  expect(screen.getByLabelText("Пароль")).toBeInTheDocument();
});

test("the desk's own label names the SSO button", async () => {
  vi.stubGlobal("fetch", config({ enabled: true, label: "Sign in with Example ID", login_url: "/api/v1/auth/oidc/login" }));
  render(
    <LangProvider lang="en">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  expect(await screen.findByRole("link", { name: "Sign in with Example ID" })).toBeInTheDocument();
});

test("with single sign-on off there is no SSO button", async () => {
  const fetch = config({ enabled: false, label: "" });
  vi.stubGlobal("fetch", fetch);
  render(
    <LangProvider lang="en">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  await vi.waitFor(() => expect(fetch).toHaveBeenCalledWith("/api/v1/auth/config", expect.anything()));
  expect(screen.queryByRole("link", { name: "Sign in with SSO" })).toBeNull();
});

test("a refused single sign-on says why once, and the address is cleaned", async () => {
  vi.stubGlobal("fetch", config({ enabled: true, label: "" }));
  history.replaceState(null, "", "/#sso_error=user_disabled");
  render(
    <LangProvider lang="en">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  expect(await screen.findByRole("alert")).toHaveTextContent("Your linedesk account is disabled");
  expect(location.hash).toBe("");
});

test("an unknown single sign-on error reads as a general failure", async () => {
  vi.stubGlobal("fetch", config({ enabled: true, label: "" }));
  history.replaceState(null, "", "/#sso_error=%3Cscript%3E");
  render(
    <LangProvider lang="ru">
      <Login onSignedIn={() => {}} />
    </LangProvider>,
  );
  expect(await screen.findByRole("alert")).toHaveTextContent("Единый вход не удался");
});
