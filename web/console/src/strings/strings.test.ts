import { expect, test } from "vitest";
import { en, ru } from ".";

// The Russian UI must show no English: every Russian string is filled in, and one that equals its
// English twin is a name that reads the same in both (listed here on purpose).
// Brand names read the same in both languages.
const sameInBoth = new Set(["app.name", "common.none", "admin.kind.telegram", "admin.kind.viber", "admin.kind.facebook", "admin.kind.instagram", "admin.kind.whatsapp", "calls.contactEmail"]);

test("every Russian string is translated", () => {
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    expect(ru[key], key).toBeTruthy();
    if (!sameInBoth.has(key)) expect(ru[key], key).not.toBe(en[key]);
  }
});
