// A minimal W3C WebDriver client over fetch (Node 20), enough to drive the Tauri window through
// tauri-driver + WebKitWebDriver: sessions, elements, clicks, keys, scripts, screenshots.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application, { timeoutMs = 60_000, args = [] } = {}) {
    const caps = { capabilities: { alwaysMatch: { 'tauri:options': { application, args } } } };
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        const v = await request(base, 'POST', '/session', caps);
        return new Session(base, v.sessionId);
      } catch (e) {
        last = e;
        await sleep(500);
      }
    }
    throw new WebDriverError(`no WebDriver session at ${base}: ${last?.message}`);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async end() {
    await this.cmd('DELETE', '').catch(() => {});
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches an element (and, if given, its text satisfies `textTest`). */
  async waitFor(css, { timeoutMs = 15_000, text } = {}) {
    const deadline = Date.now() + timeoutMs;
    let seen = '';
    while (Date.now() < deadline) {
      const els = await this.findAll(css).catch(() => []);
      for (const el of els) {
        if (!text) return el;
        seen = await this.text(el).catch(() => '');
        if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) return el;
      }
      await sleep(150);
    }
    throw new WebDriverError(`timed out waiting for ${css}${text ? ` with text ${text}` : ''} (last text: ${JSON.stringify(seen)})`);
  }

  async click(css, opts) {
    await this.clickEl(await this.waitFor(css, opts));
  }

  async clickEl(el) {
    try {
      await this.cmd('POST', `/element/${el}/click`, {});
    } catch (e) {
      // A sticky header can cover an element the driver scrolled to the top edge: centre it.
      if (!/intercepted/.test(e.message)) throw e;
      await this.execute('arguments[0].scrollIntoView({ block: "center" })', [{ [ELEMENT]: el }]);
      await this.cmd('POST', `/element/${el}/click`, {});
    }
  }

  async type(css, text) {
    const el = await this.waitFor(css);
    await this.cmd('POST', `/element/${el}/clear`, {}).catch(() => {});
    await this.cmd('POST', `/element/${el}/value`, { text });
  }

  text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }

  async textOf(css) {
    return this.text(await this.waitFor(css));
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** Runs `script` with a `done` callback as its last argument (W3C Execute Async Script). */
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  /** Sets the window's outer size (W3C Set Window Rect). */
  setWindowRect(width, height) {
    return this.cmd('POST', '/window/rect', { width, height });
  }

  windowHandles() {
    return this.cmd('GET', '/window/handles');
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error) {
    throw new WebDriverError(`${method} ${path}: ${json?.value?.error ?? res.status} ${json?.value?.message ?? ''}`);
  }
  return json.value;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
