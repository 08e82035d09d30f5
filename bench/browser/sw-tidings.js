// The tidings worker as a site adds it, with analytics to the bench server's route.
importScripts('/probe-sw.js', '/tidings-worker.iife.js');
const backend = new URL(self.location.href).searchParams.get('backend');
TidingsWorker.createPushWorker({
  backend: backend ? new URL(backend, self.location.origin).href : undefined,
  defaultNotification: { title: 'tidings default' },
}).listen();
