import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError } from "../lib/api";
import { useI18n } from "../lib/i18n";
import type { Key } from "../strings";
import { LangSwitch } from "../components/LangSwitch";

/** What GET /api/v1/auth/config says about single sign-on. */
interface SSOSettings {
  enabled: boolean;
  label: string;
  login_url?: string;
}

/** The codes a refused single sign-on comes back with (#sso_error=<code>). */
const ssoErrors = ["state_mismatch", "login_expired", "access_denied", "provider_error", "provider_unavailable", "exchange_failed", "invalid_token", "token_expired", "no_email", "email_not_verified", "no_role", "user_disabled", "unavailable", "sso_off", "sso_failed"];

export function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useI18n();
  const linkToken = new URLSearchParams(location.hash.slice(1)).get("set-password");
  const [ssoError] = useState(() => new URLSearchParams(location.hash.slice(1)).get("sso_error"));
  const [sso, setSSO] = useState<SSOSettings | null>(null);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(() =>
    ssoError ? t(("login.sso.error." + (ssoErrors.includes(ssoError) ? ssoError : "sso_failed")) as Key) : "",
  );
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // The code is shown once; a reload shows a clean page.
    if (ssoError) history.replaceState(null, "", location.pathname + location.search);
    let live = true;
    api
      .get<{ sso?: SSOSettings }>("/api/v1/auth/config")
      .then((r) => live && setSSO(r?.sso?.enabled ? r.sso : null))
      .catch(() => live && setSSO(null));
    return () => {
      live = false;
    };
  }, [ssoError]);

  const explain = (err: unknown) => {
    if (!(err instanceof ApiError)) return t("error.generic", { message: String(err) });
    if (err.status === 401) return t("login.wrong");
    if (err.status === 429) return t("login.throttled", { minutes: 15 });
    if (err.status === 0) return t("error.network");
    return err.message;
  };

  const signIn = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    try {
      await api.post("/api/v1/auth/login", { email, password });
      setError("");
      onSignedIn();
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  const setOwnPassword = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    try {
      const r = await api.post<{ user: { email: string } }>("/api/v1/auth/password", { token: linkToken, password });
      history.replaceState(null, "", "/");
      await api.post("/api/v1/auth/login", { email: r.user.email, password });
      onSignedIn();
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login-lang">
        <LangSwitch />
      </div>
      <h1>{t("app.name")}</h1>
      <p className="sub">{t("app.subtitle")}</p>
      {linkToken ? (
        <form onSubmit={setOwnPassword}>
          <label htmlFor="newpw">{t("login.newPassword")}</label>
          <input id="newpw" type="password" autoComplete="new-password" minLength={8} required value={password} onChange={(e) => setPassword(e.target.value)} />
          <button type="submit" className="primary wide" disabled={busy}>{t("login.savePassword")}</button>
          <div className="error" role="alert">{error}</div>
        </form>
      ) : (
        <>
          {sso && (
            <div className="login-sso">
              <a className="sso-button" href={sso.login_url ?? "/api/v1/auth/oidc/login"}>
                {sso.label || t("login.sso.button")}
              </a>
              <p className="login-or">{t("login.sso.or")}</p>
            </div>
          )}
          <form onSubmit={signIn}>
            <label htmlFor="email">{t("login.email")}</label>
            <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
            <label htmlFor="password">{t("login.password")}</label>
            <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <button type="submit" className="primary wide" disabled={busy}>{t("login.submit")}</button>
            <div className="error" role="alert">{error}</div>
          </form>
        </>
      )}
    </main>
  );
}
