import { useT } from "../../lib/i18n";
import { linkHandler } from "../../lib/router";

/** SupervisorTabs switches between the boards. */
export function SupervisorTabs({ current }: { current: "conversations" | "operators" | "visitors" | "reports" }) {
  const t = useT();
  const tabs = [
    { id: "conversations", path: "/supervisor/conversations", label: t("supervisor.tab.conversations") },
    { id: "operators", path: "/supervisor/operators", label: t("supervisor.tab.operators") },
    { id: "visitors", path: "/supervisor/visitors", label: t("supervisor.tab.visitors") },
    { id: "reports", path: "/supervisor/reports", label: t("supervisor.tab.reports") },
  ];
  return (
    <nav className="views" aria-label={t("nav.supervisor")}>
      {tabs.map((x) => (
        <a key={x.id} href={x.path} onClick={linkHandler(x.path)} aria-current={x.id === current ? "page" : undefined}>
          {x.label}
        </a>
      ))}
    </nav>
  );
}
