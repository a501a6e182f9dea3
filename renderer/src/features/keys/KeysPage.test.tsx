// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthView, KeyView } from '../../../../electron/shared/contract.js';
import { ToastProvider } from '../../components/Toast.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { KeysPage } from './KeysPage.js';

/** What the clipboard was given: jsdom has no clipboard, so the page gets a recording one. */
let clipboard: string[] = [];

beforeEach(() => {
  clipboard = [];
  Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (text: string) => void clipboard.push(text) } });
});
afterEach(cleanup);

const INSTALLED: HealthView['models'] = [
  { name: 'llama3.2:latest', size: 2e9, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M', modifiedAt: null },
  { name: 'qwen2.5:7b', size: 4e9, family: 'qwen2', parameterSize: '7.6B', quantization: 'Q4_K_M', modifiedAt: null },
  { name: 'qwen2.5:72b-instruct-q4_K_M', size: 4e10, family: 'qwen2', parameterSize: '72B', quantization: 'Q4_K_M', modifiedAt: null },
  { name: 'nomic-embed-text:latest', size: 2e8, family: 'nomic-bert', parameterSize: '137M', quantization: 'F16', modifiedAt: null },
];

function setup(keys: KeyView[] = [keyView()], health: HealthView = HEALTH) {
  let list = keys;
  const fake = fakeGate({
    'keys.list': () => list,
    'proxy.status': () => STATUS,
    'health.get': () => health,
    'settings.get': () => SETTINGS,
    'keys.create': (request) =>
      request.user === 'taken'
        ? {
            ok: false,
            error: {
              code: 'invalid_input',
              message: 'rpm: too big',
              issues: [{ path: 'rpm', message: 'requests per minute must be above 0, or empty for no limit' }],
            },
          }
        : { key: keyView({ id: 'k2', user: request.user, prefix: 'og_new12', models: request.models ?? [] }), secret: 'og_new12SECRETSECRETSECRET' },
    'keys.setEnabled': ({ id, enabled }) => keyView({ ...list.find((k) => k.id === id), enabled }),
    'keys.rotate': ({ id }) => ({ key: keyView({ ...list.find((k) => k.id === id), prefix: 'og_rot99' }), secret: 'og_rot99ROTATEDROTATEDROTATED' }),
    'keys.update': ({ id, ...patch }) => keyView({ ...list.find((k) => k.id === id), ...patch }),
    'keys.remove': ({ id }) => {
      if (id === 'locked') return { ok: false, error: { code: 'not_found', message: 'no key with id "locked"' } };
      list = list.filter((k) => k.id !== id);
      return null;
    },
  });
  renderWithGate(
    <ToastProvider closeLabel="Close">
      <KeysPage route={{ page: 'keys' }} />
    </ToastProvider>,
    fake,
  );
  return fake;
}

const called = (fake: ReturnType<typeof fakeGate>, method: string) => fake.calls.filter((c) => c.method === method);
const toasts = () => document.querySelector('.toasts')!.textContent ?? '';

/** Escape on a dialog: the browser's cancel event (jsdom has no keyboard-driven dialogs). */
function pressEscapeOn(dialog: HTMLElement) {
  fireEvent(dialog, new Event('cancel', { cancelable: true }));
}

async function openMenu(user: string) {
  fireEvent.click(await screen.findByRole('button', { name: `Actions for the key of ${user}` }));
  return screen.getByRole('menu');
}

describe('the keys page', () => {
  it('lists keys with their limits and toggles one at once', async () => {
    const fake = setup([keyView({ rpm: 60, models: ['llama3*'], name: 'laptop' })]);
    const toggle = await screen.findByRole('switch', { name: 'Key of alice (og_abcd1…) enabled' });
    expect(screen.getByText('60/min')).toBeTruthy();
    expect(screen.getByText('llama3*')).toBeTruthy();
    expect(screen.getByText('laptop')).toBeTruthy();
    fireEvent.click(toggle);
    await waitFor(() => expect(fake.calls.some((c) => c.method === 'keys.setEnabled')).toBe(true));
    expect(fake.calls.find((c) => c.method === 'keys.setEnabled')!.request).toEqual({ id: 'k1', enabled: false });
    await waitFor(() => expect((toggle as HTMLInputElement).checked).toBe(false));
    expect(toasts()).toContain('Disabled the key of alice');
  });

  it('sums up a long allow-list in the row and keeps the whole list in its title and the details', async () => {
    const models = ['llama3*', 'qwen2.5:72b-instruct-q4_K_M', 'deepseek-r1:*', 'nomic-embed-text', 'mistral-nemo:12b'];
    setup([keyView({ models })]);
    const summary = (await screen.findByText('llama3*')).closest('ul')!;
    expect(
      within(summary)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual(['llama3*', 'qwen2.5:72b-instruct-q4_K_M', '+3and 3 more']);
    expect(summary.getAttribute('title')).toBe(models.join(', '));
    fireEvent.click(screen.getByRole('button', { name: 'alice' }));
    const details = screen.getByRole('dialog', { name: 'Key of alice' });
    for (const model of models) expect(within(details).getByText(model)).toBeTruthy();
  });

  it('explains a form mistake before sending anything', async () => {
    const fake = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const dialog = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(dialog).getByLabelText('Requests per minute'), { target: { value: '1.5' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    expect(await within(dialog).findByText('Enter who the key is for.')).toBeTruthy();
    expect(within(dialog).getByText('A whole number above 0, or empty for no limit.')).toBeTruthy();
    expect(within(dialog).getByLabelText('User').getAttribute('aria-invalid')).toBe('true');
    expect(fake.calls.some((c) => c.method === 'keys.create')).toBe(false);
  });

  it('says by the daily token field which routes a budgeted key cannot use', async () => {
    setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const dialog = screen.getByRole('dialog', { name: 'New key' });
    const field = within(dialog).getByLabelText('Tokens per day');
    const hint = document.getElementById(field.getAttribute('aria-describedby')!)!.textContent!;
    expect(hint).toContain('/v1/messages');
    expect(hint).toContain('/v1/responses');
  });

  it('shows the gate’s own refusal under the field it concerns', async () => {
    setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const dialog = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(dialog).getByLabelText('User'), { target: { value: 'taken' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    expect(await within(dialog).findByText('requests per minute must be above 0, or empty for no limit')).toBeTruthy();
  });

  it('creates a key and shows its secret exactly once, with snippets that carry it', async () => {
    const fake = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const form = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(form).getByLabelText('User'), { target: { value: ' carol ' } });
    fireEvent.change(within(form).getByLabelText('Allowed models'), { target: { value: 'llama3*, qwen2.5:7b' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));
    const shown = await screen.findByRole('dialog', { name: 'Key created for carol' });
    expect(fake.calls.find((c) => c.method === 'keys.create')!.request).toEqual({
      user: 'carol',
      name: null,
      scope: 'inference',
      models: ['llama3*', 'qwen2.5:7b'],
      rpm: null,
      concurrency: null,
      dailyTokens: null,
      expiresAt: null,
    });
    expect(within(shown).getByLabelText('The new key').textContent).toBe('og_new12SECRETSECRETSECRET');
    fireEvent.click(within(shown).getByRole('tab', { name: 'Python ollama' }));
    expect(within(shown).getByRole('tabpanel').textContent).toContain('"Authorization": "Bearer og_new12SECRETSECRETSECRET"');
    expect(within(shown).getByRole('tabpanel').textContent).toContain('model="llama3.2:latest"');
    expect(toasts()).toContain('Key created for carol');
    fireEvent.click(within(shown).getByRole('button', { name: 'Copy: The new key' }));
    await waitFor(() => expect(clipboard).toEqual(['og_new12SECRETSECRETSECRET']));
    fireEvent.click(within(shown).getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(document.body.textContent).not.toContain('og_new12SECRETSECRETSECRET'));
    expect(screen.getByText('carol')).toBeTruthy();
  });

  it('asks before deleting, deletes nothing when cancelled, and deletes the key when confirmed', async () => {
    const fake = setup([keyView(), keyView({ id: 'k9', user: 'bob', prefix: 'og_bob99' })]);
    fake.calls.length = 0;
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Delete…' }));
    let confirm = screen.getByRole('dialog', { name: 'Delete the key of alice?' });
    expect(confirm.textContent).toContain('og_abcd1…');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(called(fake, 'keys.remove')).toEqual([]);
    expect(screen.getByRole('switch', { name: /^Key of alice/ })).toBeTruthy();

    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Delete…' }));
    confirm = screen.getByRole('dialog', { name: 'Delete the key of alice?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('switch', { name: /^Key of alice/ })).toBeNull());
    expect(called(fake, 'keys.remove').map((c) => c.request)).toEqual([{ id: 'k1' }]);
    expect(screen.queryByRole('dialog')).toBeNull();
    // Only that key: bob's is still listed.
    expect(screen.getByRole('switch', { name: /^Key of bob/ })).toBeTruthy();
    expect(toasts()).toContain('Deleted the key of alice');
  });

  it('says so when a delete fails, and keeps the key', async () => {
    setup([keyView({ id: 'locked' })]);
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Delete…' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(toasts()).toContain('Could not delete the key of alice: no key with id "locked"'));
    expect(document.querySelector('.toast.danger')).toBeTruthy();
    expect(screen.getByRole('switch', { name: /^Key of alice/ })).toBeTruthy();
  });

  it('opens each row action from its menu: edit, rotate, enable and the details', async () => {
    const fake = setup([keyView({ enabled: false, rpm: 10 })]);
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Enable' }));
    await waitFor(() => expect(called(fake, 'keys.setEnabled').map((c) => c.request)).toEqual([{ id: 'k1', enabled: true }]));
    await waitFor(() => expect(toasts()).toContain('Enabled the key of alice'));

    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Edit' }));
    const form = screen.getByRole('dialog', { name: 'Edit key' });
    expect((within(form).getByLabelText('User') as HTMLInputElement).value).toBe('alice');
    fireEvent.change(within(form).getByLabelText('Requests per minute'), { target: { value: '20' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(called(fake, 'keys.update').map((c) => c.request)).toEqual([{ id: 'k1', rpm: 20 }]));
    expect(await screen.findByText('20/min')).toBeTruthy();
    expect(toasts()).toContain('Saved the key of alice');

    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Details' }));
    const details = screen.getByRole('dialog', { name: 'Key of alice' });
    expect(details.textContent).toContain('og_abcd1…');
    fireEvent.click(within(details).getByRole('button', { name: 'Rotate…' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Rotate the key of alice?' })).getByRole('button', { name: 'Rotate' }));
    const secret = await screen.findByRole('dialog', { name: 'New secret for alice' });
    expect(within(secret).getByLabelText('The new key').textContent).toBe('og_rot99ROTATEDROTATEDROTATED');
    expect(called(fake, 'keys.rotate').map((c) => c.request)).toEqual([{ id: 'k1' }]);
    expect(toasts()).toContain('New secret for alice: the old one no longer works');
  });

  it('runs the row menu from the keyboard, and gives the focus back to its button', async () => {
    setup();
    const button = await screen.findByRole('button', { name: 'Actions for the key of alice' });
    expect(button.getAttribute('aria-haspopup')).toBe('menu');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    button.focus();
    fireEvent.keyDown(button, { key: 'ArrowDown' });
    const menu = screen.getByRole('menu', { name: 'Actions for the key of alice' });
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(button.getAttribute('aria-controls')).toBe(menu.id);
    const focused = () => document.activeElement?.textContent;
    expect(focused()).toBe('Details');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(focused()).toBe('Edit');
    fireEvent.keyDown(menu, { key: 'End' });
    expect(focused()).toBe('Delete…');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(focused()).toBe('Details');
    fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(focused()).toBe('Delete…');
    fireEvent.keyDown(menu, { key: 'h' });
    expect(focused()).toBe('How to connect');
    fireEvent.keyDown(menu, { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);

    // ArrowUp opens on the last item; the dialog an item opens gives the focus back to the button.
    fireEvent.keyDown(button, { key: 'ArrowUp' });
    expect(focused()).toBe('Delete…');
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Home' });
    fireEvent.click(document.activeElement!);
    expect(screen.queryByRole('menu')).toBeNull();
    const details = screen.getByRole('dialog', { name: 'Key of alice' });
    expect(details.contains(document.activeElement)).toBe(true);
    fireEvent.click(within(details).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(document.activeElement).toBe(button));
  });

  it('closes the row menu on a click elsewhere', async () => {
    setup();
    await openMenu('alice');
    fireEvent.mouseDown(document.body);
    expect(screen.queryByRole('menu')).toBeNull();
  });
});

describe('the one-time secret', () => {
  async function created() {
    const fake = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const form = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(form).getByLabelText('User'), { target: { value: 'carol' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));
    return { fake, shown: await screen.findByRole('dialog', { name: 'Key created for carol' }) };
  }

  it('asks before Escape closes it uncopied; going back keeps the secret on screen', async () => {
    const { shown } = await created();
    pressEscapeOn(shown);
    const ask = screen.getByRole('dialog', { name: 'Close without copying?' });
    expect(ask.textContent).toContain('You have not copied this key. It will not be shown again. Close anyway?');
    expect(document.activeElement).toBe(within(ask).getByRole('button', { name: 'Go back' }));
    fireEvent.click(within(ask).getByRole('button', { name: 'Go back' }));
    expect(screen.queryByRole('dialog', { name: 'Close without copying?' })).toBeNull();
    expect(within(shown).getByLabelText('The new key').textContent).toBe('og_new12SECRETSECRETSECRET');
    // Escape on the question is "go back" too.
    pressEscapeOn(shown);
    pressEscapeOn(screen.getByRole('dialog', { name: 'Close without copying?' }));
    expect(screen.queryByRole('dialog', { name: 'Close without copying?' })).toBeNull();
    expect(screen.getByRole('dialog', { name: 'Key created for carol' })).toBeTruthy();
  });

  it('asks before its button closes it uncopied, and closes when told to', async () => {
    await created();
    fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    const ask = screen.getByRole('dialog', { name: 'Close without copying?' });
    fireEvent.click(within(ask).getByRole('button', { name: 'Close anyway' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(document.body.textContent).not.toContain('og_new12SECRETSECRETSECRET');
  });

  it('closes without asking once the secret was copied: by its button, a snippet, or a copy of the selected text', async () => {
    const { shown } = await created();
    fireEvent.click(within(shown).getByRole('button', { name: 'Copy: curl' }));
    await waitFor(() => expect(clipboard[0]).toContain('og_new12SECRETSECRETSECRET'));
    pressEscapeOn(shown);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    // A rotated key, copied with Ctrl+C from the selected text.
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Rotate…' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Rotate' }));
    const rotated = await screen.findByRole('dialog', { name: 'New secret for alice' });
    const code = within(rotated).getByLabelText('The new key');
    // Selecting only part of it is not a copy of it.
    const range = document.createRange();
    range.setStart(code.firstChild!, 0);
    range.setEnd(code.firstChild!, 8);
    window.getSelection()!.removeAllRanges();
    window.getSelection()!.addRange(range);
    fireEvent.copy(code);
    pressEscapeOn(rotated);
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Close without copying?' })).getByRole('button', { name: 'Go back' }));
    window.getSelection()!.selectAllChildren(code);
    fireEvent.copy(code);
    pressEscapeOn(rotated);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});

describe('how to connect, later', () => {
  it('shows every client’s snippet for a key with a placeholder, never a secret', async () => {
    setup([keyView({ prefix: 'og_abcd1' })]);
    // A key created in this window: its secret was in the page once.
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    fireEvent.change(within(screen.getByRole('dialog')).getByLabelText('User'), { target: { value: 'carol' } });
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Create key' }));
    const shown = await screen.findByRole('dialog', { name: 'Key created for carol' });
    fireEvent.click(within(shown).getByRole('button', { name: 'Copy: The new key' }));
    await waitFor(() => expect(clipboard).toHaveLength(1));
    fireEvent.click(within(shown).getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    for (const [user, prefix] of [
      ['carol', 'og_new12'],
      ['alice', 'og_abcd1'],
    ] as const) {
      fireEvent.click(within(await openMenu(user)).getByRole('menuitem', { name: 'How to connect' }));
      const dialog = screen.getByRole('dialog', { name: `How to connect as ${user}` });
      expect(dialog.textContent).toContain(`the one that starts with ${prefix}…`);
      const tabs = within(dialog).getAllByRole('tab');
      expect(tabs.map((tab) => tab.textContent)).toEqual([
        'curl',
        'ollama-js',
        'Python ollama',
        'LangChain (Python)',
        'LangChain (JS)',
        'OpenAI SDK',
        'Open WebUI',
      ]);
      for (const tab of tabs) {
        fireEvent.click(tab);
        const code = within(dialog).getByRole('tabpanel').querySelector('pre')!.textContent!;
        expect(code, tab.textContent!).toContain('YOUR_KEY');
        expect(code, tab.textContent!).toContain('http://127.0.0.1:8000');
        expect(code).not.toContain('SECRET');
      }
      fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
      expect(screen.queryByRole('dialog')).toBeNull();
    }
    expect(document.body.innerHTML).not.toContain('og_new12SECRETSECRETSECRET');
  });

  it('offers a rotation from there, for a key whose secret is lost', async () => {
    const fake = setup();
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'How to connect' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Rotate for a new key…' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Rotate the key of alice?' })).getByRole('button', { name: 'Rotate' }));
    expect(await screen.findByRole('dialog', { name: 'New secret for alice' })).toBeTruthy();
    expect(called(fake, 'keys.rotate')).toHaveLength(1);
  });
});

describe('the model picker', () => {
  const online: HealthView = { ...HEALTH, models: INSTALLED };

  async function openForm(health: HealthView) {
    const fake = setup([], health);
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const form = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(form).getByLabelText('User'), { target: { value: 'dora' } });
    return { fake, form, box: within(form).getByRole('combobox', { name: 'Allowed models' }) };
  }

  it('suggests installed models, takes typed patterns, and removes chips', async () => {
    const { fake, form, box } = await openForm(online);
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: 'qw' } });
    const list = within(form).getByRole('listbox', { name: 'Installed models' });
    expect(
      within(list)
        .getAllByRole('option')
        .map((option) => option.textContent),
    ).toEqual(['qwen2.5:7b7.6B · Q4_K_M', 'qwen2.5:72b-instruct-q4_K_M72B · Q4_K_M', 'Add “qw”']);
    expect(box.getAttribute('aria-expanded')).toBe('true');
    fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(box.getAttribute('aria-activedescendant')).toBe(within(list).getAllByRole('option')[1]!.id);
    fireEvent.keyDown(box, { key: 'Enter' });
    // A pattern with * is offered first, as typed.
    fireEvent.change(box, { target: { value: 'deepseek-r1:*' } });
    expect(within(within(form).getByRole('listbox')).getAllByRole('option')[0]!.textContent).toBe('Add “deepseek-r1:*”');
    fireEvent.keyDown(box, { key: 'Enter' });
    // A click on a suggestion; what was chosen is not offered again.
    fireEvent.change(box, { target: { value: 'e' } });
    expect(within(form).queryByRole('option', { name: /qwen2.5:72b/ })).toBeNull();
    fireEvent.click(within(form).getByRole('option', { name: /nomic-embed-text/ }));
    // Typed with a comma: a chip at once.
    fireEvent.change(box, { target: { value: 'llama3*,' } });
    const chips = within(form).getByRole('list', { name: 'Chosen models' });
    expect(
      within(chips)
        .getAllByRole('listitem')
        .map((chip) => chip.querySelector('code')!.textContent),
    ).toEqual(['qwen2.5:72b-instruct-q4_K_M', 'deepseek-r1:*', 'nomic-embed-text:latest', 'llama3*']);
    fireEvent.click(within(form).getByRole('button', { name: 'Remove deepseek-r1:*' }));
    // Escape closes the list, not the dialog.
    fireEvent.change(box, { target: { value: 'll' } });
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(within(form).queryByRole('listbox')).toBeNull();
    // What is still typed counts when the form is sent.
    fireEvent.change(box, { target: { value: 'mistral' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));
    await screen.findByRole('dialog', { name: 'Key created for dora' });
    expect((called(fake, 'keys.create')[0]!.request as { models: string[] }).models).toEqual([
      'qwen2.5:72b-instruct-q4_K_M',
      'nomic-embed-text:latest',
      'llama3*',
      'mistral',
    ]);
  });

  it('edits a key’s list: its patterns come back as chips, Backspace takes off the last', async () => {
    const fake = setup([keyView({ models: ['llama3*', 'qwen2.5:7b'] })], online);
    fireEvent.click(within(await openMenu('alice')).getByRole('menuitem', { name: 'Edit' }));
    const form = screen.getByRole('dialog', { name: 'Edit key' });
    const box = within(form).getByRole('combobox', { name: 'Allowed models' });
    expect(within(within(form).getByRole('list', { name: 'Chosen models' })).getAllByRole('listitem')).toHaveLength(2);
    fireEvent.keyDown(box, { key: 'Backspace' });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(called(fake, 'keys.update').map((c) => c.request)).toEqual([{ id: 'k1', models: ['llama3*'] }]));
  });

  it('falls back to typing, with a hint, when Ollama is unreachable', async () => {
    const { fake, form, box } = await openForm({ ...HEALTH, reachable: false, error: 'connect ECONNREFUSED', models: [] });
    expect(within(form).getByText(/Ollama is not reachable, so installed models cannot be suggested/)).toBeTruthy();
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: 'llama' } });
    expect(
      within(within(form).getByRole('listbox'))
        .getAllByRole('option')
        .map((option) => option.textContent),
    ).toEqual(['Add “llama”']);
    fireEvent.change(box, { target: { value: 'llama3*, qwen2.5:*' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));
    await screen.findByRole('dialog', { name: 'Key created for dora' });
    expect((called(fake, 'keys.create')[0]!.request as { models: string[] }).models).toEqual(['llama3*', 'qwen2.5:*']);
  });
});
