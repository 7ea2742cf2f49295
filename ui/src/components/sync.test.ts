// Enrolment (onboarding step and its form), the messages list and the home message, with the
// IPC module replaced by fixed answers.
import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, enrol: vi.fn(), inbox: vi.fn(), messagesRead: vi.fn(), finishOnboarding: vi.fn() } };
});

import { ipc, IpcError } from '../lib/ipc';
import type { Inbox } from '../lib/ipc';
import EnrolForm from './EnrolForm.svelte';
import SyncLine from './SyncLine.svelte';
import { receivedInvite } from '../lib/enrol';
import OnboardingScreen from '../screens/OnboardingScreen.svelte';
import MessagesScreen from '../screens/MessagesScreen.svelte';
import AppointmentsScreen from '../screens/AppointmentsScreen.svelte';

const refused = (code: string, params: Record<string, unknown> | null = null) =>
  new IpcError({ kind: 'sync', code, message: 'english text', params });

beforeEach(() => vi.mocked(ipc.enrol).mockReset());

describe('The new code of a revoked device, from the sync line', () => {
  const sync = (refused: string | null) => ({
    state: 'refused' as const,
    pending: 3,
    last_sent_at: null,
    next_try_at: null,
    refused,
    received: 0,
  });

  it('is offered when the team no longer recognises the device, and enrols it again', async () => {
    vi.mocked(ipc.enrol).mockResolvedValueOnce({ pseudonym: 'P-001', server: 'http://127.0.0.1:8480/', prescription: true, again: true });
    const onenrolled = vi.fn();
    const { getByTestId, queryByTestId, findByTestId } = render(SyncLine, { sync: sync('unknown_device'), tz: 'Europe/Paris', onenrolled });
    expect(getByTestId('sync-line').textContent).toContain('demandez-lui un nouveau code');
    expect(queryByTestId('enrol-form')).toBeNull();
    await fireEvent.click(getByTestId('reenrol-open'));
    expect(getByTestId('enrol-again-why').textContent).toContain("Rien n'est perdu");
    expect(getByTestId('enrol-submit').textContent).toBe('Relier à nouveau cet appareil');
    await fireEvent.input(getByTestId('enrol-code'), { target: { value: 'JDQ89-B3H0Q' } });
    await fireEvent.input(getByTestId('enrol-server'), { target: { value: 'http://127.0.0.1:8480' } });
    await fireEvent.click(getByTestId('enrol-submit'));
    expect(ipc.enrol).toHaveBeenCalledWith('JDQ89-B3H0Q', 'http://127.0.0.1:8480');
    await waitFor(() => expect(onenrolled).toHaveBeenCalledWith(expect.objectContaining({ again: true })));
    await findByTestId('reenrol-open');
  });

  it('says a code for another patient plainly, and nothing else happens', async () => {
    vi.mocked(ipc.enrol).mockRejectedValueOnce(refused('enrol-other-patient'));
    const onenrolled = vi.fn();
    const { getByTestId, findByTestId } = render(SyncLine, { sync: sync('unknown_device'), tz: 'Europe/Paris', onenrolled });
    await fireEvent.click(getByTestId('reenrol-open'));
    await fireEvent.input(getByTestId('enrol-code'), { target: { value: 'ilot://enrol?v=1&s=x' } });
    await fireEvent.click(getByTestId('enrol-submit'));
    expect((await findByTestId('enrol-error')).textContent).toBe(
      "Ce code est celui d'une autre personne : rien n'a changé sur cet appareil, vos données y restent. Vérifiez le code avec votre équipe.",
    );
    expect(onenrolled).not.toHaveBeenCalled();
  });

  it('is not offered for any other refusal, nor without a handler', () => {
    const other = render(SyncLine, { sync: sync('monitoring_ended'), tz: 'Europe/Paris', onenrolled: vi.fn() });
    expect(other.queryByTestId('reenrol-open')).toBeNull();
    const bare = render(SyncLine, { sync: sync('unknown_device'), tz: 'Europe/Paris' });
    expect(bare.queryByTestId('reenrol-open')).toBeNull();
  });
});

describe('EnrolForm', () => {
  it('sends a typed code with its server, and says a used code plainly in French', async () => {
    vi.mocked(ipc.enrol).mockRejectedValueOnce(refused('enrol-used'));
    const onenrolled = vi.fn();
    const { getByTestId, findByTestId, getByLabelText } = render(EnrolForm, { onenrolled });
    await fireEvent.input(getByLabelText("Code d'enrôlement ou lien d'invitation"), { target: { value: ' JDQ89-B3H0Q ' } });
    await fireEvent.input(getByTestId('enrol-server'), { target: { value: 'http://127.0.0.1:8480' } });
    await fireEvent.click(getByTestId('enrol-submit'));
    expect(ipc.enrol).toHaveBeenCalledWith('JDQ89-B3H0Q', 'http://127.0.0.1:8480');
    expect((await findByTestId('enrol-error')).textContent).toBe(
      'Ce code d\'enrôlement a déjà servi : demandez-en un nouveau à votre équipe.',
    );
    expect(onenrolled).not.toHaveBeenCalled();
  });

  it.each([
    ['enrol-expired', null, 'a expiré'],
    ['enrol-unknown', null, "n'est pas connu du serveur"],
    ['server-unreachable', { server: 'http://127.0.0.1:9' }, 'Le serveur de votre équipe (http://127.0.0.1:9) ne répond pas'],
    ['server-key-mismatch', null, "n'est pas celui de votre équipe"],
  ])('explains %s', async (code, params, text) => {
    vi.mocked(ipc.enrol).mockRejectedValueOnce(refused(code, params));
    const { getByTestId, findByTestId } = render(EnrolForm, { onenrolled: vi.fn() });
    await fireEvent.input(getByTestId('enrol-code'), { target: { value: 'ilot://enrol?v=1' } });
    await fireEvent.click(getByTestId('enrol-submit'));
    expect((await findByTestId('enrol-error')).textContent).toContain(text);
  });

  it('takes the pasted invite link alone: no server field, no server sent', async () => {
    vi.mocked(ipc.enrol).mockResolvedValueOnce({ pseudonym: 'P-001', server: 'http://127.0.0.1:8480/', prescription: true, again: false });
    const onenrolled = vi.fn();
    const { getByTestId, queryByTestId } = render(EnrolForm, { onenrolled });
    await fireEvent.input(getByTestId('enrol-code'), { target: { value: 'ilot://enrol?v=1&s=x' } });
    expect(queryByTestId('enrol-server')).toBeNull();
    expect(getByTestId('enrol-link-seen')).toBeTruthy();
    await fireEvent.click(getByTestId('enrol-submit'));
    expect(ipc.enrol).toHaveBeenCalledWith('ilot://enrol?v=1&s=x', null);
    await waitFor(() => expect(onenrolled).toHaveBeenCalledWith(expect.objectContaining({ pseudonym: 'P-001' })));
  });

  it('starts from an invite the system opened the app with (QR code, link), and waits for a tap', async () => {
    receivedInvite.set('ilot://enrol?v=1&s=from-qr');
    try {
      const { getByTestId } = render(EnrolForm, { onenrolled: vi.fn() });
      await waitFor(() => expect((getByTestId('enrol-code') as HTMLInputElement).value).toBe('ilot://enrol?v=1&s=from-qr'));
      expect(getByTestId('enrol-link-seen')).toBeTruthy();
      expect(ipc.enrol).not.toHaveBeenCalled();
    } finally {
      receivedInvite.set(null);
    }
  });
});

describe('OnboardingScreen enrolment step', () => {
  async function toEnrolStep() {
    const r = render(OnboardingScreen, { ondone: vi.fn() });
    await fireEvent.click(r.getByTestId('ob-next'));
    await fireEvent.click(r.getByTestId('ob-next'));
    await fireEvent.click(r.getByTestId('ob-consent-yes'));
    return r;
  }

  it('comes after consent, can be skipped, and says it can be done later', async () => {
    const r = await toEnrolStep();
    expect(r.getByText("Relier l'appareil à votre équipe")).toBeTruthy();
    expect(r.container.textContent).toContain('Étape 4 sur 6');
    expect(r.container.textContent).toContain('plus tard dans les réglages');
    await fireEvent.click(r.getByTestId('ob-enrol-skip'));
    expect(r.getByTestId('ob-pin')).toBeTruthy();
  });

  it('shows the record it was linked to, then goes on', async () => {
    vi.mocked(ipc.enrol).mockResolvedValueOnce({ pseudonym: 'P-042', server: 'http://127.0.0.1:8480/', prescription: true, again: false });
    const r = await toEnrolStep();
    await fireEvent.input(r.getByTestId('enrol-code'), { target: { value: 'ilot://enrol?v=1' } });
    await fireEvent.click(r.getByTestId('enrol-submit'));
    expect((await r.findByTestId('ob-enrolled')).textContent).toContain('dossier P-042');
    expect(r.container.textContent).toContain('Les seuils de votre prescription sont arrivés');
    await fireEvent.click(r.getByTestId('ob-next'));
    expect(r.getByTestId('ob-pin')).toBeTruthy();
  });
});

const inbox: Inbox = {
  messages: [
    { id: 7, from: { name: 'Dr Martin', role: 'physician' }, text: 'Pensez au resucrage.', sent_at: '2026-11-22T09:00:00Z', read: false },
    { id: 3, from: { name: 'Inès', role: 'nurse' }, text: 'Bien reçu.', sent_at: '2026-11-20T15:30:00Z', read: true },
  ],
  appointments: [
    {
      id: 1, version: 1, kind: 'education', starts_at: '2026-11-26T13:30:00Z', duration_min: 45,
      mode: { 'in-person': { place: 'Hôpital Nord, salle 3' } }, with: { name: 'Inès', role: 'nurse' },
      topic: 'Insuline', cancelled: false, upcoming: true,
    } as Inbox['appointments'][number],
  ],
  unread: 1,
};

describe('MessagesScreen', () => {
  it('lists messages as the shell sorted them, marks the unread one, then records it read', async () => {
    vi.mocked(ipc.inbox).mockResolvedValueOnce(inbox);
    vi.mocked(ipc.messagesRead).mockResolvedValueOnce(undefined);
    const onread = vi.fn();
    const r = render(MessagesScreen, { tz: 'Europe/Paris', enrolled: true, onread });
    const items = await r.findAllByTestId('message');
    expect(items.map((i) => i.querySelector('[data-testid="message-text"]')?.textContent)).toEqual([
      'Pensez au resucrage.',
      'Bien reçu.',
    ]);
    expect(items[0]!.dataset.read).toBe('false');
    expect(items[0]!.textContent).toContain('Nouveau');
    expect(items[0]!.textContent).toContain('Dr Martin · médecin · 22 novembre');
    expect(items[1]!.textContent).not.toContain('Nouveau');
    await waitFor(() => expect(ipc.messagesRead).toHaveBeenCalledWith([7]));
    expect(onread).toHaveBeenCalled();
  });

  it('says plainly when there is nothing yet', async () => {
    vi.mocked(ipc.inbox).mockResolvedValueOnce({ messages: [], appointments: [], unread: 0 });
    const r = render(MessagesScreen, { tz: 'Europe/Paris', enrolled: false });
    expect((await r.findByTestId('messages-empty')).textContent).toContain('dès que cet appareil sera relié');
  });
});

describe('AppointmentsScreen', () => {
  it('gives the date and time in the patient zone and language, with the place', async () => {
    vi.mocked(ipc.inbox).mockResolvedValueOnce(inbox);
    const r = render(AppointmentsScreen, { tz: 'Europe/Paris', enrolled: true });
    const a = await r.findByTestId('appointment');
    expect(a.textContent).toContain('jeudi 26 novembre 2026 à 14:30');
    expect(a.textContent).toContain("Séance d'éducation — Insuline");
    expect(a.textContent).toContain('Sur place : Hôpital Nord, salle 3 · Inès');
  });
});
