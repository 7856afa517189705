// Every screen of the console: where it lives, who may open it, and its place in the top
// navigation. An area adds its screens here.
import type { ReactNode } from "react";
import type { Key } from "./strings";
import type { Me } from "./lib/types";
import { match, type Location } from "./lib/router";
import { Inbox } from "./pages/Inbox";
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

  // supervisor screens

  // admin screens (people, lines, channels)

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
