import { afterEach, describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { MORE_ITEMS, TAB_ITEMS, navItem, saveRecentHours, savedRecentHours } from './layout';

afterEach(() => localStorage.clear());

describe('navigation items', () => {
  it('the bottom bar has at most five destinations and Plus holds every other screen', () => {
    expect(TAB_ITEMS.length + 1).toBeLessThanOrEqual(5);
    const all = ['home', 'logbook', 'charts', 'observance', 'education', 'devices', 'messages', 'appointments', 'access', 'settings'];
    expect([...TAB_ITEMS, ...MORE_ITEMS].sort()).toEqual([...all].sort());
  });

  it('an entry form belongs to home, the nurse session to education', () => {
    expect(navItem('add')).toBe('home');
    expect(navItem('nurse')).toBe('education');
    expect(navItem('messages')).toBe('messages');
  });
});

describe('the curve length', () => {
  it('is 6 hours until the patient chooses, then the choice is kept', () => {
    expect(savedRecentHours()).toBe(6);
    saveRecentHours(24);
    expect(savedRecentHours()).toBe(24);
  });

  it('ignores a stored value that is not one of the choices', () => {
    localStorage.setItem('ilot.recent-hours', '5');
    expect(savedRecentHours()).toBe(6);
  });
});

describe('compact', () => {
  it('follows the window width across the 700 px breakpoint', async () => {
    const width = window.innerWidth;
    try {
      Object.defineProperty(window, 'innerWidth', { configurable: true, value: 390 });
      const { compact } = await import('./layout');
      expect(get(compact)).toBe(true);
      Object.defineProperty(window, 'innerWidth', { configurable: true, value: 1100 });
      expect(get(compact)).toBe(false);
    } finally {
      Object.defineProperty(window, 'innerWidth', { configurable: true, value: width });
    }
  });
});

describe('short', () => {
  it('is a phone-sized window 700 px high or less (360×640), not a tall phone or a wide window', async () => {
    const [width, height] = [window.innerWidth, window.innerHeight];
    const size = (w: number, h: number) => {
      Object.defineProperty(window, 'innerWidth', { configurable: true, value: w });
      Object.defineProperty(window, 'innerHeight', { configurable: true, value: h });
    };
    try {
      const { short } = await import('./layout');
      size(360, 640);
      expect(get(short)).toBe(true);
      size(390, 844);
      expect(get(short)).toBe(false);
      size(1100, 640);
      expect(get(short)).toBe(false);
    } finally {
      size(width, height);
    }
  });
});
