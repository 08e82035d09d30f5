// The demo page: tidings' page SDK as a site would use it. Everything that comes from a
// push, the backend or the user is written with textContent.
(async () => {
  const $ = (id) => document.getElementById(id);
  const say = (id, text) => ($(id).textContent = text);

  // Who this browser is comes from the demo server's session cookie: the page sends no
  // identity of its own, so "send to this browser" reaches only it.
  if (!Tidings.isSupported()) {
    say('action-result', 'Web push is not supported here (it needs a secure context, service workers and the Push API).');
  }
  const { vapidPublicKey } = await fetch('/demo/config').then((r) => r.json());
  const client = Tidings.createPushClient({
    vapidPublicKey,
    backend: '/api/push',
    serviceWorker: '/sw.js',
    // Register a seal key too: the send form chooses whether a message is sealed.
    sealed: true,
  });
  window.demoClient = client;

  async function showState() {
    const state = await client.getState();
    const list = $('state');
    list.replaceChildren();
    for (const [name, value] of Object.entries(state)) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value === undefined || value === '' ? '—' : String(value);
      list.append(dt, dd);
    }
    say('diagnosis', JSON.stringify(await client.diagnose(), null, 2));
    return state;
  }

  async function act(fn, label) {
    try {
      const result = await fn();
      say('action-result', `${label}: ${typeof result === 'string' ? result : 'done'}`);
    } catch (error) {
      say('action-result', `${label} failed: ${error.code ?? error.name}: ${error.message}`);
    }
    await showState();
  }

  $('soft-prompt').addEventListener('click', () =>
    act(
      () =>
        Tidings.showSoftPrompt(client, {
          title: 'Get a ping when something happens?',
          body: 'The demo sends only what you ask it to send, from the form below.',
          allowLabel: 'Yes, notify me',
          laterLabel: 'Not now',
        }),
      'Soft prompt',
    ),
  );
  $('subscribe').addEventListener('click', () => act(() => client.subscribe(), 'Subscribe'));
  $('unsubscribe').addEventListener('click', () => act(() => client.unsubscribe(), 'Unsubscribe'));

  $('send-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const request = {
      title: form.get('title'),
      body: form.get('body'),
      url: form.get('url'),
      action: form.get('action'),
      data: form.get('data'),
      cache: form.get('cache') === 'on',
      sealed: form.get('sealed') === 'on',
    };
    try {
      const response = await fetch('/demo/send', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      const result = await response.json();
      if (response.ok) void showFunnel();
      say(
        'send-result',
        response.ok
          ? `Sent to ${result.sent} subscription(s)${result.failed ? `, ${result.failed} failed` : ''}${result.gone ? `, ${result.gone} gone` : ''}.`
          : `The backend said ${response.status}: ${result.error}`,
      );
    } catch (error) {
      say('send-result', `Could not reach the backend: ${error.message}`);
    }
  });

  client.onMessage((data, envelope) => {
    const item = document.createElement('li');
    const time = new Date().toLocaleTimeString();
    item.textContent = `${time} · ${envelope.notification?.title ?? envelope.type ?? 'data'} · ${JSON.stringify(data)}`;
    $('messages').prepend(item);
  });
  client.onStateChange(() => void showState());

  async function showEvents() {
    try {
      const { events } = await fetch('/demo/events').then((r) => r.json());
      const list = $('events');
      list.replaceChildren(
        ...events
          .slice(-30)
          .reverse()
          .map((e) => {
            const item = document.createElement('li');
            const type = document.createElement('span');
            type.className = 'type';
            type.textContent = e.type;
            item.append(type, ` ${e.messageId ? `message ${e.messageId.slice(0, 10)}…` : ''}${e.action ? ` action ${e.action}` : ''}${e.reason ? ` (${e.reason})` : ''} at ${new Date(e.at).toLocaleTimeString()}`);
            return item;
          }),
      );
    } catch {
      // The backend may be restarting; the next poll shows the events.
    }
  }
  // The funnel of this browser's sends, from the backend's push.stats.
  async function showFunnel() {
    try {
      const { sends } = await fetch('/demo/funnel').then((r) => r.json());
      const cell = (text) => {
        const td = document.createElement('td');
        td.textContent = text;
        return td;
      };
      $('funnel').tBodies[0].replaceChildren(
        ...sends.map((s) => {
          const row = document.createElement('tr');
          row.dataset.id = s.id;
          row.append(
            cell(new Date(s.createdAt).toLocaleTimeString()),
            cell(s.title ?? '(no title)'),
            ...[s.targeted, s.sent, s.delivered, s.shown, s.clicked, s.closed, s.failed + s.gone].map((n) => cell(String(n))),
          );
          return row;
        }),
      );
      $('funnel-empty').hidden = sends.length > 0;
    } catch {
      // The backend may be restarting; the next poll shows it.
    }
  }
  await showState();
  await showEvents();
  await showFunnel();
  setInterval(showEvents, 2000);
  setInterval(showFunnel, 2000);
  document.body.dataset.ready = 'true';
})();
