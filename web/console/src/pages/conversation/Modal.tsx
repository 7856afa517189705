// A small modal dialog: labelled, focus moves in on open and back on close, Escape cancels.
import { useEffect, useId, useRef, type ReactNode } from "react";
import { useT } from "../../lib/i18n";

export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const t = useT();
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("input, select, textarea, button:not(.conv-modal-x)");
    first?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <div className="conv-backdrop">
      <div
        className="conv-modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
        ref={box}
        onKeyDown={(ev) => {
          if (ev.key === "Escape") {
            ev.stopPropagation();
            onClose();
          }
        }}
      >
        <header>
          <h2 id={id}>{title}</h2>
          <button type="button" className="link conv-modal-x" aria-label={t("common.close")} onClick={onClose}>
            ✕
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}
