// The email channel kind (seed 000): the mailbox's address and password, the IMAP and SMTP
// servers each with their port and encryption, the signature. "Test connection" signs in to both
// servers and says at which step it failed; the page shows the intake's health (last sync,
// backlog, last error) and the auto-replies and bounces it recorded without answering.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../../lib/api";
import { formatTime, useI18n, useT } from "../../../lib/i18n";
import type { Key } from "../../../strings";
import { ErrorNote } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";
import type { ChannelInfo } from "./types";

const securities = ["tls", "starttls", "none"] as const;

/** The create form's value: the password travels as a credential, the rest as settings. */
export const emailEmpty = () => ({
  address: "", password: "", imap_host: "", imap_port: "993", imap_security: "tls",
  smtp_host: "", smtp_port: "465", smtp_security: "tls", signature: "", folder: "",
});

const defaultPort = (proto: "imap" | "smtp", security: string) =>
  proto === "imap" ? (security === "tls" ? "993" : "143") : ({ tls: "465", starttls: "587", none: "25" } as Record<string, string>)[security];

function settingsOf(v: Record<string, unknown>): Record<string, unknown> {
  const s: Record<string, unknown> = {
    address: String(v.address ?? "").trim(),
    imap_host: String(v.imap_host ?? "").trim(),
    imap_port: Number(v.imap_port) || 0,
    imap_security: v.imap_security,
    smtp_host: String(v.smtp_host ?? "").trim(),
    smtp_port: Number(v.smtp_port) || 0,
    smtp_security: v.smtp_security,
    signature: String(v.signature ?? ""),
  };
  s.folder = String(v.folder ?? "").trim(); // "" reads INBOX
  return s;
}

export function emailBody(v: Record<string, unknown>) {
  return { settings: settingsOf(v), credentials: { password: String(v.password ?? "") } };
}

/** MailFields are the seed's settings, shared by the create form and the channel's page. */
function MailFields({ value, onChange, passwordLabel, passwordRequired }: CreateFieldsProps & { passwordLabel: string; passwordRequired: boolean }) {
  const t = useT();
  const set = (k: string) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  const server = (proto: "imap" | "smtp") => (
    <fieldset className="mail-server">
      <legend>{t(`admin.email.${proto}` as Key)}</legend>
      <label className="field">
        <span>{t("admin.email.host")}</span>
        <input name={`${proto}_host`} value={String(value[`${proto}_host`] ?? "")} required placeholder={proto === "imap" ? "imap.mail.ru" : "smtp.mail.ru"} onChange={set(`${proto}_host`)} />
      </label>
      <label className="field">
        <span>{t("admin.email.port")}</span>
        <input name={`${proto}_port`} inputMode="numeric" value={String(value[`${proto}_port`] ?? "")} required onChange={set(`${proto}_port`)} />
      </label>
      <label className="field">
        <span>{t("admin.email.security")}</span>
        <select name={`${proto}_security`} value={String(value[`${proto}_security`] ?? "tls")}
          onChange={(e) => onChange({ ...value, [`${proto}_security`]: e.target.value, [`${proto}_port`]: defaultPort(proto, e.target.value) })}>
          {securities.map((s) => <option key={s} value={s}>{t(`admin.email.security.${s}` as Key)}</option>)}
        </select>
      </label>
    </fieldset>
  );
  return (
    <>
      <label className="field">
        <span>{t("admin.email.address")}</span>
        <input name="address" type="email" value={String(value.address ?? "")} required placeholder="support@example.com" onChange={set("address")} />
      </label>
      <label className="field">
        <span>{passwordLabel}</span>
        <input name="password" type="password" autoComplete="off" value={String(value.password ?? "")} required={passwordRequired} onChange={set("password")} />
      </label>
      <small className="help">{t("admin.email.serversHelp")}</small>
      {server("imap")}
      {server("smtp")}
      <label className="field">
        <span>{t("admin.email.signature")}</span>
        <textarea name="signature" rows={3} value={String(value.signature ?? "")} onChange={set("signature")} />
      </label>
      <details>
        <summary>{t("admin.messenger.advanced")}</summary>
        <label className="field">
          <span>{t("admin.email.folder")}</span>
          <input name="folder" value={String(value.folder ?? "")} placeholder="INBOX" onChange={set("folder")} />
        </label>
      </details>
    </>
  );
}

export function EmailCreateFields(props: CreateFieldsProps) {
  const t = useT();
  return <MailFields {...props} passwordLabel={t("admin.email.password")} passwordRequired />;
}

interface Mailbox {
  imported: number;
  backlog: number;
  last_sync_at: string | null;
  last_error: string;
  last_error_at: string | null;
  resyncs: number;
  automatic: number;
}

interface AutomaticMail {
  reason: string;
  sender: string;
  subject: string;
  detail: string;
  received_at: string;
}

type EmailChannel = ChannelInfo & { credentials_set?: string[]; mailbox?: Mailbox; recent_automatic_mail?: AutomaticMail[] };

interface Check {
  ok: boolean;
  step?: string;
  error?: string;
  duration_ms: number;
}

const steps = ["settings", "dns", "connect", "tls", "login", "folder", "smtp_dns", "smtp_connect", "smtp_login"];

export function EmailSettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
  const t = useT();
  const { lang } = useI18n();
  const s = channel.settings;
  const [value, setValue] = useState<Record<string, unknown>>({
    ...emailEmpty(), ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v ?? "")])), password: "",
  });
  const [health, setHealth] = useState<EmailChannel | null>(null);
  const [check, setCheck] = useState<Check | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      setHealth(await api.get<EmailChannel>(`/api/v1/channels/${channel.id}`));
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
    const every = setInterval(() => void load(), 10_000);
    return () => clearInterval(every);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [channel.id]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      // Settings this page does not show (poll_seconds, username) stay as they are.
      const body: Record<string, unknown> = { settings: { ...s, ...settingsOf(value) } };
      if (String(value.password ?? "")) body.credentials = { password: String(value.password) };
      const n = await api.patch<ChannelInfo>(`/api/v1/channels/${channel.id}`, body);
      setValue((v) => ({ ...v, password: "" }));
      setError(null);
      setSaved(true);
      onChanged(n);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const test = async () => {
    setBusy(true);
    setCheck(null);
    try {
      setCheck(await api.post<Check>(`/api/v1/channels/${channel.id}/test`));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const passwordSet = (health?.credentials_set ?? (channel as EmailChannel).credentials_set ?? []).includes("password");
  const box = health?.mailbox;
  return (
    <div className="kind-settings">
      <section aria-labelledby="mail-health" className="mail-health">
        <h3 id="mail-health">{t("admin.email.health")}</h3>
        {box && (
          <dl>
            <dt>{t("admin.email.lastSync")}</dt>
            <dd>{box.last_sync_at ? formatTime(lang, box.last_sync_at, true) : t("admin.email.never")}</dd>
            <dt>{t("admin.email.imported")}</dt>
            <dd>{box.imported}</dd>
            <dt>{t("admin.email.backlog")}</dt>
            <dd>{box.backlog}</dd>
            <dt>{t("admin.email.automatic")}</dt>
            <dd>{box.automatic}</dd>
            {box.last_error && (
              <>
                <dt>{t("admin.email.lastError")}</dt>
                <dd className="warn" role="status">{box.last_error}{box.last_error_at && ` (${formatTime(lang, box.last_error_at, true)})`}</dd>
              </>
            )}
          </dl>
        )}
        {(health?.recent_automatic_mail ?? []).length > 0 && (
          <details>
            <summary>{t("admin.email.recentAutomatic")}</summary>
            <ul>
              {health!.recent_automatic_mail!.map((a, i) => (
                <li key={i}>{formatTime(lang, a.received_at, true)} · {t(`admin.email.auto.${a.reason}` as Key)} · {a.sender} · {a.subject}{a.detail && ` — ${a.detail}`}</li>
              ))}
            </ul>
          </details>
        )}
      </section>
      <section aria-labelledby="mail-test">
        <h3 id="mail-test">{t("admin.email.testTitle")}</h3>
        <div className="actions">
          <button type="button" className="primary" onClick={() => void test()} disabled={busy || !passwordSet}>{t("admin.email.test")}</button>
        </div>
        {check && check.ok && <p role="status" className="ok">{t("admin.email.testOK", { ms: check.duration_ms })}</p>}
        {check && !check.ok && (
          <div role="alert" className="form-error">
            <strong>{t(`admin.email.step.${steps.includes(check.step ?? "") ? check.step : "connect"}` as Key)}</strong>
            <p><code>{check.error}</code></p>
          </div>
        )}
      </section>
      <form onSubmit={(e) => void save(e)} className="form">
        <p className={passwordSet ? "ok" : "warn"} role="status">
          {t("admin.email.password")}: {passwordSet ? t("admin.messenger.tokenSet") : t("admin.messenger.tokenMissing")}
        </p>
        {canEdit ? (
          <>
            <MailFields value={value} onChange={setValue} passwordLabel={passwordSet ? t("admin.email.replacePassword") : t("admin.email.password")} passwordRequired={!passwordSet} />
            <div className="actions">
              <button type="submit" disabled={busy}>{t("common.save")}</button>
              {saved && <span role="status" className="ok">{t("common.saved")}</span>}
            </div>
          </>
        ) : (
          <p>{String(s.address ?? "")} · IMAP {String(s.imap_host ?? "")}:{String(s.imap_port ?? "")} · SMTP {String(s.smtp_host ?? "")}:{String(s.smtp_port ?? "")}</p>
        )}
      </form>
      <ErrorNote error={error} />
    </div>
  );
}
