export const en = {};

export const ru: Record<keyof typeof en, string> = {};
