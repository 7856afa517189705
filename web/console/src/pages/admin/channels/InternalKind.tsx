// The internal desk kind (issue 12, F107): employees of chosen groups write to the line from
// inside linedesk (My requests). The settings are the groups; none chosen: every user.
import { useEffect, useState } from "react";
import { api } from "../../../lib/api";
import { useT } from "../../../lib/i18n";
import { ErrorNote } from "./form";
import type { CreateFieldsProps, SettingsFormProps } from "./kinds";

export const internalEmpty = () => ({ group_ids: [] as number[] });

function Groups({ value, onChange, disabled }: { value: number[]; onChange: (ids: number[]) => void; disabled?: boolean }) {
  const t = useT();
  const [groups, setGroups] = useState<{ id: number; name: string }[]>([]);
  useEffect(() => {
    api.get<{ items: { id: number; name: string }[] }>("/api/v1/groups").then((r) => setGroups(r?.items ?? []), () => setGroups([]));
  }, []);
  return (
    <fieldset>
      <legend>{t("admin.internal.groups")}</legend>
      <small className="help">{t("admin.internal.groupsHelp")}</small>
      {groups.map((g) => (
        <label key={g.id} className="inline">
          <input type="checkbox" disabled={disabled} checked={value.includes(g.id)}
            onChange={(e) => onChange(e.target.checked ? [...value, g.id] : value.filter((x) => x !== g.id))} /> {g.name}
        </label>
      ))}
    </fieldset>
  );
}

export function InternalCreateFields({ value, onChange }: CreateFieldsProps) {
  return <Groups value={(value.group_ids as number[]) ?? []} onChange={(ids) => onChange({ ...value, group_ids: ids })} />;
}

export function InternalSettingsForm({ channel, onChanged, canEdit }: SettingsFormProps) {
  const t = useT();
  const [ids, setIds] = useState<number[]>((channel.settings.group_ids as number[]) ?? []);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    try {
      onChanged(await api.patch(`/api/v1/channels/${channel.id}`, { settings: { group_ids: ids } }));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="kind-settings">
      <Groups value={ids} onChange={setIds} disabled={!canEdit} />
      {canEdit && <div className="actions"><button type="button" className="primary" onClick={() => void save()}>{t("admin.internal.save")}</button></div>}
      <ErrorNote error={error} />
    </section>
  );
}
