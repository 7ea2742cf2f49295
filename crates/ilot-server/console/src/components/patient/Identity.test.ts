import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import Identity from './Identity.svelte';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const id = 'ab'.repeat(16);

afterEach(() => vi.unstubAllGlobals());

/** A server with no identity yet that answers `put` and `insi` as given; records the calls. */
function server(put: Response, insi: unknown) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : null });
    if (method === 'PUT') return put.clone();
    if (url.endsWith('/insi')) return json(insi);
    if (url.endsWith('/history')) return json({ versions: [] });
    return json({ identity: null });
  }));
  return calls;
}

/** Opens the form and types PAT-TROIS with a wrong key. */
async function fill() {
  await fireEvent.click(await screen.findByTestId('identity-edit'));
  await fireEvent.input(screen.getByTestId('identity-birth_name'), { target: { value: 'PAT-TROIS' } });
  await fireEvent.input(screen.getByTestId('identity-first_names'), { target: { value: 'DOMINIQUE MARIE-LOUISE' } });
  await fireEvent.input(screen.getByTestId('identity-birth_date'), { target: { value: '1979-03-28' } });
  await fireEvent.input(screen.getByTestId('identity-birth_place'), { target: { value: '63220' } });
  await fireEvent.input(screen.getByTestId('identity-matricule-input'), { target: { value: '2 79 03 51 215 189 98' } });
}

describe('Identity', () => {
  it("shows the domain's refusal in the form, the matricule pointing at it", async () => {
    const refusal = json({ error: 'bad_request', message: 'the INS key 98 does not match the matricule (expected 89): a digit is wrong' }, 400);
    const calls = server(refusal, null);
    const r = render(Identity, { id });
    await r.findByTestId('identity-none');
    await fill();
    await fireEvent.submit(r.getByTestId('identity-form'));
    const shown = await r.findByTestId('identity-refusal');
    expect(shown.textContent).toBe('Refusé : the INS key 98 does not match the matricule (expected 89): a digit is wrong');
    expect(r.getByTestId('identity-matricule-input').getAttribute('aria-describedby')).toBe('identity-refusal');
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body).toMatchObject({ expected_version: 0, birth_name: 'PAT-TROIS', matricule: '2 79 03 51 215 189 98', sex: 'F' });
    // Still in the form, values kept for the correction.
    expect((r.getByTestId('identity-birth_name') as HTMLInputElement).value).toBe('PAT-TROIS');
  });

  it('says INSi found several identities and offers none of them', async () => {
    const calls = server(json({}), { result: 'several', message: 'plusieurs identités' });
    const r = render(Identity, { id });
    await fill();
    await fireEvent.click(r.getByTestId('identity-insi'));
    const answer = await r.findByTestId('insi-answer');
    expect(answer.getAttribute('data-result')).toBe('several');
    expect(answer.textContent).toContain('plusieurs identités correspondent');
    expect(r.queryByTestId('insi-take')).toBeNull();
    expect(calls.find((c) => c.url.endsWith('/insi'))!.body).toMatchObject({ by: 'traits', first_name: 'DOMINIQUE', birth_place: '63220' });
  });
});
