// The signed-in user and what their groups give them, for every screen.
import { createContext, useContext } from "react";
import type { Me, Permission } from "./types";

export const SessionContext = createContext<Me | null>(null);

export function useSession(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error("useSession outside a signed-in console");
  return me;
}

export function can(me: Me, p: Permission): boolean {
  return me.user.role === "admin" || me.access.permissions.includes(p);
}

export function isSupervisor(me: Me): boolean {
  return me.user.role === "admin" || me.user.role === "supervisor" || me.access.supervisor_lines.length > 0;
}
