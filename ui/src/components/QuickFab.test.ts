import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import QuickFab from './QuickFab.svelte';

describe('QuickFab', () => {
  it('opens the common entries and hands the chosen kind back', async () => {
    const onadd = vi.fn();
    const { getByTestId, queryByTestId, getByRole } = render(QuickFab, { onadd });
    expect(queryByTestId('fab-menu')).toBeNull();
    const fab = getByRole('button', { name: 'Ajouter' });
    await fireEvent.click(fab);
    expect(fab.getAttribute('aria-expanded')).toBe('true');
    expect([...getByTestId('fab-menu').querySelectorAll('button')].map((b) => b.textContent?.trim())).toEqual([
      '+ Glycémie', '+ Insuline', '+ Glucides', '+ Hypoglycémie vécue', 'Autre…',
    ]);
    await fireEvent.click(getByTestId('fab-glucose'));
    expect(onadd).toHaveBeenCalledWith('glucose');
    expect(queryByTestId('fab-menu')).toBeNull();
  });
});
