// The channel kinds the console knows, as a registry: each kind brings its label, the setup steps
// its page walks through, the fields it needs when created, what to show once after creation, and
// its settings form. Messengers, email and the widget plug in here by adding an entry.
import type { ComponentType } from "react";
import type { Key } from "../../../strings";
import type { ChannelInfo, CreatedChannel } from "./types";
import { ApiCreateFields, ApiCreated, ApiSettingsForm, apiEmptySettings } from "./ApiKind";
import {
  facebookSpec, instagramSpec, messengerBody, messengerCreateFields, messengerEmpty, messengerSettingsForm, okSpec, telegramSpec, viberSpec, vkSpec,
  whatsappSpec, type MessengerSpec,
} from "./MessengerKind";
import { PhoneCreateFields, PhoneSettingsForm, phoneEmpty } from "./PhoneKind";
import { InternalCreateFields, InternalSettingsForm, internalEmpty } from "./InternalKind";
import { EmailCreateFields, EmailSettingsForm, emailBody, emailEmpty } from "./EmailKind";
import { WebchatCreateFields, WebchatCreated, WebchatSettingsForm, webchatBody, webchatEmpty } from "./WebchatKind";

export interface CreateFieldsProps {
  value: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
}

export interface SettingsFormProps {
  channel: ChannelInfo;
  onChanged: (c: ChannelInfo) => void;
  /** Changing a channel is for admins; others (a supervisor of its line) only read it. */
  canEdit: boolean;
}

export interface ChannelKind {
  label: Key;
  /** The setup steps, in order, shown on the channel's page. */
  steps: Key[];
  /** Whether this build can create channels of the kind. */
  creatable: boolean;
  emptySettings: () => Record<string, unknown>;
  /** The create request's kind-specific part from the form's value (default: it is the settings). */
  createBody?: (value: Record<string, unknown>) => { settings: Record<string, unknown>; credentials?: Record<string, string> };
  CreateFields: ComponentType<CreateFieldsProps>;
  /** What to show once right after creation (secrets the API returns only then). */
  Created?: ComponentType<{ created: CreatedChannel }>;
  SettingsForm: ComponentType<SettingsFormProps>;
}

/** messengerKind is a messenger's plug-in: its label, its setup steps and what differs (spec). */
function messengerKind(label: Key, steps: Key[], spec: MessengerSpec): ChannelKind {
  return {
    label,
    steps,
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(spec, v),
    CreateFields: messengerCreateFields(spec),
    SettingsForm: messengerSettingsForm(spec),
  };
}

const metaSteps: Key[] = ["admin.meta.step.app", "admin.meta.step.token", "admin.meta.step.connect", "admin.meta.step.paste", "admin.meta.step.test"];

export const kinds: Record<string, ChannelKind> = {
  api: {
    label: "admin.kind.api",
    steps: ["admin.api.step.callback", "admin.api.step.token", "admin.api.step.test"],
    creatable: true,
    emptySettings: apiEmptySettings,
    CreateFields: ApiCreateFields,
    Created: ApiCreated,
    SettingsForm: ApiSettingsForm,
  },
  telegram: messengerKind("admin.kind.telegram", ["admin.tg.step.bot", "admin.tg.step.token", "admin.tg.step.connect", "admin.tg.step.test"], telegramSpec),
  viber: messengerKind("admin.kind.viber", ["admin.viber.step.bot", "admin.viber.step.token", "admin.viber.step.connect", "admin.viber.step.test"], viberSpec),
  vk: messengerKind("admin.kind.vk", ["admin.vk.step.token", "admin.vk.step.connect", "admin.vk.step.paste", "admin.vk.step.test"], vkSpec),
  facebook: messengerKind("admin.kind.facebook", metaSteps, facebookSpec),
  instagram: messengerKind("admin.kind.instagram", metaSteps, instagramSpec),
  whatsapp: messengerKind("admin.kind.whatsapp", ["admin.wa.step.app", "admin.wa.step.token", "admin.wa.step.connect", "admin.wa.step.field", "admin.wa.step.test"], whatsappSpec),
  ok: messengerKind("admin.kind.ok", ["admin.ok.step.token", "admin.ok.step.connect", "admin.ok.step.test"], okSpec),
  email: {
    label: "admin.kind.email",
    steps: ["admin.email.step.mailbox", "admin.email.step.servers", "admin.email.step.signature", "admin.email.step.test"],
    creatable: true,
    emptySettings: emailEmpty,
    createBody: emailBody,
    CreateFields: EmailCreateFields,
    SettingsForm: EmailSettingsForm,
  },
  webchat: {
    label: "admin.kind.webchat",
    steps: ["admin.site.step.site", "admin.site.step.widgets", "admin.site.step.embed", "admin.site.step.test"],
    creatable: true,
    emptySettings: webchatEmpty,
    createBody: webchatBody,
    CreateFields: WebchatCreateFields,
    Created: WebchatCreated,
    SettingsForm: WebchatSettingsForm,
  },
  phone: {
    label: "admin.kind.phone",
    steps: ["admin.phone.step.create", "admin.phone.step.url", "admin.phone.step.test"],
    creatable: true,
    emptySettings: phoneEmpty,
    createBody: () => ({ settings: {} }),
    CreateFields: PhoneCreateFields,
    SettingsForm: PhoneSettingsForm,
  },
  internal: {
    label: "admin.kind.internal",
    steps: ["admin.internal.step.groups", "admin.internal.step.write"],
    creatable: true,
    emptySettings: internalEmpty,
    CreateFields: InternalCreateFields,
    SettingsForm: InternalSettingsForm,
  },
};

/** kindLabel names a kind; kinds without a plug-in show their raw name. */
export function kindLabel(t: (k: Key) => string, kind: string): string {
  return kinds[kind] ? t(kinds[kind].label) : kind;
}
