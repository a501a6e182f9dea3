import type { InstalledModel } from '../../../../electron/shared/contract.js';

/** Model patterns in typed or pasted text: commas, spaces and line breaks separate them. */
export function splitPatterns(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The list with the new patterns appended, each once (names compare without case, as the gate does). */
export function addPatterns(list: readonly string[], added: readonly string[]): string[] {
  const result = [...list];
  for (const pattern of added) if (!result.some((kept) => kept.toLowerCase() === pattern.toLowerCase())) result.push(pattern);
  return result;
}

export interface ModelOption {
  /** what choosing it adds to the allow-list */
  value: string;
  /** the installed model it stands for; absent for the typed text itself */
  model?: InstalledModel;
}

/**
 * What the picker offers for the typed text: installed models not chosen yet, those that start with
 * it first, and the typed text itself, since a pattern (`qwen2.5:*`) or a model not installed yet
 * is as valid. With a `*` the typed pattern comes first, as that is what the user is writing.
 */
export function modelOptions(installed: readonly InstalledModel[], chosen: readonly string[], typed: string, limit = 8): ModelOption[] {
  const text = typed.trim();
  const needle = text.toLowerCase().split('*')[0]!;
  const taken = new Set(chosen.map((pattern) => pattern.toLowerCase()));
  const free = installed.filter((model) => !taken.has(model.name.toLowerCase()) && model.name.toLowerCase().includes(needle));
  const ranked = [
    ...free.filter((model) => model.name.toLowerCase().startsWith(needle)),
    ...free.filter((model) => !model.name.toLowerCase().startsWith(needle)),
  ];
  const options: ModelOption[] = ranked.slice(0, limit).map((model) => ({ value: model.name, model }));
  const own =
    text && !/[\s,]/.test(text) && !taken.has(text.toLowerCase()) && !options.some((option) => option.value.toLowerCase() === text.toLowerCase())
      ? { value: text }
      : null;
  if (!own) return options;
  return text.includes('*') ? [own, ...options] : [...options, own];
}

/** The first few patterns for a table cell, and how many more the full list has. */
export function summarizeModels(models: readonly string[], shown = 2): { shown: string[]; more: number } {
  return { shown: models.slice(0, shown), more: Math.max(0, models.length - shown) };
}
