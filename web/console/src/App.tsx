import { useCallback, useEffect, useState } from "react";
import { api, onUnauthorized } from "./lib/api";
import { events } from "./lib/events";
import { SessionContext } from "./lib/session";
import type { Me } from "./lib/types";
import { useT } from "./lib/i18n";
import { Login } from "./pages/Login";
import { Shell } from "./pages/Shell";

export function App() {
  const t = useT();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  // The views load once the live stream is open (see lib/events.ts), so nothing changes unseen
  // between their first load and the stream's start.
  const [live, setLive] = useState(false);

  const load = useCallback(async () => {
    try {
      setMe(await api.get<Me>("/api/v1/me"));
    } catch {
      setMe(null);
    }
  }, []);

  useEffect(() => {
    // A one-time password link (#set-password=<token>) shows the login page's password form.
    if (location.hash.includes("set-password=")) setMe(null);
    else void load();
    return onUnauthorized(() => setMe(null));
  }, [load]);

  useEffect(() => {
    if (!me) {
      events.stop();
      setLive(false);
      return;
    }
    events.start();
    let on = true;
    void events.ready().then(() => on && setLive(true));
    return () => {
      on = false;
    };
  }, [me]);

  if (me === undefined || (me && !live)) return <div className="boot">{t("common.loading")}</div>;
  if (me === null) return <Login onSignedIn={load} />;
  return (
    <SessionContext.Provider value={me}>
      <Shell onSignedOut={() => setMe(null)} onChanged={load} />
    </SessionContext.Provider>
  );
}
