// Webhooks: integrators' subscriptions to the desk's events, their signing secret (shown once)
// and the log of what was delivered, with a retry for what failed.
import { useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, navigate, type Location } from "../../lib/router";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, Problems, problemsOf, SecretOnce, useFlash, useResource } from "./shared";
import "./settings.css";

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  line_id: number | null;
  description: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

interface Attempt {
  at: string;
  status_code: number | null;
  error: string;
  duration_ms: number;
}

interface Delivery {
  id: string;
  event: string;
  status: "pending" | "delivered" | "failed";
  payload: unknown;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  attempts: Attempt[];
}

interface Line {
  id: number;
  name: string;
}

/** The events a webhook may subscribe to (api/openapi.yaml, WebhookEvent). */
export const webhookEvents = [
  "conversation.opened", "conversation.taken", "conversation.routed", "conversation.assigned",
  "conversation.transferred", "conversation.returned", "conversation.paused", "conversation.resumed",
  "conversation.replied", "conversation.note_added", "conversation.edited", "conversation.closed",
  "conversation.auto_closed", "conversation.csat_answered", "conversation.sla_warning", "conversation.sla_breached", "conversation.labeled",
  "message.created", "message.delivery_failed",
];

export function Webhooks({ loc }: { loc: Location }) {
  const t = useT();
  const sub = loc.path.replace(/^\/admin\/webhooks\/?/, "");
  const list = useResource(() => api.get<{ items: Webhook[] }>("/api/v1/webhooks").then((r) => r.items), []);
  const lines = useResource(() => api.get<{ items: Line[] }>("/api/v1/lines").then((r) => r.items), []);
  const [secret, setSecret] = useState<{ id: number; value: string } | null>(null);
  const current = sub && sub !== "new" ? list.value?.find((w) => String(w.id) === sub) : undefined;

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="wh-title">
        <h1 id="wh-title">{t("settings.wh.title")}</h1>
        <Problems lines={list.error} />
        {secret && <SecretOnce label={t("settings.wh.secret")} value={secret.value} onDone={() => setSecret(null)} />}
        {sub === "" ? (
          <WebhookList items={list.value} lines={lines.value ?? []} />
        ) : sub === "new" ? (
          <WebhookForm
            webhook={null}
            lines={lines.value ?? []}
            onSaved={(w, s) => {
              if (s) setSecret({ id: w.id, value: s });
              void list.reload().then(() => navigate("/admin/webhooks/" + w.id, true));
            }}
          />
        ) : !list.value ? (
          <p className="empty">{t("common.loading")}</p>
        ) : !current ? (
          <p className="empty">{t("error.notFound")}</p>
        ) : (
          <WebhookDetail
            key={current.id}
            webhook={current}
            lines={lines.value ?? []}
            onChanged={() => void list.reload()}
            onSecret={(value) => setSecret({ id: current.id, value })}
            onDeleted={() => {
              setSecret(null);
              void list.reload().then(() => navigate("/admin/webhooks"));
            }}
          />
        )}
      </section>
    </AdminLayout>
  );
}

function lineName(lines: Line[], id: number | null, t: ReturnType<typeof useT>) {
  if (id === null) return t("settings.wh.allLines");
  return lines.find((l) => l.id === id)?.name ?? "#" + id;
}

function WebhookList({ items, lines }: { items: Webhook[] | null; lines: Line[] }) {
  const t = useT();
  return (
    <>
      <p>
        <a className="button primary" href="/admin/webhooks/new" onClick={linkHandler("/admin/webhooks/new")}>
          {t("settings.wh.new")}
        </a>
      </p>
      {items === null ? (
        <p className="empty">{t("common.loading")}</p>
      ) : items.length === 0 ? (
        <p className="empty">{t("settings.wh.empty")}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("settings.wh.url")}</th>
              <th scope="col">{t("settings.wh.events")}</th>
              <th scope="col">{t("settings.wh.line")}</th>
              <th scope="col">{t("settings.wh.state")}</th>
              <th scope="col">{t("settings.wh.description")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id}>
                <td className="clip">
                  <a href={"/admin/webhooks/" + w.id} onClick={linkHandler("/admin/webhooks/" + w.id)}>
                    {w.url}
                  </a>
                </td>
                <td>{w.events.includes("*") ? t("settings.wh.allEvents") : t("settings.wh.eventCount", { n: w.events.length })}</td>
                <td>{lineName(lines, w.line_id, t)}</td>
                <td>{w.enabled ? t("settings.wh.enabled") : <span className="muted">{t("settings.wh.disabled")}</span>}</td>
                <td className="clip">{w.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function WebhookForm({ webhook, lines, onSaved }: { webhook: Webhook | null; lines: Line[]; onSaved: (w: Webhook, secret?: string) => void }) {
  const t = useT();
  const [url, setUrl] = useState(webhook?.url ?? "https://");
  const [description, setDescription] = useState(webhook?.description ?? "");
  const [lineId, setLineId] = useState(webhook?.line_id ? String(webhook.line_id) : "");
  const [all, setAll] = useState(webhook ? webhook.events.includes("*") : false);
  const [evs, setEvs] = useState<string[]>(webhook ? webhook.events.filter((e) => e !== "*") : ["conversation.opened", "conversation.closed"]);
  const [enabled, setEnabled] = useState(webhook?.enabled ?? true);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    const local: string[] = [];
    try {
      const u = new URL(url.trim());
      if (u.protocol !== "https:" && u.protocol !== "http:") local.push(t("settings.wh.err.url"));
    } catch {
      local.push(t("settings.wh.err.url"));
    }
    if (!all && evs.length === 0) local.push(t("settings.wh.err.events"));
    if (local.length) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setSaving(true);
    const body = { url: url.trim(), description: description.trim(), line_id: lineId ? Number(lineId) : null, events: all ? ["*"] : evs, enabled };
    try {
      if (webhook) onSaved(await api.patch<Webhook>("/api/v1/webhooks/" + webhook.id, body));
      else {
        const r = await api.post<{ webhook: Webhook; secret: string }>("/api/v1/webhooks", body);
        onSaved(r.webhook, r.secret);
      }
      setProblems([]);
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  const title = webhook ? t("settings.wh.edit") : t("settings.wh.new");
  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={title}>
      {!webhook && (
        <p>
          <a href="/admin/webhooks" onClick={linkHandler("/admin/webhooks")}>
            ← {t("settings.wh.back")}
          </a>
        </p>
      )}
      <h2>{title}</h2>
      <div className="settings-field">
        <label htmlFor="wh-url">{t("settings.wh.url")}</label>
        <input id="wh-url" type="url" value={url} maxLength={2000} onChange={(e) => setUrl(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="wh-desc">{t("settings.wh.description")}</label>
        <input id="wh-desc" value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="wh-line">{t("settings.wh.line")}</label>
        <select id="wh-line" value={lineId} onChange={(e) => setLineId(e.target.value)}>
          <option value="">{t("settings.wh.allLines")}</option>
          {lines.map((l) => (
            <option key={l.id} value={String(l.id)}>
              {l.name}
            </option>
          ))}
        </select>
      </div>
      <fieldset>
        <legend>{t("settings.wh.events")}</legend>
        <label className="settings-check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
          {t("settings.wh.allEventsLong")}
        </label>
        <div className="settings-checks">
          {webhookEvents.map((e) => (
            <label className="settings-check" key={e}>
              <input type="checkbox" disabled={all} checked={all || evs.includes(e)} onChange={(ev) => setEvs(ev.target.checked ? [...evs, e] : evs.filter((x) => x !== e))} />
              <span>
                {t(("settings.wh.ev." + e) as Key)}
                <span className="mono muted small block">{e}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <label className="settings-check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        {t("settings.wh.enabledLong")}
      </label>
      <Problems lines={problems} />
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? t("settings.saving") : webhook ? t("common.save") : t("common.create")}
        </button>
      </div>
    </form>
  );
}

function WebhookDetail({ webhook, lines, onChanged, onSecret, onDeleted }: { webhook: Webhook; lines: Line[]; onChanged: () => void; onSecret: (s: string) => void; onDeleted: () => void }) {
  const t = useT();
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();
  const rotate = async () => {
    try {
      const r = await api.post<{ secret: string }>("/api/v1/webhooks/" + webhook.id + "/rotate-secret");
      setProblems([]);
      onSecret(r.secret);
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  const remove = async () => {
    try {
      await api.del("/api/v1/webhooks/" + webhook.id);
      onDeleted();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  return (
    <>
      <p>
        <a href="/admin/webhooks" onClick={linkHandler("/admin/webhooks")}>
          ← {t("settings.wh.back")}
        </a>
      </p>
      <div className="settings-toolbar">
        <strong className="clip">{webhook.url}</strong>
        <span className="spacer" />
        <ConfirmButton label={t("settings.wh.rotate")} question={t("settings.wh.confirmRotate")} onConfirm={() => void rotate()} />
        <ConfirmButton label={t("common.delete")} question={t("settings.wh.confirmDelete")} onConfirm={() => void remove()} />
        <Flash text={flash} />
      </div>
      <Problems lines={problems} />
      <div className="settings-split">
        <Deliveries webhook={webhook} />
        <WebhookForm
          webhook={webhook}
          lines={lines}
          onSaved={() => {
            setFlash(t("common.saved"));
            onChanged();
          }}
        />
      </div>
    </>
  );
}

function Deliveries({ webhook }: { webhook: Webhook }) {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const list = useResource(
    () => api.get<{ items: Delivery[] }>("/api/v1/webhooks/" + webhook.id + "/deliveries" + query({ status, limit: 100 })).then((r) => r.items),
    [webhook.id, status],
  );
  const retry = async (d: Delivery) => {
    try {
      await api.post("/api/v1/webhooks/" + webhook.id + "/deliveries/" + d.id + "/retry");
      setProblems([]);
      void list.reload();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  const lastError = (d: Delivery) => {
    const a = d.attempts[d.attempts.length - 1];
    if (!a) return "";
    if (a.error) return a.error;
    return a.status_code !== null ? "HTTP " + a.status_code : "";
  };
  return (
    <section className="settings-deliveries" aria-labelledby="wh-deliveries">
      <div className="settings-toolbar">
        <h2 id="wh-deliveries">{t("settings.wh.deliveries")}</h2>
        <span className="spacer" />
        <label htmlFor="wh-status-filter">{t("settings.wh.status")}</label>
        <select id="wh-status-filter" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t("settings.wh.status.any")}</option>
            <option value="pending">{t("settings.wh.status.pending")}</option>
            <option value="delivered">{t("settings.wh.status.delivered")}</option>
            <option value="failed">{t("settings.wh.status.failed")}</option>
          </select>
        <button type="button" onClick={() => void list.reload()}>
          {t("settings.refresh")}
        </button>
      </div>
      <Problems lines={list.error} />
      <Problems lines={problems} />
      {list.value === null ? (
        <p className="empty">{t("common.loading")}</p>
      ) : list.value.length === 0 ? (
        <p className="empty">{t("settings.wh.noDeliveries")}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("settings.wh.time")}</th>
              <th scope="col">{t("settings.wh.event")}</th>
              <th scope="col">{t("settings.wh.status")}</th>
              <th scope="col">{t("settings.wh.attempts")}</th>
              <th scope="col">{t("settings.wh.lastError")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("settings.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.value.map((d) => (
              <DeliveryRow key={d.id} d={d} open={open === d.id} toggle={() => setOpen(open === d.id ? null : d.id)} lastError={lastError(d)} retry={() => void retry(d)} lang={lang} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DeliveryRow({ d, open, toggle, lastError, retry, lang }: { d: Delivery; open: boolean; toggle: () => void; lastError: string; retry: () => void; lang: "ru" | "en" }) {
  const t = useT();
  return (
    <>
      <tr>
        <td className="nowrap">{formatTime(lang, d.created_at, true)}</td>
        <td>
          {webhookEvents.includes(d.event) ? t(("settings.wh.ev." + d.event) as Key) : d.event}
          <div className="mono muted small">{d.event}</div>
        </td>
        <td className={"wh-" + d.status}>
          {t(("settings.wh.status." + d.status) as Key)}
          {d.status === "pending" && d.next_attempt_at && <div className="muted small">{t("settings.wh.nextAt", { time: formatTime(lang, d.next_attempt_at, true) })}</div>}
          {d.status === "delivered" && d.delivered_at && <div className="muted small">{formatTime(lang, d.delivered_at, true)}</div>}
        </td>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={toggle}>
            {d.attempts.length}
          </button>
        </td>
        <td className="clip" title={lastError}>
          {lastError}
        </td>
        <td>
          {d.status === "failed" && (
            <button type="button" onClick={retry}>
              {t("settings.wh.retry")}
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr className="settings-subrow">
          <td colSpan={6}>
            {d.attempts.length === 0 ? (
              <span className="muted">{t("settings.wh.noAttempts")}</span>
            ) : (
              <ol>
                {d.attempts.map((a, i) => (
                  <li key={i}>
                    {formatTime(lang, a.at, true)} — {a.status_code !== null ? "HTTP " + a.status_code : t("settings.wh.noAnswer")} · {a.duration_ms} ms
                    {a.error && <> · {a.error}</>}
                  </li>
                ))}
              </ol>
            )}
            <details>
              <summary>{t("settings.wh.payload")}</summary>
              <pre className="settings-pre">{JSON.stringify(d.payload, null, 2)}</pre>
            </details>
          </td>
        </tr>
      )}
    </>
  );
}
