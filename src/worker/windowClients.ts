declare const self: ServiceWorkerGlobalScope;

/** The site's open windows, controlled or not. Only this origin's: the worker never talks to others. */
export async function windowClients(): Promise<WindowClient[]> {
  const list = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  return list.filter((client) => client.url.startsWith(self.location.origin + '/'));
}

/** A tab the user is looking at: Chrome needs no notification then, and `foreground` applies. */
export function isForeground(client: WindowClient): boolean {
  return client.focused && client.visibilityState === 'visible';
}
