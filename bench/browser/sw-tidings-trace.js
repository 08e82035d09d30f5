// The bench's tidings worker with the cold-start trace (trace-sw.js).
self.__t0 = performance.now();
importScripts('/probe-sw.js', '/trace-sw.js', '/tidings-worker.iife.js');
self.__trace.evaluated = performance.now();
TidingsWorker.createPushWorker({ backend: new URL('/api/trace', self.location.origin).href, defaultNotification: { title: 'tidings default' } }).listen();
self.__trace.listening = performance.now();
