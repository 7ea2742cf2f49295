import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return {
    ...real,
    ipc: { ...real.ipc, addEntry: vi.fn(async () => ({ id: 7, version: 1 })), correctEntry: vi.fn() },
  };
});

import { ipc, IpcError } from '../lib/ipc';
import EntryForm from './EntryForm.svelte';

function form(kind: 'glucose' | 'insulin' = 'glucose', onsaved = vi.fn()) {
  const r = render(EntryForm, { kind, unit: 'g/L', tz: 'Europe/Paris', onsaved, oncancel: () => {} });
  return { ...r, onsaved };
}

async function type(input: HTMLElement, value: string) {
  await fireEvent.input(input, { target: { value } });
}

describe('adding a glucose', () => {
  beforeEach(() => vi.mocked(ipc.addEntry).mockClear());

  it('asks for a value when empty', async () => {
    const { getByTestId } = form();
    await fireEvent.click(getByTestId('entry-save'));
    expect(getByTestId('field-error').textContent).toBe('Entrez la valeur de votre glycémie.');
    expect(ipc.addEntry).not.toHaveBeenCalled();
  });

  it('says what is not a number', async () => {
    const { getByTestId } = form();
    await type(getByTestId('glucose-input'), 'un virgule deux');
    await fireEvent.click(getByTestId('entry-save'));
    expect(getByTestId('field-error').textContent).toContain('« un virgule deux » n\'est pas un nombre');
  });

  it('refuses an implausible value and names the range in the unit', async () => {
    const { getByTestId } = form();
    await type(getByTestId('glucose-input'), '126');
    await fireEvent.click(getByTestId('entry-save'));
    const msg = getByTestId('field-error').textContent ?? '';
    expect(msg).toContain('0,10 à 6,00 g/L');
    expect(getByTestId('glucose-input').getAttribute('aria-invalid')).toBe('true');
    expect(ipc.addEntry).not.toHaveBeenCalled();
  });

  it('sends the value as typed with its unit and context', async () => {
    const { getByTestId, onsaved } = form();
    await type(getByTestId('glucose-input'), '0,55');
    await fireEvent.click(getByTestId('entry-save'));
    expect(ipc.addEntry).toHaveBeenCalledTimes(1);
    const [input, at] = vi.mocked(ipc.addEntry).mock.calls[0]!;
    expect(input).toMatchObject({ type: 'glucose', value: '0,55', unit: 'g/L', scan: false });
    expect(at).toBeUndefined();
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledWith('Enregistré.'));
  });

  it('sends a scan of the flash sensor as a scan', async () => {
    const { getByTestId, getByLabelText } = form();
    expect((getByTestId('glucose-finger') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(getByLabelText(/scan du capteur/));
    await type(getByTestId('glucose-input'), '0,61');
    await fireEvent.click(getByTestId('entry-save'));
    const [input] = vi.mocked(ipc.addEntry).mock.calls[0]!;
    expect(input).toMatchObject({ type: 'glucose', value: '0,61', scan: true });
  });

  it("shows the shell's refusal in French", async () => {
    vi.mocked(ipc.addEntry).mockRejectedValueOnce(
      new IpcError({ kind: 'input', code: 'future-time', message: 'the time … is in the future', params: null }),
    );
    const { getByTestId } = form();
    await type(getByTestId('glucose-input'), '1,10');
    await fireEvent.click(getByTestId('entry-save'));
    await vi.waitFor(() => expect(getByTestId('form-failure').textContent).toContain('dans le futur'));
  });
});

describe('adding insulin', () => {
  it('refuses a dose out of range before sending', async () => {
    const { container, getByTestId } = form('insulin');
    const units = container.querySelector('#insulin-units') as HTMLInputElement;
    await type(units, '200');
    await fireEvent.click(getByTestId('entry-save'));
    expect(container.textContent).toContain('0,05 à 150 unités');
  });
});
