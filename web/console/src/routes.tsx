// Every screen of the console: where it lives, who may open it, and its place in the top
// navigation. An area adds its screens here.
import type { ReactNode } from "react";
import type { Key } from "./strings";
import type { Me } from "./lib/types";
import { match, type Location } from "./lib/router";
import { Inbox } from "./pages/Inbox";
// supervisor and admin (people, lines, channels) screens
import { can, isSupervisor } from "./lib/session";
import { SupervisorConversations } from "./pages/supervisor/Conversations";
import { SupervisorOperators } from "./pages/supervisor/Operators";
import { SupervisorVisitors } from "./pages/supervisor/Visitors";
import { SupervisorReports } from "./pages/supervisor/Reports";
import { Wizard } from "./pages/admin/Wizard";
import { Lines } from "./pages/admin/Lines";
import { Channels } from "./pages/admin/Channels";
import { Users } from "./pages/admin/Users";
import { Groups } from "./pages/admin/Groups";
import { ConversationView } from "./pages/conversation/ConversationView";
import { Calls } from "./pages/calls/Calls";
import { Search } from "./pages/search/Search";
import { MyRequests } from "./pages/requests/MyRequests";
import * as settings from "./pages/settings";

export interface Route {
  match: (path: string) => boolean;
  allowed: (me: Me) => boolean;
  render: (loc: Location) => ReactNode;
  nav?: { path: string; prefix: string; label: Key };
  /** adminNav puts the screen in the settings sub-navigation (AdminLayout), in route order. */
  adminNav?: { path: string; label: Key };
}

const anyone = () => true;

export const routes: Route[] = [
  {
    match: (p) => p === "/inbox" || match("/inbox/:number", p) !== null,
    allowed: anyone,
    render: (loc) => <Inbox loc={loc} />,
    nav: { path: "/inbox", prefix: "/inbox", label: "nav.inbox" },
  },
  // conversation screens
  {
    match: (p) => match("/conversations/:number", p) !== null,
    allowed: anyone,
    render: (loc) => {
      const n = Number(match("/conversations/:number", loc.path)?.number);
      return <ConversationView key={n} number={n} />;
    },
  },

  // telephony: the call log and a call's card
  {
    match: (p) => p === "/calls" || match("/calls/:id", p) !== null,
    allowed: anyone,
    render: (loc) => {
      const id = match("/calls/:id", loc.path)?.id;
      return <Calls selected={id ? Number(id) : null} />;
    },
    nav: { path: "/calls", prefix: "/calls", label: "nav.calls" },
  },

  // search over messages, conversations and clients
  {
    match: (p) => p === "/search",
    allowed: anyone,
    render: (loc) => <Search loc={loc} />,
    nav: { path: "/search", prefix: "/search", label: "nav.search" },
  },

  // an employee's requests to the internal desks
  {
    match: (p) => p === "/requests",
    allowed: anyone,
    render: () => <MyRequests />,
    nav: { path: "/requests", prefix: "/requests", label: "nav.requests" },
  },

  // supervisor screens
  {
    match: (p) => p === "/supervisor" || p === "/supervisor/conversations",
    allowed: isSupervisor,
    render: () => <SupervisorConversations />,
    nav: { path: "/supervisor/conversations", prefix: "/supervisor", label: "nav.supervisor" },
  },
  { match: (p) => p === "/supervisor/operators", allowed: isSupervisor, render: () => <SupervisorOperators /> },
  { match: (p) => p === "/supervisor/visitors", allowed: isSupervisor, render: () => <SupervisorVisitors /> },
  { match: (p) => p === "/supervisor/reports", allowed: isSupervisor, render: () => <SupervisorReports /> },

  // admin screens (people, lines, channels)
  {
    match: (p) => p === "/admin" || p === "/admin/lines" || match("/admin/lines/:id", p) !== null,
    allowed: (me) => can(me, "omni_management") || can(me, "omni_settings"),
    render: (loc) => <Lines loc={loc} />,
    nav: { path: "/admin/lines", prefix: "/admin", label: "nav.admin" },
    adminNav: { path: "/admin/lines", label: "admin.nav.lines" },
  },
  {
    match: (p) => p === "/admin/channels" || match("/admin/channels/:id", p) !== null,
    allowed: (me) => can(me, "omni_management"),
    render: (loc) => <Channels loc={loc} />,
    adminNav: { path: "/admin/channels", label: "admin.nav.channels" },
  },
  {
    match: (p) => p === "/admin/users" || match("/admin/users/:id", p) !== null,
    allowed: (me) => me.user.role === "admin",
    render: (loc) => <Users loc={loc} />,
    adminNav: { path: "/admin/users", label: "admin.nav.users" },
  },
  {
    match: (p) => p === "/admin/groups" || match("/admin/groups/:id", p) !== null,
    allowed: (me) => me.user.role === "admin",
    render: (loc) => <Groups loc={loc} />,
    adminNav: { path: "/admin/groups", label: "admin.nav.groups" },
  },
  {
    match: (p) => p === "/admin/wizard",
    allowed: (me) => me.user.role === "admin",
    render: () => <Wizard />,
    adminNav: { path: "/admin/wizard", label: "admin.nav.wizard" },
  },

  // settings screens (regulations, templates, dialog settings, messages, webhooks, audit, tokens)
  // Each screen is open to whoever the API lets change what it edits (api/server.go's rules).
  {
    match: (p) => p === "/admin/regulations" || p.startsWith("/admin/regulations/"),
    allowed: (me) => me.user.role === "admin",
    render: (loc) => <settings.Regulations loc={loc} />,
    adminNav: { path: "/admin/regulations", label: "settings.nav.regulations" },
  },
  {
    match: (p) => p === "/admin/templates",
    // ruleOmniSettings: an admin, a supervisor or a member of a group with omni_settings.
    allowed: (me) => me.user.role !== "operator" || me.access.permissions.includes("omni_settings"),
    render: () => <settings.Templates />,
    adminNav: { path: "/admin/templates", label: "settings.nav.templates" },
  },
  {
    match: (p) => p === "/admin/macros",
    // ruleOmniSettings, as for templates.
    allowed: (me) => me.user.role !== "operator" || me.access.permissions.includes("omni_settings"),
    render: () => <settings.Macros />,
    adminNav: { path: "/admin/macros", label: "settings.nav.macros" },
  },
  {
    match: (p) => p === "/admin/knowledge",
    // ruleOmniSettings, as for templates: who edits the module's shared content.
    allowed: (me) => me.user.role !== "operator" || me.access.permissions.includes("omni_settings"),
    render: () => <settings.Knowledge />,
    adminNav: { path: "/admin/knowledge", label: "settings.nav.knowledge" },
  },
  {
    match: (p) => p === "/admin/inbox",
    // ruleOmniSettings, as for templates: the module's shared settings.
    allowed: (me) => me.user.role !== "operator" || me.access.permissions.includes("omni_settings"),
    render: () => <settings.InboxSettings />,
    adminNav: { path: "/admin/inbox", label: "settings.nav.inbox" },
  },
  {
    match: (p) => p === "/admin/dialog-settings",
    allowed: (me) => me.user.role === "admin" || me.access.permissions.includes("dialog_settings"),
    render: () => <settings.DialogSettings />,
    adminNav: { path: "/admin/dialog-settings", label: "settings.nav.dialogSettings" },
  },
  {
    match: (p) => p === "/admin/standard-messages",
    allowed: (me) => me.user.role === "admin",
    render: () => <settings.StandardMessages />,
    adminNav: { path: "/admin/standard-messages", label: "settings.nav.messages" },
  },
  {
    match: (p) => p === "/admin/webhooks" || p.startsWith("/admin/webhooks/"),
    allowed: (me) => me.user.role === "admin",
    render: (loc) => <settings.Webhooks loc={loc} />,
    adminNav: { path: "/admin/webhooks", label: "settings.nav.webhooks" },
  },
  {
    match: (p) => p === "/admin/linked-apps",
    allowed: (me) => me.user.role === "admin",
    render: () => <settings.LinkedApps />,
    adminNav: { path: "/admin/linked-apps", label: "settings.nav.apps" },
  },
  {
    match: (p) => p === "/admin/audit",
    allowed: (me) => me.user.role === "admin",
    render: () => <settings.Audit />,
    adminNav: { path: "/admin/audit", label: "settings.nav.audit" },
  },
  {
    // Everyone manages their own tokens (an admin also sees others').
    match: (p) => p === "/admin/tokens",
    allowed: anyone,
    render: () => <settings.Tokens />,
    adminNav: { path: "/admin/tokens", label: "settings.nav.tokens" },
  },
];
