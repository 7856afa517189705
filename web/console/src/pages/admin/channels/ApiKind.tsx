// The `api` channel kind: an integration posts client messages to the inbound URL with the
// channel's bearer token and receives operator messages at its callback URL, signed with the
// channel secret.
import { useState, type FormEvent } from "react";
import { api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import type { Key } from "../../../strings";
import { CopyField, ErrorNote } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";
import type { ChannelInfo, CreatedChannel } from "./types";

export const apiEmptySettings = () => ({ callback_url: "" });

export function inboundURL(id: number): string {
  return `${location.origin}/api/v1/channels/${id}/inbound`;
}

export function curlExample(id: number, token: string): string {
  return [
    `curl -X POST '${inboundURL(id)}' \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -H 'Idempotency-Key: msg-1' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '{"contact":{"external_id":"client-1","name":"Client"},"text":"Hello"}'`,
  ].join("\n");
}

export function ApiCreateFields({ value, onChange }: CreateFieldsProps) {
  const t = useT();
  return (
    <>
    <label className="field">
      <span>{t("admin.api.callback")}</span>
      <input type="url" value={String(value.callback_url ?? "")} placeholder="https://example.com/linedesk" required
        onChange={(e) => onChange({ ...value, callback_url: e.target.value })} aria-describedby="api-callback-help" />
    </label>
    <small className="help" id="api-callback-help">{t("admin.api.callbackHelp")}</small>
    </>
  );
}

/** ApiCreated shows the inbound URL, token and secret once: the API never returns them again. */
export function ApiCreated({ created }: { created: CreatedChannel }) {
  const t = useT();
  const id = created.channel.id;
  return (
    <div className="once">
      <p className="warn" role="note">{t("admin.api.onceWarning")}</p>
      <CopyField label={t("admin.api.inboundURL")} value={"POST " + inboundURL(id)} />
      <CopyField label={t("admin.api.token")} value={created.inbound_token} />
      <CopyField label={t("admin.api.secret")} value={created.secret} />
      <CopyField label={t("admin.api.curl")} value={curlExample(id, created.inbound_token)} multiline />
    </div>
  );
}

export function ApiSettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
  const t = useT();
  const [callback, setCallback] = useState(String(channel.settings.callback_url ?? ""));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState("");
  const [secret, setSecret] = useState("");
  const [check, setCheck] = useState<ConnectionCheck | null>(null);
  const [checking, setChecking] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const c = await api.patch<ChannelInfo>(`/api/v1/channels/${channel.id}`, { settings: { ...channel.settings, callback_url: callback.trim() } });
      setError(null);
      setSaved(true);
      onChanged(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const rotateToken = async () => {
    if (!confirm(t("admin.api.rotateTokenConfirm"))) return;
    try {
      const r = await api.post<{ inbound_token: string }>(`/api/v1/channels/${channel.id}/rotate-token`);
      setToken(r.inbound_token);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  const rotateSecret = async () => {
    if (!confirm(t("admin.api.rotateSecretConfirm"))) return;
    try {
      const r = await api.post<{ secret: string }>(`/api/v1/channels/${channel.id}/rotate-secret`);
      setSecret(r.secret);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };

  const testConnection = async () => {
    setChecking(true);
    setCheck(null);
    try {
      setCheck(await api.post<ConnectionCheck>(`/api/v1/channels/${channel.id}/test`));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setChecking(false);
    }
  };

  return (
    <div className="kind-settings">
      <form onSubmit={(e) => void save(e)} className="form">
        <label className="field">
          <span>{t("admin.api.callback")}</span>
          <input type="url" value={callback} onChange={(e) => setCallback(e.target.value)} required readOnly={!canEdit} aria-describedby="api-callback-help2" />
        </label>
        <small className="help" id="api-callback-help2">{t("admin.api.callbackHelp")}</small>
        {canEdit && (
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>{t("common.save")}</button>
            {saved && <span role="status" className="ok">{t("common.saved")}</span>}
          </div>
        )}
      </form>
      <section aria-labelledby="api-test">
        <h3 id="api-test">{t("admin.api.testTitle")}</h3>
        <p className="muted">{t("admin.api.testHelp")}</p>
        <div className="actions">
          <button type="button" onClick={() => void testConnection()} disabled={checking}>
            {checking ? t("admin.api.testing") : t("admin.api.test")}
          </button>
        </div>
        {check && (
          <p role="status" className={check.ok ? "ok" : "warn"}>
            {check.ok
              ? t("admin.api.testOK", { status: check.status_code ?? 200, ms: check.duration_ms })
              : t(("admin.api.testFailed." + (check.step ?? "request")) as Key, { status: check.status_code ?? 0 })}
            {!check.ok && check.error && <span className="muted"> ({check.error})</span>}
          </p>
        )}
      </section>
      <CopyField label={t("admin.api.inboundURL")} value={"POST " + inboundURL(channel.id)} />
      {canEdit && <section aria-labelledby="api-creds">
        <h3 id="api-creds">{t("admin.api.credentials")}</h3>
        <p className="muted">{t("admin.api.credentialsHelp")}</p>
        <div className="actions">
          <button type="button" onClick={() => void rotateToken()}>{t("admin.api.rotateToken")}</button>
          <button type="button" onClick={() => void rotateSecret()}>{t("admin.api.rotateSecret")}</button>
        </div>
        {(token || secret) && <p className="warn" role="note">{t("admin.api.onceWarning")}</p>}
        {token && <CopyField label={t("admin.api.newToken")} value={token} />}
        {token && <CopyField label={t("admin.api.curl")} value={curlExample(channel.id, token)} multiline />}
        {secret && <CopyField label={t("admin.api.newSecret")} value={secret} />}
      </section>}
      <ErrorNote error={error} />
    </div>
  );
}

interface ConnectionCheck {
  ok: boolean;
  step?: "address" | "request" | "answer";
  status_code?: number;
  error?: string;
  duration_ms: number;
}
