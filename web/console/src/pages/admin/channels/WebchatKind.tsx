// The website channel kind (seeds 000 and 002): a site's name and domain, its widgets (online
// chat, request form, call-back request), how the widget looks, the pre-chat form, the scenarios
// that route a page's visitors to a line and a group, and the script to paste into the site's
// pages. The page draws the real widget (web/widget/widget.js in preview mode) with the settings
// as they are being edited.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import type { Key } from "../../../strings";
import { CopyField, ErrorNote, useLoad } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";
import type { ChannelInfo, CreatedChannel, GroupInfo, Items, LineInfo } from "./types";

export const widgetKinds = ["chat", "form", "callback"] as const;

export interface Scenario {
  name: string;
  active: boolean;
  match: "full" | "partial";
  urls: string[];
  line_id: number;
  group_id: number;
  offer_form: boolean;
}

export interface SiteSettings {
  site_name: string;
  domain: string;
  logo_url: string;
  language: string;
  widgets: { kind: string; title?: string }[];
  appearance: {
    operator_text: string;
    operator_background: string;
    visitor_text: string;
    visitor_background: string;
    position: "right" | "left";
    department_avatar: boolean;
    avatar_url: string;
    launcher_icon_url: string;
    hide_launcher: boolean;
  };
  prechat: { email_optional: boolean; hide_email: boolean; hide_name: boolean };
  scenarios: Scenario[];
}

export const webchatEmpty = () => ({ site_name: "", domain: "", language: "ru", widgets: ["chat", "form"] });

/** webchatBody is the create request's settings from the create form. */
export function webchatBody(v: Record<string, unknown>) {
  const widgets = (v.widgets as string[] | undefined) ?? ["chat"];
  return {
    settings: {
      site_name: String(v.site_name ?? "").trim(),
      domain: cleanDomain(String(v.domain ?? "")),
      language: String(v.language ?? "ru"),
      widgets: widgets.map((kind) => ({ kind })),
    },
  };
}

/** cleanDomain keeps the host of what an admin pastes ("https://Shop.example.com/" → shop.example.com). */
export function cleanDomain(v: string): string {
  const s = v.trim().toLowerCase();
  try {
    if (/^https?:\/\//.test(s)) return new URL(s).hostname;
  } catch {
    /* not a URL: keep it as typed; the server says what is wrong */
  }
  return s.replace(/\/.*$/, "");
}

/** fromChannel reads a saved site's settings (the server keeps them with defaults filled in). */
export function fromChannel(s: Record<string, unknown>): SiteSettings {
  const a = (s.appearance ?? {}) as Partial<SiteSettings["appearance"]>;
  const p = (s.prechat ?? {}) as Partial<SiteSettings["prechat"]>;
  return {
    site_name: String(s.site_name ?? ""),
    domain: String(s.domain ?? ""),
    logo_url: String(s.logo_url ?? ""),
    language: String(s.language ?? "ru"),
    widgets: ((s.widgets as SiteSettings["widgets"]) ?? [{ kind: "chat" }]).map((w) => ({ kind: w.kind, title: w.title ?? "" })),
    appearance: {
      operator_text: a.operator_text ?? "#1f2933",
      operator_background: a.operator_background ?? "#eef1f5",
      visitor_text: a.visitor_text ?? "#ffffff",
      visitor_background: a.visitor_background ?? "#2563eb",
      position: a.position === "left" ? "left" : "right",
      department_avatar: !!a.department_avatar,
      avatar_url: a.avatar_url ?? "",
      launcher_icon_url: a.launcher_icon_url ?? "",
      hide_launcher: !!a.hide_launcher,
    },
    prechat: { email_optional: !!p.email_optional, hide_email: !!p.hide_email, hide_name: !!p.hide_name },
    scenarios: ((s.scenarios as Scenario[]) ?? []).map((x) => ({
      name: x.name ?? "", active: !!x.active, match: x.match === "full" ? "full" : "partial", urls: x.urls ?? [],
      line_id: x.line_id ?? 0, group_id: x.group_id ?? 0, offer_form: !!x.offer_form,
    })),
  };
}

/** toSettings is what the page saves: empty titles and URLs left out. */
export function toSettings(s: SiteSettings): Record<string, unknown> {
  return {
    ...s,
    domain: cleanDomain(s.domain),
    widgets: s.widgets.map((w) => (w.title ? { kind: w.kind, title: w.title } : { kind: w.kind })),
    scenarios: s.scenarios.map((x) => ({ ...x, urls: x.urls.map((u) => u.trim()).filter(Boolean) })),
  };
}

function SiteFields({ value, onChange }: CreateFieldsProps) {
  const t = useT();
  const widgets = (value.widgets as string[] | undefined) ?? ["chat"];
  return (
    <>
      <label className="field">
        <span>{t("admin.site.name")}</span>
        <input name="site_name" value={String(value.site_name ?? "")} required placeholder="Zolotoe-Dno" onChange={(e) => onChange({ ...value, site_name: e.target.value })} />
      </label>
      <label className="field">
        <span>{t("admin.site.domain")}</span>
        <input name="domain" value={String(value.domain ?? "")} required placeholder="zolotoedno.ru" onChange={(e) => onChange({ ...value, domain: e.target.value })} aria-describedby="site-domain-help" />
      </label>
      <small className="help" id="site-domain-help">{t("admin.site.domainHelp")}</small>
      <fieldset>
        <legend>{t("admin.site.widgets")}</legend>
        {widgetKinds.map((k) => (
          <label key={k} className="check">
            <input type="checkbox" checked={widgets.includes(k)}
              onChange={(e) => onChange({ ...value, widgets: e.target.checked ? [...widgets, k] : widgets.filter((w) => w !== k) })} />
            {t(`admin.site.widget.${k}` as Key)}
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span>{t("admin.site.language")}</span>
        <select name="language" value={String(value.language ?? "ru")} onChange={(e) => onChange({ ...value, language: e.target.value })}>
          <option value="ru">Русский</option>
          <option value="en">English</option>
        </select>
      </label>
    </>
  );
}

export function WebchatCreateFields(props: CreateFieldsProps) {
  return <SiteFields {...props} />;
}

/** WebchatCreated shows the site's secret once (for signed visitor identities). */
export function WebchatCreated({ created }: { created: CreatedChannel }) {
  const t = useT();
  const embed = String((created.channel as ChannelInfo & { embed_code?: string }).embed_code ?? "");
  return (
    <div className="once">
      <CopyField label={t("admin.site.embed")} value={embed} />
      <p className="warn" role="note">{t("admin.site.secretOnce")}</p>
      <CopyField label={t("admin.site.secret")} value={created.secret} />
    </div>
  );
}

declare global {
  interface Window {
    LinedeskWidgetPreview?: (container: HTMLElement, cfg: unknown) => void;
  }
}

/** previewConfig is what the widget script would get for a page of the site. */
export function previewConfig(s: SiteSettings, channelID: number, online: boolean) {
  return {
    site: { id: channelID, name: s.site_name || "—", logo_url: s.logo_url },
    language: s.language,
    widgets: s.widgets.length ? s.widgets : [{ kind: "chat" }],
    appearance: s.appearance,
    prechat: s.prechat,
    route: { online, offer_form: true },
  };
}

/** WidgetPreview draws the real widget with the settings being edited. */
function WidgetPreview({ settings, channelID }: { settings: SiteSettings; channelID: number }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const [ready, setReady] = useState(!!window.LinedeskWidgetPreview);
  const [online, setOnline] = useState(true);
  useEffect(() => {
    if (window.LinedeskWidgetPreview) return;
    const s = document.createElement("script");
    s.src = "/widget.js";
    s.dataset.preview = "1";
    s.onload = () => setReady(true);
    document.head.appendChild(s);
  }, []);
  useEffect(() => {
    if (ready && box.current && window.LinedeskWidgetPreview) window.LinedeskWidgetPreview(box.current, previewConfig(settings, channelID, online));
  }, [ready, settings, channelID, online]);
  return (
    <section aria-labelledby="site-preview" className="site-preview">
      <h3 id="site-preview">{t("admin.site.preview")}</h3>
      <label className="check">
        <input type="checkbox" checked={!online} onChange={(e) => setOnline(!e.target.checked)} />
        {t("admin.site.previewOffline")}
      </label>
      <div className="site-preview-page" ref={box} data-testid="widget-preview" />
    </section>
  );
}

export function WebchatSettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
  const t = useT();
  const [s, setS] = useState<SiteSettings>(() => fromChannel(channel.settings));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const info = useLoad(() => api.get<ChannelInfo & { embed_code?: string }>(`/api/v1/channels/${channel.id}`), [channel.id]);
  const lines = useLoad(() => api.get<Items<LineInfo>>("/api/v1/lines"), []);
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups"), []);
  const set = (patch: Partial<SiteSettings>) => setS((v) => ({ ...v, ...patch }));
  const look = (patch: Partial<SiteSettings["appearance"]>) => setS((v) => ({ ...v, appearance: { ...v.appearance, ...patch } }));
  const pre = (patch: Partial<SiteSettings["prechat"]>) => setS((v) => ({ ...v, prechat: { ...v.prechat, ...patch } }));
  const scenario = (i: number, patch: Partial<Scenario>) => setS((v) => ({ ...v, scenarios: v.scenarios.map((x, j) => (j === i ? { ...x, ...patch } : x)) }));
  const hasWidget = (k: string) => s.widgets.some((w) => w.kind === k);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const n = await api.patch<ChannelInfo>(`/api/v1/channels/${channel.id}`, { settings: toSettings(s) });
      setS(fromChannel(n.settings));
      setError(null);
      setSaved(true);
      onChanged(n);
      info.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const color = (k: "operator_text" | "operator_background" | "visitor_text" | "visitor_background") => (
    <label className="field color">
      <span>{t(`admin.site.color.${k}` as Key)}</span>
      <input type="color" value={s.appearance[k]} onChange={(e) => look({ [k]: e.target.value })} disabled={!canEdit} />
    </label>
  );
  return (
    <div className="kind-settings site-settings">
      {info.data?.embed_code && (
        <section aria-labelledby="site-embed">
          <h3 id="site-embed">{t("admin.site.embedTitle")}</h3>
          <p className="help">{t("admin.site.embedHelp")}</p>
          <CopyField label={t("admin.site.embed")} value={info.data.embed_code} />
          <p className="help">{t("admin.site.identityHelp")}</p>
        </section>
      )}
      <WidgetPreview settings={s} channelID={channel.id} />
      <form onSubmit={(e) => void save(e)} className="form">
        <fieldset disabled={!canEdit}>
          <legend>{t("admin.site.site")}</legend>
          <label className="field">
            <span>{t("admin.site.name")}</span>
            <input name="site_name" value={s.site_name} required onChange={(e) => set({ site_name: e.target.value })} />
          </label>
          <label className="field">
            <span>{t("admin.site.domain")}</span>
            <input name="domain" value={s.domain} required onChange={(e) => set({ domain: e.target.value })} />
          </label>
          <label className="field">
            <span>{t("admin.site.logo")}</span>
            <input name="logo_url" value={s.logo_url} placeholder="https://example.com/logo.png" onChange={(e) => set({ logo_url: e.target.value })} />
          </label>
          <label className="field">
            <span>{t("admin.site.language")}</span>
            <select value={s.language} onChange={(e) => set({ language: e.target.value })}>
              <option value="ru">Русский</option>
              <option value="en">English</option>
            </select>
          </label>
        </fieldset>
        <fieldset disabled={!canEdit}>
          <legend>{t("admin.site.widgets")}</legend>
          {widgetKinds.map((k) => (
            <label key={k} className="check">
              <input type="checkbox" checked={hasWidget(k)}
                onChange={(e) => set({ widgets: e.target.checked ? [...s.widgets, { kind: k, title: "" }] : s.widgets.filter((w) => w.kind !== k) })} />
              {t(`admin.site.widget.${k}` as Key)}
            </label>
          ))}
        </fieldset>
        <fieldset disabled={!canEdit}>
          <legend>{t("admin.site.look")}</legend>
          <div className="colors">
            {color("operator_text")}
            {color("operator_background")}
            {color("visitor_text")}
            {color("visitor_background")}
          </div>
          <label className="field">
            <span>{t("admin.site.position")}</span>
            <select value={s.appearance.position} onChange={(e) => look({ position: e.target.value as "right" | "left" })}>
              <option value="right">{t("admin.site.position.right")}</option>
              <option value="left">{t("admin.site.position.left")}</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={s.appearance.department_avatar} onChange={(e) => look({ department_avatar: e.target.checked })} />
            {t("admin.site.departmentAvatar")}
          </label>
          {s.appearance.department_avatar && (
            <label className="field">
              <span>{t("admin.site.avatarURL")}</span>
              <input value={s.appearance.avatar_url} placeholder="https://example.com/team.png" onChange={(e) => look({ avatar_url: e.target.value })} />
            </label>
          )}
          <label className="field">
            <span>{t("admin.site.launcherIcon")}</span>
            <input value={s.appearance.launcher_icon_url} placeholder="https://example.com/chat.svg" onChange={(e) => look({ launcher_icon_url: e.target.value })} />
          </label>
          <label className="check">
            <input type="checkbox" checked={s.appearance.hide_launcher} onChange={(e) => look({ hide_launcher: e.target.checked })} />
            {t("admin.site.hideLauncher")}
          </label>
        </fieldset>
        <fieldset disabled={!canEdit}>
          <legend>{t("admin.site.prechat")}</legend>
          <label className="check">
            <input type="checkbox" checked={s.prechat.email_optional} onChange={(e) => pre({ email_optional: e.target.checked, hide_email: e.target.checked ? false : s.prechat.hide_email })} />
            {t("admin.site.emailOptional")}
          </label>
          <label className="check">
            <input type="checkbox" checked={s.prechat.hide_email} onChange={(e) => pre({ hide_email: e.target.checked, email_optional: e.target.checked ? false : s.prechat.email_optional })} />
            {t("admin.site.hideEmail")}
          </label>
          <label className="check">
            <input type="checkbox" checked={s.prechat.hide_name} onChange={(e) => pre({ hide_name: e.target.checked })} />
            {t("admin.site.hideName")}
          </label>
        </fieldset>
        <fieldset disabled={!canEdit} className="scenarios">
          <legend>{t("admin.site.scenarios")}</legend>
          <p className="help">{t("admin.site.scenariosHelp")}</p>
          {s.scenarios.map((x, i) => (
            <div key={i} className="scenario" data-scenario={i}>
              <label className="field">
                <span>{t("admin.site.scenario.name")}</span>
                <input value={x.name} onChange={(e) => scenario(i, { name: e.target.value })} />
              </label>
              <label className="check">
                <input type="checkbox" checked={x.active} onChange={(e) => scenario(i, { active: e.target.checked })} />
                {t("admin.site.scenario.active")}
              </label>
              <label className="field">
                <span>{t("admin.site.scenario.match")}</span>
                <select value={x.match} onChange={(e) => scenario(i, { match: e.target.value as "full" | "partial" })}>
                  <option value="partial">{t("admin.site.scenario.partial")}</option>
                  <option value="full">{t("admin.site.scenario.full")}</option>
                </select>
              </label>
              <label className="field">
                <span>{t("admin.site.scenario.urls")}</span>
                <textarea rows={2} value={x.urls.join("\n")} placeholder="/pricing" onChange={(e) => scenario(i, { urls: e.target.value.split("\n") })} />
              </label>
              <label className="field">
                <span>{t("admin.site.scenario.line")}</span>
                <select value={x.line_id} onChange={(e) => scenario(i, { line_id: Number(e.target.value) })}>
                  <option value={0}>{t("admin.site.scenario.siteLine")}</option>
                  {(lines.data?.items ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
                </select>
              </label>
              <label className="field">
                <span>{t("admin.site.scenario.group")}</span>
                <select value={x.group_id} onChange={(e) => scenario(i, { group_id: Number(e.target.value) })}>
                  <option value={0}>{t("admin.site.scenario.anyone")}</option>
                  {(groups.data?.items ?? []).filter((g) => g.kind === "operators").map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
                </select>
              </label>
              <label className="check">
                <input type="checkbox" checked={x.offer_form} onChange={(e) => scenario(i, { offer_form: e.target.checked })} />
                {t("admin.site.scenario.offerForm")}
              </label>
              <button type="button" onClick={() => set({ scenarios: s.scenarios.filter((_, j) => j !== i) })}>{t("admin.site.scenario.remove")}</button>
            </div>
          ))}
          <button type="button" onClick={() => set({ scenarios: [...s.scenarios, { name: "", active: true, match: "partial", urls: [], line_id: 0, group_id: 0, offer_form: true }] })}>
            {t("admin.site.scenario.add")}
          </button>
        </fieldset>
        {canEdit && (
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>{t("admin.site.save")}</button>
            {saved && <span role="status" className="ok">{t("common.saved")}</span>}
          </div>
        )}
      </form>
      <ErrorNote error={error} />
    </div>
  );
}
