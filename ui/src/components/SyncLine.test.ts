import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import SyncLine from './SyncLine.svelte';
import type { SyncView } from '../lib/ipc';

const now = new Date('2026-11-22T10:00:00Z');
const view = (over: Partial<SyncView>): SyncView => ({
  state: 'idle',
  pending: 0,
  last_sent_at: null,
  next_try_at: null,
  refused: null,
  received: 0,
  ...over,
});
const line = (sync: SyncView, onsync?: () => void) =>
  render(SyncLine, { sync, tz: 'Europe/Paris', now, onsync }).container.querySelector('[data-testid="sync-line"]')?.textContent ?? '';

describe('SyncLine', () => {
  it('counts what waits and says why, never "error"', () => {
    const text = line(view({ state: 'not-enrolled', pending: 4 }));
    expect(text).toContain("4 données en attente d'envoi");
    expect(text).toContain('relié à votre équipe soignante');
    expect(text.toLowerCase()).not.toContain('erreur');
  });

  it('says nothing leaves without consent', () => {
    const text = line(view({ state: 'no-consent' }));
    expect(text).toContain('Tout est enregistré sur cet appareil');
    expect(text).toContain('sans votre accord');
  });

  it('says when a withdrawal stopped the sending', () => {
    expect(line(view({ state: 'consent-withdrawn', pending: 2 }))).toContain('vous avez retiré votre accord');
  });

  it('says when the care team recorded the withdrawal the device now follows, with no "sync now"', () => {
    const r = render(SyncLine, { sync: view({ state: 'team-withdrawn', pending: 2 }), tz: 'Europe/Paris', now, onsync: () => {} });
    const text = r.container.querySelector('[data-testid="sync-line"]')?.textContent ?? '';
    expect(text).toContain('2 données en attente');
    expect(text).toContain("votre équipe a enregistré le retrait de votre accord : rien n'est plus envoyé");
    expect(r.container.querySelector('[data-testid="sync-now"]')).toBeNull();
  });

  it('offline: what waits and when it tries again, in minutes from now', () => {
    const text = line(view({ state: 'offline', pending: 3, next_try_at: '2026-11-22T10:02:00Z' }));
    expect(text).toContain("3 données en attente d'envoi");
    expect(text).toContain('hors ligne, nouvel essai dans 2 min');
    expect(text.toLowerCase()).not.toContain('erreur');
    expect(line(view({ state: 'offline', pending: 1, next_try_at: '2026-11-22T10:00:20Z' }))).toContain(
      "dans moins d'une minute",
    );
  });

  it('all sent: says how long ago', () => {
    const text = line(view({ last_sent_at: '2026-11-22T09:59:00Z', next_try_at: '2026-11-22T10:04:00Z' }));
    expect(text).toContain('Tout est envoyé à votre équipe — il y a 1 min');
  });

  it('waiting while online: the next sending time in the patient zone', () => {
    const text = line(view({ pending: 1, last_sent_at: '2026-11-22T09:50:00Z', next_try_at: '2026-11-22T10:05:00Z' }));
    expect(text).toContain("1 donnée en attente d'envoi");
    expect(text).toContain('prochain envoi à 11:05');
  });

  it('a device the server no longer knows asks for a new code', () => {
    expect(line(view({ state: 'refused', refused: 'unknown_device', pending: 2 }))).toContain('demandez-lui un nouveau code');
    // What the care team decided is said as such, not as a pause.
    expect(line(view({ state: 'refused', refused: 'monitoring_ended', pending: 2 }))).toContain('clôturé votre télésurveillance');
    expect(line(view({ state: 'refused', refused: 'consent_withdrawn', pending: 2 }))).toContain('retrait de votre accord');
    expect(line(view({ state: 'refused', refused: 'batch_rejected', pending: 2 }))).toContain('nouvel essai plus tard');
    expect(line(view({ state: 'syncing' }))).toContain('Envoi en cours');
  });

  it('offers "sync now" only when a sync can run', async () => {
    const onsync = vi.fn();
    const { getByTestId } = render(SyncLine, { sync: view({ state: 'offline', pending: 1 }), tz: 'Europe/Paris', now, onsync });
    await fireEvent.click(getByTestId('sync-now'));
    expect(onsync).toHaveBeenCalledOnce();
    expect(getByTestId('sync-now').textContent).toBe('Synchroniser maintenant');
    const other = render(SyncLine, { sync: view({ state: 'not-enrolled' }), tz: 'Europe/Paris', now, onsync });
    expect(other.container.querySelector('[data-testid="sync-now"]')).toBeNull();
  });
});

describe('SyncLine on a phone (compact)', () => {
  const compact = (sync: SyncView, onsync?: () => void) => render(SyncLine, { sync, tz: 'Europe/Paris', now, onsync, compact: true });

  it('is one short phrase; the whole sentence and "sync now" open on tap', async () => {
    const onsync = vi.fn();
    const { getByTestId, queryByTestId } = compact(view({ state: 'idle', pending: 0, last_sent_at: '2026-11-22T09:57:00Z' }), onsync);
    const chip = getByTestId('sync-short');
    expect(chip.textContent).toContain('Envoyé il y a 3 min');
    expect(queryByTestId('sync-line')).toBeNull();
    expect(queryByTestId('sync-now')).toBeNull();
    await fireEvent.click(chip);
    expect(chip.getAttribute('aria-expanded')).toBe('true');
    expect(getByTestId('sync-line').textContent).toContain('Tout est envoyé à votre équipe — il y a 3 min');
    await fireEvent.click(getByTestId('sync-now'));
    expect(onsync).toHaveBeenCalledOnce();
  });

  it.each([
    [view({ state: 'not-enrolled', pending: 4 }), '4 en attente'],
    [view({ state: 'no-consent' }), "Gardé sur l'appareil"],
    [view({ state: 'offline', pending: 3 }), 'Hors ligne'],
    [view({ state: 'syncing', pending: 3 }), 'Envoi…'],
    [view({ state: 'refused', pending: 1, refused: 'unknown_device' }), 'Envoi en pause'],
    [view({ state: 'idle', pending: 2 }), '2 en attente'],
  ])('says %o in a few words, never "error"', (sync, words) => {
    const text = compact(sync).getByTestId('sync-short').textContent ?? '';
    expect(text).toContain(words);
    expect(text.toLowerCase()).not.toContain('erreur');
  });
});
