// The phone channel kind: the PBX posts call events (Zammad's generic CTI shape) to a URL that
// holds the channel's secret. There is nothing to fill in; Connect shows the URL to give the PBX
// (admins only: it is the PBX's only credential).
import { useState } from "react";
import { api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import { ErrorNote } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";

export const phoneEmpty = () => ({});

export function PhoneCreateFields(_: CreateFieldsProps) {
  const t = useT();
  return <small className="help">{t("admin.phone.createHelp")}</small>;
}

interface Connection {
  steps: string[];
}

export function PhoneSettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
  const t = useT();
  const [connection, setConnection] = useState<Connection | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!canEdit) return <p className="muted">{t("admin.phone.adminsOnly")}</p>;
  const connect = async () => {
    setBusy(true);
    try {
      setConnection(await api.post<Connection>(`/api/v1/channels/${channel.id}/connect`));
      setError(null);
      onChanged(channel);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="kind-settings" aria-labelledby="phone-connect">
      <h3 id="phone-connect">{t("admin.phone.connectTitle")}</h3>
      <p className="muted">{t("admin.phone.connectHelp")}</p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => void connect()} disabled={busy}>{t("admin.phone.show")}</button>
      </div>
      {connection && <ol>{connection.steps.map((s) => <li key={s}><code>{s}</code></li>)}</ol>}
      <ErrorNote error={error} />
    </section>
  );
}
