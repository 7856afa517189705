// Every screen of the console: where it lives, who may open it, and its place in the top
// navigation. An area adds its screens here.
import type { ReactNode } from "react";
import type { Key } from "./strings";
import type { Me } from "./lib/types";
import { match, type Location } from "./lib/router";
import { Inbox } from "./pages/Inbox";
import { ConversationView } from "./pages/conversation/ConversationView";

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

  // supervisor screens

  // admin screens (people, lines, channels)

  // settings screens (regulations, templates, dialog settings, messages, webhooks, audit, tokens)
];
