// Desktop notifications for urgent alerts (tauri-plugin-notification), in the patient's
// language, once per alert: the shell marks which alerts still need one (`notify`).

import { isPermissionGranted, requestPermission, sendNotification } from '@tauri-apps/plugin-notification';
import { ipc } from './ipc';
import type { AlertView } from './ipc';
import { translate } from './i18n';

export async function notifyUrgent(alerts: AlertView[]): Promise<void> {
  const fresh = alerts.filter((a) => a.notify);
  if (fresh.length === 0) return;
  try {
    let granted = await isPermissionGranted();
    if (!granted) granted = (await requestPermission()) === 'granted';
    if (granted) {
      for (const a of fresh) {
        sendNotification({ title: translate(`alert.${a.kind}`), body: translate(a.advice) });
      }
    }
  } catch {
    // No notification service (a headless test, a desktop without one): the alert is on the
    // home screen anyway; do not ask again.
  }
  await ipc.alertsNotified(fresh.map((a) => a.key));
}
