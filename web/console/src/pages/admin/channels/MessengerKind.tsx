// Messenger channel kinds (Telegram, Viber, VK, Messenger, Instagram, WhatsApp, Odnoklassniki):
// the admin pastes the platform's token, saves, and presses Connect; linedesk checks the token and
// registers its webhook with the platform, or lists what to paste on the platform's side. The
// token is write-only: the page shows whether it is set, never its value.
import { useState, type FormEvent } from "react";
import { api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import type { Key } from "../../../strings";
import { CopyField, ErrorNote } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";
import type { ChannelInfo } from "./types";

/** What differs between messengers: the credential's name and the words around it. */
export interface MessengerSpec {
  credential: string;
  credentialLabel: Key;
  credentialHelp: Key;
  placeholder: string;
  /** Whether the platform can also be polled (Telegram's getUpdates) instead of posting webhooks. */
  polling?: boolean;
  /** Settings the channel names on the platform (VK's community id, WhatsApp's number ids). */
  fields?: { name: string; label: Key; help?: Key; number?: boolean }[];
  /** The platform's URL holds the channel's secret and Connect registers it: none is shown to paste. */
  noWebhookURL?: boolean;
  /** A second secret the platform needs (Meta's app secret, which signs the webhooks). */
  second?: { credential: string; label: Key; help: Key };
}

export const telegramSpec: MessengerSpec = {
  credential: "bot_token",
  credentialLabel: "admin.tg.token",
  credentialHelp: "admin.tg.tokenHelp",
  placeholder: "123456789:AAE…",
  polling: true,
};

export const viberSpec: MessengerSpec = {
  credential: "auth_token",
  credentialLabel: "admin.viber.token",
  credentialHelp: "admin.viber.tokenHelp",
  placeholder: "4453b6ac1s345678-…",
};

const metaSecond = { credential: "app_secret", label: "admin.meta.appSecret" as Key, help: "admin.meta.appSecretHelp" as Key };

export const facebookSpec: MessengerSpec = {
  credential: "page_token",
  credentialLabel: "admin.meta.pageToken",
  credentialHelp: "admin.meta.pageTokenHelp",
  placeholder: "EAAG…",
  second: metaSecond,
};

export const instagramSpec: MessengerSpec = { ...facebookSpec };

export const vkSpec: MessengerSpec = {
  credential: "access_token",
  credentialLabel: "admin.vk.token",
  credentialHelp: "admin.vk.tokenHelp",
  placeholder: "vk1.a.…",
  fields: [{ name: "group_id", label: "admin.vk.group", number: true }],
};

export const whatsappSpec: MessengerSpec = {
  credential: "access_token",
  credentialLabel: "admin.wa.token",
  credentialHelp: "admin.wa.tokenHelp",
  placeholder: "EAAG…",
  second: metaSecond,
  fields: [
    { name: "phone_number_id", label: "admin.wa.phoneNumberId", help: "admin.wa.idsHelp" },
    { name: "business_account_id", label: "admin.wa.businessAccountId" },
  ],
};

export const okSpec: MessengerSpec = {
  credential: "access_token",
  credentialLabel: "admin.ok.token",
  credentialHelp: "admin.ok.tokenHelp",
  placeholder: "tkn1…",
  noWebhookURL: true,
};

/** The create form's value: the token travels as a credential, the rest as settings. */
export const messengerEmpty = () => ({ token: "", second: "", api_base_url: "" });

export function messengerBody(spec: MessengerSpec, v: Record<string, unknown>) {
  const settings: Record<string, unknown> = {};
  const base = String(v.api_base_url ?? "").trim();
  if (base) settings.api_base_url = base;
  for (const f of spec.fields ?? []) {
    const raw = String(v[f.name] ?? "").trim();
    settings[f.name] = f.number ? Number(raw) || 0 : raw;
  }
  const credentials: Record<string, string> = { [spec.credential]: String(v.token ?? "").trim() };
  if (spec.second) credentials[spec.second.credential] = String(v.second ?? "").trim();
  return { settings, credentials };
}

export function messengerCreateFields(spec: MessengerSpec) {
  return function CreateFields({ value, onChange }: CreateFieldsProps) {
    const t = useT();
    return (
      <>
        <label className="field">
          <span>{t(spec.credentialLabel)}</span>
          <input type="password" autoComplete="off" value={String(value.token ?? "")} placeholder={spec.placeholder} required
            onChange={(e) => onChange({ ...value, token: e.target.value })} aria-describedby="messenger-token-help" />
        </label>
        <small className="help" id="messenger-token-help">{t(spec.credentialHelp)}</small>
        {spec.second && (
          <>
            <label className="field">
              <span>{t(spec.second.label)}</span>
              <input type="password" autoComplete="off" value={String(value.second ?? "")} required onChange={(e) => onChange({ ...value, second: e.target.value })} />
            </label>
            <small className="help">{t(spec.second.help)}</small>
          </>
        )}
        {(spec.fields ?? []).map((f) => (
          <div key={f.name}>
            <label className="field">
              <span>{t(f.label)}</span>
              <input inputMode="numeric" value={String(value[f.name] ?? "")} required onChange={(e) => onChange({ ...value, [f.name]: e.target.value })} />
            </label>
            {f.help && <small className="help">{t(f.help)}</small>}
          </div>
        ))}
        <details>
          <summary>{t("admin.messenger.advanced")}</summary>
          <label className="field">
            <span>{t("admin.messenger.apiBase")}</span>
            <input type="url" value={String(value.api_base_url ?? "")} onChange={(e) => onChange({ ...value, api_base_url: e.target.value })} />
          </label>
          <small className="help">{t("admin.messenger.apiBaseHelp")}</small>
        </details>
      </>
    );
  };
}

interface Connection {
  webhook_url: string;
  registered: boolean;
  account?: string;
  steps: string[];
}

type MessengerChannel = ChannelInfo & { credentials_set?: string[]; webhook_url?: string };

export function messengerSettingsForm(spec: MessengerSpec) {
  return function SettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
    const t = useT();
    const c = channel as MessengerChannel;
    const tokenSet = (c.credentials_set ?? []).includes(spec.credential);
    const [token, setToken] = useState("");
    const [second, setSecond] = useState("");
    const [base, setBase] = useState(String(c.settings.api_base_url ?? ""));
    const [receive, setReceive] = useState(String(c.settings.receive ?? "webhook"));
    const [error, setError] = useState<unknown>(null);
    const [saved, setSaved] = useState(false);
    const [busy, setBusy] = useState(false);
    const [connection, setConnection] = useState<Connection | null>(null);

    const save = async (e: FormEvent) => {
      e.preventDefault();
      setBusy(true);
      setSaved(false);
      try {
        const settings: Record<string, unknown> = {};
        if (base.trim()) settings.api_base_url = base.trim();
        if (spec.polling && receive === "polling") settings.receive = "polling";
        for (const f of spec.fields ?? []) settings[f.name] = c.settings[f.name];
        const body: Record<string, unknown> = { settings };
        const credentials: Record<string, string> = {};
        if (token.trim()) credentials[spec.credential] = token.trim();
        if (spec.second && second.trim()) credentials[spec.second.credential] = second.trim();
        if (Object.keys(credentials).length) body.credentials = credentials;
        const n = await api.patch<ChannelInfo>(`/api/v1/channels/${channel.id}`, body);
        setToken("");
        setSecond("");
        setError(null);
        setSaved(true);
        onChanged(n);
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    };
    const connect = async () => {
      setBusy(true);
      setConnection(null);
      try {
        setConnection(await api.post<Connection>(`/api/v1/channels/${channel.id}/connect`));
        setError(null);
        onChanged(channel); // the history gains the connect
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    };

    return (
      <div className="kind-settings">
        {c.webhook_url && !spec.noWebhookURL && c.settings.receive !== "polling" && <CopyField label={t("admin.messenger.webhook")} value={c.webhook_url} />}
        <form onSubmit={(e) => void save(e)} className="form">
          <p className={tokenSet ? "ok" : "warn"} role="status">
            {t(spec.credentialLabel)}: {tokenSet ? t("admin.messenger.tokenSet") : t("admin.messenger.tokenMissing")}
          </p>
          {canEdit && (
            <>
              <label className="field">
                <span>{tokenSet ? t("admin.messenger.replaceToken") : t(spec.credentialLabel)}</span>
                <input type="password" autoComplete="off" value={token} placeholder={spec.placeholder} onChange={(e) => setToken(e.target.value)} />
              </label>
              {spec.second && (
                <label className="field">
                  <span>{t(spec.second.label)}: {(c.credentials_set ?? []).includes(spec.second.credential) ? t("admin.messenger.tokenSet") : t("admin.messenger.tokenMissing")}</span>
                  <input type="password" autoComplete="off" value={second} onChange={(e) => setSecond(e.target.value)} />
                </label>
              )}
              {spec.polling && (
                <label className="field">
                  <span>{t("admin.messenger.receive")}</span>
                  <select value={receive} onChange={(e) => setReceive(e.target.value)}>
                    <option value="webhook">{t("admin.messenger.receive.webhook")}</option>
                    <option value="polling">{t("admin.messenger.receive.polling")}</option>
                  </select>
                </label>
              )}
              <label className="field">
                <span>{t("admin.messenger.apiBase")}</span>
                <input type="url" value={base} onChange={(e) => setBase(e.target.value)} />
              </label>
              <small className="help">{t("admin.messenger.apiBaseHelp")}</small>
              <div className="actions">
                <button type="submit" disabled={busy}>{t("common.save")}</button>
                {saved && <span role="status" className="ok">{t("common.saved")}</span>}
              </div>
            </>
          )}
        </form>
        {canEdit && (
          <section aria-labelledby="messenger-connect">
            <h3 id="messenger-connect">{t("admin.messenger.connectTitle")}</h3>
            <p className="muted">{t("admin.messenger.connectHelp")}</p>
            <div className="actions">
              <button type="button" className="primary" onClick={() => void connect()} disabled={busy || !tokenSet}>{t("admin.messenger.connect")}</button>
            </div>
            {connection && (
              <p role="status" className="ok">
                {connection.registered ? t("admin.messenger.connected", { account: connection.account ?? "" }) : t("admin.messenger.pasteSteps")}
              </p>
            )}
            {connection && connection.steps.length > 0 && (
              <ol>{connection.steps.map((s) => <li key={s}>{s}</li>)}</ol>
            )}
          </section>
        )}
        <ErrorNote error={error} />
      </div>
    );
  };
}
