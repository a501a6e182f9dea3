import { describe, expect, it } from 'vitest';
import { en } from './en.js';
import { createTranslator, dictionaries, interpolate, placeholdersOf, resolveLocale } from './translate.js';
import { zhCN } from './zh-CN.js';

describe('translations', () => {
  it('has every English message in Chinese, with the same placeholders', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    for (const [key, english] of Object.entries(en)) {
      const chinese = zhCN[key as keyof typeof en];
      expect(chinese.trim(), key).not.toBe('');
      expect(placeholdersOf(chinese), key).toEqual(placeholdersOf(english));
    }
  });

  it('translates (and leaves product names and code alone)', () => {
    const different = Object.entries(en).filter(([key, english]) => zhCN[key as keyof typeof en] !== english);
    // Only names that are the same in both languages may stay in English.
    const same = Object.keys(en).filter((key) => !different.some(([k]) => k === key));
    expect(same.sort()).toEqual([
      'overview.https',
      'overview.ollama',
      'settings.https',
      'settings.ollama',
      'shell.ollama',
      'snippets.note.langchainJs',
      'snippets.note.langchainPython',
      'snippets.note.ollamaJs',
      'snippets.note.ollamaPython',
    ]);
  });

  it('fills placeholders', () => {
    const t = createTranslator('zh-CN');
    expect(t('logs.showing', { shown: 3, total: 10 })).toBe('显示 3 / 10 个请求');
    expect(createTranslator('en')('nav.keys')).toBe('Keys');
    expect(interpolate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('follows the system language unless one is chosen', () => {
    expect(resolveLocale('system', ['zh-CN', 'en-US'])).toBe('zh-CN');
    expect(resolveLocale('system', ['zh-Hans-CN'])).toBe('zh-CN');
    expect(resolveLocale('system', ['zh'])).toBe('zh-CN');
    expect(resolveLocale('system', ['zh-TW', 'en'])).toBe('en');
    expect(resolveLocale('system', ['fr-FR', 'zh-CN'])).toBe('zh-CN');
    expect(resolveLocale('system', ['de'])).toBe('en');
    expect(resolveLocale('en', ['zh-CN'])).toBe('en');
    expect(resolveLocale('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(Object.keys(dictionaries)).toEqual(['en', 'zh-CN']);
  });
});
