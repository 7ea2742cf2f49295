// Shell answers shared by the tests: an onboarded, unlocked patient's app info.
import type { AppInfo } from '../lib/ipc';

export function appInfo(over: Partial<AppInfo> = {}): AppInfo {
  return {
    language: 'fr',
    text_scale: 100,
    onboarded: true,
    consent: null,
    enrolled: null,
    pin_set: true,
    locked: false,
    demo: false,
    unit: 'g/L',
    tz: 'Europe/Paris',
    database: '/tmp/ilot.db',
    version: '0.1.0',
    ...over,
  };
}
