import type { ReactNode } from "react";
import { useT } from "../../lib/i18n";
import { linkHandler, useLocation } from "../../lib/router";
import { useSession } from "../../lib/session";
import { routes } from "../../routes";

/** AdminLayout frames a settings screen with the sub-navigation of every settings screen the user may open. */
export function AdminLayout({ children }: { children: ReactNode }) {
  const t = useT();
  const me = useSession();
  const loc = useLocation();
  const sections = routes.filter((r) => r.adminNav && r.allowed(me));
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label={t("nav.settings")}>
        {sections.map((r) => (
          <a key={r.adminNav!.path} href={r.adminNav!.path} onClick={linkHandler(r.adminNav!.path)}
            aria-current={loc.path === r.adminNav!.path || loc.path.startsWith(r.adminNav!.path + "/") ? "page" : undefined}>
            {t(r.adminNav!.label)}
          </a>
        ))}
      </nav>
      <div className="admin-body">{children}</div>
    </div>
  );
}
