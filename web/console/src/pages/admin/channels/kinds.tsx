// The channel kinds the console knows, as a registry: each kind brings its label, the setup steps
// its page walks through, the fields it needs when created, what to show once after creation, and
// its settings form. Messengers, email and the widget plug in here by adding an entry.
import type { ComponentType } from "react";
import type { Key } from "../../../strings";
import type { ChannelInfo, CreatedChannel } from "./types";
import { ApiCreateFields, ApiCreated, ApiSettingsForm, apiEmptySettings } from "./ApiKind";
import { facebookSpec, instagramSpec, messengerBody, messengerCreateFields, messengerEmpty, messengerSettingsForm, telegramSpec, viberSpec, vkSpec } from "./MessengerKind";

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
  telegram: {
    label: "admin.kind.telegram",
    steps: ["admin.tg.step.bot", "admin.tg.step.token", "admin.tg.step.connect", "admin.tg.step.test"],
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(telegramSpec, v),
    CreateFields: messengerCreateFields(telegramSpec),
    SettingsForm: messengerSettingsForm(telegramSpec),
  },
  viber: {
    label: "admin.kind.viber",
    steps: ["admin.viber.step.bot", "admin.viber.step.token", "admin.viber.step.connect", "admin.viber.step.test"],
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(viberSpec, v),
    CreateFields: messengerCreateFields(viberSpec),
    SettingsForm: messengerSettingsForm(viberSpec),
  },
  vk: {
    label: "admin.kind.vk",
    steps: ["admin.vk.step.token", "admin.vk.step.connect", "admin.vk.step.paste", "admin.vk.step.test"],
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(vkSpec, v),
    CreateFields: messengerCreateFields(vkSpec),
    SettingsForm: messengerSettingsForm(vkSpec),
  },
  facebook: {
    label: "admin.kind.facebook",
    steps: ["admin.meta.step.app", "admin.meta.step.token", "admin.meta.step.connect", "admin.meta.step.paste", "admin.meta.step.test"],
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(facebookSpec, v),
    CreateFields: messengerCreateFields(facebookSpec),
    SettingsForm: messengerSettingsForm(facebookSpec),
  },
  instagram: {
    label: "admin.kind.instagram",
    steps: ["admin.meta.step.app", "admin.meta.step.token", "admin.meta.step.connect", "admin.meta.step.paste", "admin.meta.step.test"],
    creatable: true,
    emptySettings: messengerEmpty,
    createBody: (v) => messengerBody(instagramSpec, v),
    CreateFields: messengerCreateFields(instagramSpec),
    SettingsForm: messengerSettingsForm(instagramSpec),
  },
};

/** kindLabel names a kind; kinds without a plug-in show their raw name. */
export function kindLabel(t: (k: Key) => string, kind: string): string {
  return kinds[kind] ? t(kinds[kind].label) : kind;
}
