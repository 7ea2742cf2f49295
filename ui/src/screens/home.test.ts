// The home screen's "not to forget" section: reminders from the shell's scheduled rules, in
// words, each with "done".
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, day: vi.fn(async () => { throw new Error('no shell in this test'); }) } };
});
import HomeScreen from './HomeScreen.svelte';
import type { Home } from '../lib/ipc';
import { setLanguage } from '../lib/i18n';

function home(over: Partial<Home> = {}): Home {
  return {
    now: '2026-11-22T19:30:00Z',
    tz: 'Europe/Paris',
    unit: 'g/L',
    last: null,
    alerts: [],
    reminders: [],
    basal: [],
    prescription_default: false,
    entries: 3,
    sync: { state: 'idle', pending: 0, last_sent_at: null, next_try_at: null, refused: null, received: 0 },
    unread: 0,
    latest_unread: null,
    next_appointment: null,
    demo: false,
    ...over,
  };
}

const [readings, recheck] = [
  { key: 'readings:2026-11-22', due_at: '2026-11-22T19:00:00Z', kind: 'readings-today', done: 1, asked: 4 },
  { key: 'recheck:1795375800', due_at: '2026-11-22T19:25:00Z', kind: 'recheck', reading_at: '2026-11-22T19:10:00Z' },
] as const satisfies Home['reminders'];
const reminders: Home['reminders'] = [readings, recheck];

describe('HomeScreen reminders', () => {
  it('says what to do now in words, one card per reminder', () => {
    const { getAllByTestId } = render(HomeScreen, { home: home({ reminders }), now: new Date(), ondone: () => {}, onadd: () => {} });
    const cards = getAllByTestId('reminder');
    expect(cards.map((c) => c.dataset.kind)).toEqual(['readings-today', 'recheck']);
    const [day, again] = cards.map((c) => c.textContent ?? '');
    expect(day).toContain('Aujourd\'hui : 1 sur les 4 demandées');
    expect(again).toContain('Recontrôlez votre glycémie');
    expect(again).toContain('reprenez 15 g de sucre');
  });

  it('a flash day short of scans says how many scans and what to do', () => {
    const scans = { key: 'scans:2026-11-22', due_at: '2026-11-22T19:00:00Z', kind: 'scans-today', done: 2, asked: 4 } as const;
    const { getAllByTestId } = render(HomeScreen, { home: home({ reminders: [scans] }), now: new Date(), ondone: () => {}, onadd: () => {} });
    const [card] = getAllByTestId('reminder');
    expect(card!.dataset.kind).toBe('scans-today');
    expect(card!.textContent).toContain('Scans du jour');
    expect(card!.textContent).toContain('Scans enregistrés aujourd\'hui : 2 sur les 4 demandés');
    expect(card!.textContent).toContain('Scannez votre capteur maintenant');
  });

  it('"done" hands the reminder key back', async () => {
    const ondone = vi.fn();
    const { getAllByRole } = render(HomeScreen, { home: home({ reminders: [recheck] }), now: new Date(), ondone, onadd: () => {} });
    const [done] = getAllByRole('button', { name: 'C\'est fait' });
    await fireEvent.click(done!);
    expect(ondone).toHaveBeenCalledWith('recheck:1795375800');
  });

  it('shows no section when nothing is due, and speaks English', () => {
    const empty = render(HomeScreen, { home: home(), now: new Date(), ondone: () => {}, onadd: () => {} });
    expect(empty.queryByTestId('reminder')).toBeNull();
    expect(empty.container.textContent).not.toContain('À ne pas oublier');
    empty.unmount();
    setLanguage('en');
    const { getByTestId } = render(HomeScreen, { home: home({ reminders: [readings] }), now: new Date(), ondone: () => {}, onadd: () => {} });
    expect(getByTestId('reminder').textContent).toContain('Today: 1 of the 4');
  });
});

describe('HomeScreen layout', () => {
  it('puts the number first, then the curve, then the alerts; the floating + only on phones', () => {
    const alerts: Home['alerts'] = [{
      key: 'hypo-l1:1', kind: 'hypo-l1', severity: 'urgent', started_at: '2026-11-22T19:00:00Z', ended_at: null,
      extreme: null, count: null, percent: null, advice: 'advice.hypo.resugar', notify: true,
    }];
    const wide = render(HomeScreen, { home: home({ alerts }), now: new Date(), ondone: () => {}, onadd: () => {} });
    const order = [...wide.container.querySelectorAll('[data-testid="glucose-now"], [data-testid="recent-curve"], [data-testid="alert"]')]
      .map((e) => (e as HTMLElement).dataset.testid);
    expect(order).toEqual(['glucose-now', 'recent-curve', 'alert']);
    expect(wide.queryByTestId('quick-fab')).toBeNull();
    wide.unmount();
    const phone = render(HomeScreen, { home: home({ alerts }), now: new Date(), ondone: () => {}, onadd: () => {}, compact: true });
    expect(phone.getByTestId('quick-fab')).toBeTruthy();
  });
});
