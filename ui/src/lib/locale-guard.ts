// Some environments report a POSIX locale ("C") as the browser language; Intl refuses it, and
// uPlot builds a number formatter from navigator.language when it loads. Imported first by
// main.ts so that the app starts anyway (in French, the default).

function valid(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    return Intl.NumberFormat.supportedLocalesOf([tag]).length > 0;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !valid(navigator.language)) {
  Object.defineProperty(navigator, 'language', { get: () => 'fr-FR', configurable: true });
  Object.defineProperty(navigator, 'languages', { get: () => ['fr-FR'], configurable: true });
}

export {};
