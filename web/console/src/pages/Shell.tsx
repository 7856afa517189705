import { useEffect, useState } from "react";
import { api, ApiError } from "../lib/api";
import { events } from "../lib/events";
import { useT } from "../lib/i18n";
import { linkHandler, navigate, useLocation } from "../lib/router";
import { useSession } from "../lib/session";
import type { Presence } from "../lib/types";
import { LangSwitch } from "../components/LangSwitch";
import { NotificationBell } from "../components/Notifications";
import { IncomingCall } from "../components/IncomingCall";
import { routes } from "../routes";

/** Shell is the signed-in frame: navigation, the user's status, language, and the screen. */
export function Shell({ onSignedOut, onChanged }: { onSignedOut: () => void; onChanged: () => void }) {
  const t = useT();
  const me = useSession();
  const loc = useLocation();
  const [connected, setConnected] = useState(true);
  const [presenceError, setPresenceError] = useState("");

  useEffect(() => events.onState(setConnected), []);
  useEffect(() => {
    if (loc.path === "/") navigate("/inbox", true);
  }, [loc.path]);

  const setPresence = async (p: Presence) => {
    try {
      await api.put("/api/v1/me/status", { status: p });
      setPresenceError("");
      onChanged();
    } catch (err) {
      if (err instanceof ApiError && err.code === "open_work") {
        const list = ((err.details?.conversations as number[] | undefined) ?? []).map((n) => "№" + n).join(", ");
        setPresenceError(t("presence.openWork", { list }));
      } else setPresenceError(err instanceof Error ? err.message : String(err));
    }
  };

  const signOut = async () => {
    await api.post("/api/v1/auth/logout").catch(() => undefined);
    onSignedOut();
  };

  const nav = routes.filter((r) => r.nav && r.allowed(me));
  const route = routes.find((r) => r.match(loc.path) && r.allowed(me));

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">{t("app.name")}</span>
        <nav aria-label="main">
          {nav.map((r) => (
            <a key={r.nav!.path} href={r.nav!.path} onClick={linkHandler(r.nav!.path)} aria-current={loc.path.startsWith(r.nav!.prefix) ? "page" : undefined}>
              {t(r.nav!.label)}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        {!connected && <span className="offline-banner" role="status">{t("common.reconnecting")}</span>}
        <NotificationBell />
        <label className="presence">
          <span className="visually-hidden">{me.user.name}</span>
          <select value={me.user.presence} onChange={(e) => void setPresence(e.target.value as Presence)} aria-label={t("presence." + me.user.presence as "presence.online")} data-presence={me.user.presence}>
            <option value="online">{t("presence.online")}</option>
            <option value="away">{t("presence.away")}</option>
            <option value="offline">{t("presence.offline")}</option>
          </select>
        </label>
        <span className="who" title={me.user.email}>{me.user.name || me.user.email}</span>
        <LangSwitch />
        <button type="button" className="link" onClick={() => void signOut()}>{t("nav.signOut")}</button>
      </header>
      {presenceError && <div className="error banner" role="alert">{presenceError}</div>}
      <main className="screen">{route ? route.render(loc) : <p className="empty">{t("error.notFound")}</p>}</main>
      <IncomingCall />
    </div>
  );
}
