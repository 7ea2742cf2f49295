import { describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import SyncLine from './SyncLine.svelte';

describe('SyncLine', () => {
  it('counts what waits and says why, never "error"', () => {
    const { getByTestId } = render(SyncLine, {
      sync: { state: 'not-enrolled', pending: 4, last_sent_at: null, next_try_at: null },
      tz: 'Europe/Paris',
    });
    const text = getByTestId('sync-line').textContent ?? '';
    expect(text).toContain('4 données en attente d\'envoi');
    expect(text).toContain('relié à votre équipe soignante');
    expect(text.toLowerCase()).not.toContain('erreur');
  });

  it('uses the singular and tells when the next try is', () => {
    const { getByTestId } = render(SyncLine, {
      sync: { state: 'not-enrolled', pending: 1, last_sent_at: null, next_try_at: '2026-11-22T10:05:00Z' },
      tz: 'Europe/Paris',
    });
    expect(getByTestId('sync-line').textContent).toContain('1 donnée en attente d\'envoi');
    expect(getByTestId('sync-line').textContent).toContain('prochain essai à 11:05');
  });

  it('says nothing leaves without consent', () => {
    const { getByTestId } = render(SyncLine, {
      sync: { state: 'no-consent', pending: 0, last_sent_at: null, next_try_at: null },
      tz: 'Europe/Paris',
    });
    expect(getByTestId('sync-line').textContent).toContain('Tout est enregistré sur cet appareil');
    expect(getByTestId('sync-line').textContent).toContain('sans votre accord');
  });
});
