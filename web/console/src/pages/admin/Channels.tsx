// Channels: the list with kind and line, a new-channel form, and one channel's page — the fields
// every kind shares (name, line, on/off), then the kind's own settings from the registry
// (channels/kinds.tsx), then its configuration history.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, match, type Location } from "../../lib/router";
import { useSession } from "../../lib/session";
import { AdminLayout } from "./AdminLayout";
import { ErrorNote, useLoad } from "./channels/form";
import { kindLabel, kinds } from "./channels/kinds";
import { VKConnect } from "./channels/VKConnect";
import type { AuditRecord, ChannelInfo, CreatedChannel, Items, LineInfo } from "./channels/types";
import "./channels/admin.css";

export function Channels({ loc }: { loc: Location }) {
  const m = match("/admin/channels/:id", loc.path);
  let body;
  if (!m) body = <ChannelList vkConnected={loc.params.get("vk_connected")} vkError={loc.params.get("vk_error")} />;
  else if (m.id === "new") body = <NewChannel line={Number(loc.params.get("line")) || 0} />;
  else body = <ChannelPage id={Number(m.id)} />;
  return <AdminLayout>{body}</AdminLayout>;
}

function useLines() {
  return useLoad(() => api.get<Items<LineInfo>>("/api/v1/lines").then((r) => r.items), []);
}

function ChannelList({ vkConnected, vkError }: { vkConnected: string | null; vkError: string | null }) {
  const t = useT();
  const me = useSession();
  const channels = useLoad(() => api.get<Items<ChannelInfo>>("/api/v1/channels"), []);
  const lines = useLines();
  const lineName = (id: number) => lines.data?.find((l) => l.id === id)?.name ?? "#" + id;
  return (
    <section aria-labelledby="channels-title">
      <div className="page-head">
        <h1 id="channels-title">{t("admin.channels.title")}</h1>
        {me.user.role === "admin" && <a className="button" href="/admin/channels/new" onClick={linkHandler("/admin/channels/new")}>{t("admin.channels.new")}</a>}
      </div>
      <ErrorNote error={channels.error} />
      {channels.data && channels.data.items.length === 0 && <p className="empty">{t("admin.channels.empty")}</p>}
      {channels.data && channels.data.items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("admin.channels.name")}</th>
              <th scope="col">{t("admin.channels.kind")}</th>
              <th scope="col">{t("admin.channels.line")}</th>
              <th scope="col">{t("admin.channels.state")}</th>
            </tr>
          </thead>
          <tbody>
            {channels.data.items.map((c) => (
              <tr key={c.id}>
                <td><a href={"/admin/channels/" + c.id} onClick={linkHandler("/admin/channels/" + c.id)}>{c.name}</a></td>
                <td>{kindLabel(t, c.kind)}</td>
                <td>{lineName(c.line_id)}</td>
                <td className={c.enabled ? "ok" : "muted"}>{c.enabled ? t("admin.channels.enabled") : t("admin.channels.disabled")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!channels.data && !channels.error && <p>{t("common.loading")}</p>}
      {me.user.role === "admin" && lines.data && lines.data.length > 0 && <VKConnect lines={lines.data} connected={vkConnected} failed={vkError} />}
    </section>
  );
}

function NewChannel({ line }: { line: number }) {
  const t = useT();
  const lines = useLines();
  const creatable = Object.entries(kinds).filter(([, k]) => k.creatable);
  const [kind, setKind] = useState(creatable[0]?.[0] ?? "api");
  const [name, setName] = useState("");
  const [lineID, setLineID] = useState(line);
  const [settings, setSettings] = useState<Record<string, unknown>>(kinds[kind]?.emptySettings() ?? {});
  const [created, setCreated] = useState<CreatedChannel | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!lineID && lines.data?.length) setLineID(lines.data[0].id);
  }, [lines.data, lineID]);

  const plugin = kinds[kind];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const extra = plugin.createBody ? plugin.createBody(settings) : { settings };
      setCreated(await api.post<CreatedChannel>("/api/v1/channels", { kind, name: name.trim(), line_id: lineID, ...extra }));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    const Created = plugin.Created;
    return (
      <section className="form" aria-labelledby="new-channel-title">
        <h1 id="new-channel-title">{t("admin.wizard.channelCreated")}</h1>
        {Created && <Created created={created} />}
        <p>
          <a className="button primary" href={"/admin/channels/" + created.channel.id} onClick={linkHandler("/admin/channels/" + created.channel.id)}>
            {t("admin.channels.openSettings")}
          </a>
        </p>
      </section>
    );
  }

  const Fields = plugin.CreateFields;
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="new-channel-title">
      <p><a href="/admin/channels" onClick={linkHandler("/admin/channels")}>← {t("admin.channels.title")}</a></p>
      <h1 id="new-channel-title">{t("admin.channels.new")}</h1>
      <label className="field">
        <span>{t("admin.channels.kind")}</span>
        <select value={kind} onChange={(e) => { setKind(e.target.value); setSettings(kinds[e.target.value].emptySettings()); }}>
          {creatable.map(([k, p]) => <option key={k} value={k}>{t(p.label)}</option>)}
        </select>
      </label>
      <label className="field">
        <span>{t("admin.channels.name")}</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label className="field">
        <span>{t("admin.channels.line")}</span>
        <select value={lineID || ""} onChange={(e) => setLineID(Number(e.target.value))} required>
          {(lines.data ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </select>
      </label>
      <Fields value={settings} onChange={setSettings} />
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !lineID}>{t("common.create")}</button>
      </div>
    </form>
  );
}

function ChannelPage({ id }: { id: number }) {
  const t = useT();
  const me = useSession();
  const channel = useLoad(() => api.get<ChannelInfo>(`/api/v1/channels/${id}`), [id]);
  const lines = useLines();
  const [name, setName] = useState("");
  const [lineID, setLineID] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [historyTick, setHistoryTick] = useState(0);
  const c = channel.data;
  useEffect(() => {
    if (c) {
      setName(c.name);
      setLineID(c.line_id);
    }
  }, [c]);
  if (!c) return channel.error ? <ErrorNote error={channel.error} /> : <p>{t("common.loading")}</p>;

  const changed = (n: ChannelInfo) => {
    channel.setData(n);
    setHistoryTick((x) => x + 1);
  };
  const patch = async (body: Record<string, unknown>) => {
    setSaved(false);
    try {
      changed(await api.patch<ChannelInfo>(`/api/v1/channels/${id}`, body));
      setError(null);
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  const plugin = kinds[c.kind];
  const admin = me.user.role === "admin";

  return (
    <section className="channel-page" aria-labelledby="channel-title">
      <p><a href="/admin/channels" onClick={linkHandler("/admin/channels")}>← {t("admin.channels.title")}</a></p>
      <h1 id="channel-title">{c.name} <span className="tag">{kindLabel(t, c.kind)}</span> <span className={c.enabled ? "tag ok" : "tag muted"}>{c.enabled ? t("admin.channels.enabled") : t("admin.channels.disabled")}</span></h1>
      {plugin && (
        <ol className="setup-steps" aria-label={t("admin.channels.steps")}>
          {plugin.steps.map((s) => <li key={s}>{t(s)}</li>)}
        </ol>
      )}
      <form className="form" onSubmit={(e) => { e.preventDefault(); void patch({ name: name.trim(), line_id: lineID }); }}>
        <h2>{t("admin.channels.general")}</h2>
        <label className="field">
          <span>{t("admin.channels.name")}</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required disabled={!admin} />
        </label>
        <label className="field">
          <span>{t("admin.channels.line")}</span>
          <select value={lineID} onChange={(e) => setLineID(Number(e.target.value))} disabled={!admin}>
            {(lines.data ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
        </label>
        {admin && (
          <div className="actions">
            <button type="submit" className="primary">{t("common.save")}</button>
            <button type="button" className={c.enabled ? "danger" : undefined} onClick={() => void patch({ enabled: !c.enabled })}>
              {c.enabled ? t("admin.channels.disable") : t("admin.channels.enable")}
            </button>
            {saved && <span role="status" className="ok">{t("common.saved")}</span>}
          </div>
        )}
        <ErrorNote error={error} />
      </form>
      <h2>{t("admin.channels.kindSettings")}</h2>
      {plugin ? <plugin.SettingsForm channel={c} onChanged={changed} canEdit={admin} /> : <p className="muted">{t("admin.channels.noPlugin", { kind: c.kind })}</p>}
      <History id={id} tick={historyTick} />
    </section>
  );
}

function History({ id, tick }: { id: number; tick: number }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (before?: number) => {
    try {
      const r = await api.get<{ items: AuditRecord[]; next_before: number | null }>(`/api/v1/channels/${id}/history` + (before ? "?before=" + before : ""));
      setItems((old) => (before ? [...old, ...r.items] : r.items));
      setNext(r.next_before);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, tick]);
  const show = (v: Record<string, unknown> | null) => (v ? Object.entries(v).map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join(", ") : "");
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t("admin.channels.history")}</h2>
      <ErrorNote error={error} />
      {items.length === 0 && !error && <p className="muted">{t("admin.channels.historyEmpty")}</p>}
      {items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("admin.history.when")}</th>
              <th scope="col">{t("admin.history.who")}</th>
              <th scope="col">{t("admin.history.action")}</th>
              <th scope="col">{t("admin.history.change")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>{formatTime(lang, r.at, true)}</td>
                <td>{r.actor_name || t("admin.history.system")}</td>
                <td>{t(("admin.history.action." + r.action) as "admin.history.action.create", {}) || r.action}</td>
                <td className="change">
                  {r.before && <div><span className="muted">{t("admin.history.before")}</span> {show(r.before)}</div>}
                  {r.after && <div><span className="muted">{t("admin.history.after")}</span> {show(r.after)}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && <button type="button" onClick={() => void load(next)}>{t("common.more")}</button>}
    </section>
  );
}
