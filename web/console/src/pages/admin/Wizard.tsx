// The first-line wizard: a line, an `api` channel on it (its inbound URL and token shown once),
// and the groups that work and supervise it. Every step is one or two plain API calls.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { linkHandler } from "../../lib/router";
import type { Key } from "../../strings";
import { AdminLayout } from "./AdminLayout";
import { ErrorNote, toggle } from "./channels/form";
import { kinds } from "./channels/kinds";
import type { ChannelInfo, CreatedChannel, GroupInfo, Items, LineInfo } from "./channels/types";
import "./channels/admin.css";

type Step = 1 | 2 | 3 | 4;
const stepLabels: Key[] = ["admin.wizard.step1", "admin.wizard.step2", "admin.wizard.step3"];

export function Wizard() {
  const t = useT();
  const [step, setStep] = useState<Step>(1);
  const [line, setLine] = useState<LineInfo | null>(null);
  const [channel, setChannel] = useState<ChannelInfo | null>(null);

  return (
    <AdminLayout>
      <section className="wizard" aria-labelledby="wizard-title">
        <h1 id="wizard-title">{t("admin.wizard.title")}</h1>
        <ol className="steps">
          {stepLabels.map((k, i) => (
            <li key={k} aria-current={step === i + 1 ? "step" : undefined} className={step > i + 1 ? "done" : undefined}>
              {t(k)}
            </li>
          ))}
        </ol>
        {step === 1 && <LineStep onDone={(l) => { setLine(l); setStep(2); }} />}
        {step === 2 && line && <ChannelStep line={line} onDone={(c) => { setChannel(c); setStep(3); }} />}
        {step === 3 && line && <GroupsStep line={line} onDone={() => setStep(4)} />}
        {step === 4 && line && (
          <div className="done-box" role="status">
            <h2>{t("admin.wizard.doneTitle")}</h2>
            <p>{t("admin.wizard.doneText", { line: line.name })}</p>
            <p className="actions">
              {channel && <a href={"/admin/channels/" + channel.id} onClick={linkHandler("/admin/channels/" + channel.id)}>{t("admin.wizard.openChannel")}</a>}
              <a href={"/admin/lines/" + line.id} onClick={linkHandler("/admin/lines/" + line.id)}>{t("admin.wizard.openLine")}</a>
              <a href="/inbox" onClick={linkHandler("/inbox")}>{t("nav.inbox")}</a>
            </p>
          </div>
        )}
      </section>
    </AdminLayout>
  );
}

function LineStep({ onDone }: { onDone: (l: LineInfo) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [autoOpen, setAutoOpen] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      onDone(await api.post<LineInfo>("/api/v1/lines", { name: name.trim(), auto_open: autoOpen }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="wizard-step1">
      <h2 id="wizard-step1">{t("admin.wizard.step1")}</h2>
      <p className="muted">{t("admin.wizard.step1Help")}</p>
      <label className="field">
        <span>{t("admin.lines.name")}</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
      </label>
      <label className="check">
        <input type="checkbox" checked={autoOpen} onChange={(e) => setAutoOpen(e.target.checked)} />
        <span>{t("admin.lines.autoOpen")}</span>
      </label>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{t("admin.wizard.createLine")}</button>
      </div>
    </form>
  );
}

function ChannelStep({ line, onDone }: { line: LineInfo; onDone: (c: ChannelInfo) => void }) {
  const t = useT();
  const kind = kinds.api;
  const [name, setName] = useState("API");
  const [settings, setSettings] = useState<Record<string, unknown>>(kind.emptySettings());
  const [created, setCreated] = useState<CreatedChannel | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const c = await api.post<CreatedChannel>("/api/v1/channels", { kind: "api", name: name.trim(), line_id: line.id, settings });
      setCreated(c);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (created) {
    const Created = kind.Created!;
    return (
      <div className="form" aria-labelledby="wizard-step2">
        <h2 id="wizard-step2">{t("admin.wizard.channelCreated")}</h2>
        <Created created={created} />
        <div className="actions">
          <button type="button" className="primary" onClick={() => onDone(created.channel)}>{t("admin.wizard.savedNext")}</button>
        </div>
      </div>
    );
  }
  const Fields = kind.CreateFields;
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="wizard-step2">
      <h2 id="wizard-step2">{t("admin.wizard.step2")}</h2>
      <p className="muted">{t("admin.wizard.step2Help", { line: line.name })}</p>
      <label className="field">
        <span>{t("admin.channels.name")}</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <Fields value={settings} onChange={setSettings} />
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{t("admin.wizard.createChannel")}</button>
      </div>
    </form>
  );
}

function GroupsStep({ line, onDone }: { line: LineInfo; onDone: () => void }) {
  const t = useT();
  const [groups, setGroups] = useState<GroupInfo[] | null>(null);
  const [chosen, setChosen] = useState<number[]>([]);
  const [newName, setNewName] = useState("");
  const [newKind, setNewKind] = useState<GroupInfo["kind"]>("operators");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<Items<GroupInfo>>("/api/v1/groups").then((r) => setGroups(r.items), setError);
  }, []);

  const createGroup = async () => {
    if (!newName.trim()) return;
    try {
      const g = await api.post<GroupInfo>("/api/v1/groups", { name: newName.trim(), kind: newKind, permissions: newKind === "operators" ? ["omni", "unassigned_queue"] : ["omni", "unassigned_queue", "omni_management"] });
      setGroups((gs) => [...(gs ?? []), g]);
      setChosen((c) => [...c, g.id]);
      setNewName("");
      setError(null);
    } catch (err) {
      setError(err);
    }
  };

  const finish = async () => {
    setBusy(true);
    try {
      for (const g of groups ?? []) {
        if (chosen.includes(g.id) && !g.line_ids.includes(line.id))
          await api.patch<GroupInfo>(`/api/v1/groups/${g.id}`, { line_ids: [...g.line_ids, line.id] });
      }
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const list = (kind: GroupInfo["kind"], legend: Key) => (
    <fieldset className="checks">
      <legend>{t(legend)}</legend>
      {(groups ?? []).filter((g) => g.kind === kind).length === 0 && <p className="muted">{t("admin.groups.noneOfKind")}</p>}
      {(groups ?? []).filter((g) => g.kind === kind).map((g) => (
        <label key={g.id} className="check">
          <input type="checkbox" checked={chosen.includes(g.id)} onChange={(e) => setChosen((c) => toggle(c, g.id, e.target.checked))} />
          <span>{g.name}</span>
        </label>
      ))}
    </fieldset>
  );

  return (
    <div className="form" aria-labelledby="wizard-step3">
      <h2 id="wizard-step3">{t("admin.wizard.step3")}</h2>
      <p className="muted">{t("admin.wizard.step3Help")}</p>
      {groups === null ? <p>{t("common.loading")}</p> : (
        <>
          {list("operators", "admin.lines.operatorGroups")}
          {list("supervisors", "admin.lines.supervisorGroups")}
        </>
      )}
      <fieldset className="inline-create">
        <legend>{t("admin.groups.new")}</legend>
        <label className="field">
          <span>{t("admin.groups.name")}</span>
          <input value={newName} onChange={(e) => setNewName(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("admin.groups.kind")}</span>
          <select value={newKind} onChange={(e) => setNewKind(e.target.value as GroupInfo["kind"])}>
            <option value="operators">{t("admin.groups.kind.operators")}</option>
            <option value="supervisors">{t("admin.groups.kind.supervisors")}</option>
          </select>
        </label>
        <button type="button" onClick={() => void createGroup()} disabled={!newName.trim()}>{t("admin.groups.create")}</button>
      </fieldset>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" className="primary" onClick={() => void finish()} disabled={busy}>{t("admin.wizard.finish")}</button>
      </div>
    </div>
  );
}
