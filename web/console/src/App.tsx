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
    if (me) events.start();
    else events.stop();
  }, [me]);

  if (me === undefined) return <div className="boot">{t("common.loading")}</div>;
  if (me === null) return <Login onSignedIn={load} />;
  return (
    <SessionContext.Provider value={me}>
      <Shell onSignedOut={() => setMe(null)} onChanged={load} />
    </SessionContext.Provider>
  );
}
