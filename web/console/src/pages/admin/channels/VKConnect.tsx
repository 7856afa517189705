// Connecting VK communities through VK's sign-in (seed 000: "Авторизоваться", "Разрешить", tick
// the communities): the admin picks the line, the browser goes to VK and comes back to the channel
// list, which says what was connected (or why not).
import { useState } from "react";
import { ApiError, api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import { ErrorNote } from "./form";
import type { LineInfo } from "./types";

export function VKConnect({ lines, connected, failed }: { lines: LineInfo[]; connected: string | null; failed: string | null }) {
  const t = useT();
  const [line, setLine] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const lineID = line || lines[0]?.id || 0;
  const start = async () => {
    setBusy(true);
    try {
      const r = await api.post<{ authorize_url: string }>("/api/v1/vk/connect", { line_id: lineID });
      window.location.assign(r.authorize_url);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "vk_app_not_configured" ? new Error(t("admin.vk.oauth.noApp")) : err);
      setBusy(false);
    }
  };
  return (
    <section className="vk-connect" aria-labelledby="vk-connect-title">
      <h2 id="vk-connect-title">{t("admin.vk.oauth.title")}</h2>
      {connected && <p role="status" className="ok">{t("admin.vk.oauth.connected", { names: connected })}</p>}
      {failed && <p role="alert" className="error">{t("admin.vk.oauth.failed", { reason: failed })}</p>}
      <p className="muted">{t("admin.vk.oauth.help")}</p>
      <div className="actions">
        <label className="field">
          <span>{t("admin.channels.line")}</span>
          <select value={lineID} onChange={(e) => setLine(Number(e.target.value))}>
            {lines.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => void start()} disabled={busy || !lineID}>{t("admin.vk.oauth.start")}</button>
      </div>
      <ErrorNote error={error} />
    </section>
  );
}
