// The floor worker with the cold-start trace (trace-sw.js).
self.__t0 = performance.now();
importScripts('/probe-sw.js', '/trace-sw.js', '/floor/sw.js');
self.__trace.evaluated = performance.now();
