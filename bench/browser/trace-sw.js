// Cold-start trace, loaded after probe-sw.js and before the worker under test: marks on the
// worker's clock (ms since the worker started) when its script began, when the bundle was
// about to load, the first IndexedDB open and getAllKeys (called, answered), the push event
// and the first showNotification call, and adds them to the probe's report.
const trace = (self.__trace = { script: self.__t0, bundle: performance.now() });
const mark = (name) => (trace[name] ??= performance.now());
const traced = (proto, method, called, answered) => {
  const original = proto[method];
  proto[method] = function () {
    mark(called);
    const request = original.apply(this, arguments);
    mark(`${called}Returned`);
    request.addEventListener('success', () => mark(answered));
    return request;
  };
};
traced(IDBFactory.prototype, 'open', 'idbOpen', 'idbOpened');
traced(IDBObjectStore.prototype, 'getAllKeys', 'keys', 'keysDone');
self.addEventListener('push', () => mark('push'));
const probeShow = ServiceWorkerRegistration.prototype.showNotification;
ServiceWorkerRegistration.prototype.showNotification = function () {
  mark('showCall');
  return probeShow.apply(this, arguments);
};
const probeReport = report;
report = (scope, fields) =>
  probeReport(scope, { ...fields, ...Object.fromEntries(Object.entries(trace).map(([name, at]) => [`t.${name}`, at.toFixed(2)])) });
