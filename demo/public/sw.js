importScripts('/tidings-worker.iife.js');
const worker = TidingsWorker.createPushWorker({ backend: '/api/push', defaultNotification: { title: 'tidings demo' } });
worker.listen();
