// Every area's strings, merged. Each area keeps its own file (keys prefixed with the area).
import * as admin from "./admin";
import * as calls from "./calls";
import * as common from "./common";
import * as conversation from "./conversation";
import * as inbox from "./inbox";
import * as requests from "./requests";
import * as search from "./search";
import * as settings from "./settings";
import * as sso from "./sso";
import * as supervisor from "./supervisor";

export const en = { ...common.en, ...inbox.en, ...conversation.en, ...supervisor.en, ...admin.en, ...settings.en, ...calls.en, ...search.en, ...requests.en, ...sso.en };
export type Key = keyof typeof en;
export const ru: Record<Key, string> = { ...common.ru, ...inbox.ru, ...conversation.ru, ...supervisor.ru, ...admin.ru, ...settings.ru, ...calls.ru, ...search.ru, ...requests.ru, ...sso.ru };
