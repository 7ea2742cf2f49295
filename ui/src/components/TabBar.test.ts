import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import TabBar from './TabBar.svelte';

const ids = (root: HTMLElement, sel: string) => [...root.querySelectorAll<HTMLElement>(sel)].map((b) => b.dataset.testid);

describe('TabBar', () => {
  it('shows five destinations, Plus last, and nothing else until Plus is opened', () => {
    const { container, queryByTestId } = render(TabBar, { current: 'home', ongo: () => {} });
    expect(ids(container, '.tabs button')).toEqual(['nav-home', 'nav-logbook', 'nav-charts', 'nav-observance', 'nav-more']);
    expect(queryByTestId('more-menu')).toBeNull();
    expect(container.querySelector('[aria-current="page"]')?.getAttribute('data-testid')).toBe('nav-home');
  });

  it('Plus holds education, devices, messages, appointments, access log and settings; a choice closes it', async () => {
    const ongo = vi.fn();
    const { getByTestId, queryByTestId } = render(TabBar, { current: 'home', ongo });
    await fireEvent.click(getByTestId('nav-more'));
    expect(getByTestId('nav-more').getAttribute('aria-expanded')).toBe('true');
    expect(ids(getByTestId('more-menu'), 'button')).toEqual(['nav-education', 'nav-devices', 'nav-messages', 'nav-appointments', 'nav-access', 'nav-settings']);
    await fireEvent.click(getByTestId('nav-messages'));
    expect(ongo).toHaveBeenCalledWith('messages');
    expect(queryByTestId('more-menu')).toBeNull();
  });

  it('the unread messages show on Plus and on Messages, in words for screen readers', async () => {
    const { getByTestId } = render(TabBar, { current: 'home', ongo: () => {}, unread: 2 });
    expect(getByTestId('more-badge').textContent).toContain('2 messages non lus');
    await fireEvent.click(getByTestId('nav-more'));
    expect(getByTestId('unread-badge').textContent).toContain('2 messages non lus');
  });

  it('marks Plus as the current page while one of its screens is shown; Escape closes the menu', async () => {
    const { getByTestId, queryByTestId } = render(TabBar, { current: 'settings', ongo: () => {} });
    expect(getByTestId('nav-more').getAttribute('aria-current')).toBe('page');
    await fireEvent.click(getByTestId('nav-more'));
    expect(getByTestId('nav-settings').getAttribute('aria-current')).toBe('page');
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(queryByTestId('more-menu')).toBeNull();
  });
});
