import { useI18n, type Lang } from "../lib/i18n";

export function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang">
      <span className="visually-hidden">{t("nav.language")}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} aria-label={t("nav.language")}>
        <option value="ru">Русский</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}
