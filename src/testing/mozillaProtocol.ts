import { randomBytes } from 'node:crypto';
import type { WebSocket, WebSocketServer } from 'ws';
import { fromP256Key, toBase64Url } from '../shared/base64url.js';
import { liveMessages, type Channel, type PushState, type QueuedMessage } from './pushState.js';

/** A user agent (a Firefox profile) known by its uaid, and its socket while connected. */
interface UserAgent {
  socket: WebSocket | undefined;
  channels: Map<string, Channel>;
}

const CHANNEL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Mozilla's WebSocket push protocol as Firefox speaks it (PUSH-FACTS.md §4): hello
 * keeping the client's uaid, register/unregister, notifications with base64url data,
 * ack, and unacked messages resent after the next hello. `reset` forgets every user
 * agent, as a push service that resets uaids does.
 */
export function serveMozillaProtocol(state: PushState, server: WebSocketServer, endpointFor: (token: string, keyed: boolean) => string): {
  deliver(channel: Channel, message: QueuedMessage): boolean;
  reset(): number;
} {
  const agents = new Map<string, UserAgent>();
  // Uaids a reset forgot: a client that still says one is given a new uaid.
  const forgotten = new Set<string>();

  const send = (socket: WebSocket, frame: object): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const notify = (socket: WebSocket, channel: Channel, message: QueuedMessage): void => {
    const frame: Record<string, unknown> = { messageType: 'notification', channelID: channel.channelID, version: message.version };
    if (message.body.length > 0) {
      frame.data = toBase64Url(message.body);
      frame.headers = { encoding: message.encoding };
    }
    send(socket, frame);
  };

  server.on('connection', (socket) => {
    let uaid: string | undefined;
    socket.on('message', (data, isBinary) => {
      // autopush closes on binary frames: every frame of this protocol is JSON text.
      if (isBinary) return socket.close(1003, 'text frames only');
      let message: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(String(data));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return socket.close(1007, 'not a JSON object');
        message = parsed as Record<string, unknown>;
      } catch {
        return socket.close(1007, 'not JSON');
      }
      const type = message.messageType;
      // Anything without a string messageType is a ping; answer like autopush does.
      if (typeof type !== 'string') return send(socket, {});
      if (type === 'hello') {
        if (uaid !== undefined) return socket.close(1002, 'second hello');
        const asked = message.uaid;
        // Returning the client's uaid matters: a different one makes Firefox drop every subscription.
        uaid =
          typeof asked === 'string' && asked.length > 0 && asked.length <= 128 && !forgotten.has(asked)
            ? asked
            : randomBytes(16).toString('hex');
        let agent = agents.get(uaid);
        if (!agent) agents.set(uaid, (agent = { socket: undefined, channels: new Map() }));
        if (agent.socket && agent.socket !== socket) agent.socket.close(4000, 'replaced by a newer connection');
        agent.socket = socket;
        send(socket, { messageType: 'hello', uaid, status: 200, use_webpush: true, broadcasts: {} });
        for (const channel of agent.channels.values()) {
          for (const queued of liveMessages(state, channel)) notify(socket, channel, queued);
        }
        return;
      }
      if (uaid === undefined) return socket.close(1002, 'hello first');
      const agent = agents.get(uaid)!;
      const channelID = typeof message.channelID === 'string' ? message.channelID.toLowerCase() : undefined;
      if (type === 'register') {
        if (!channelID || !CHANNEL_ID.test(channelID)) return send(socket, { messageType: 'register', channelID: message.channelID, status: 400 });
        let key: string | undefined;
        if (message.key !== undefined) {
          const raw = fromP256Key(message.key);
          if (!raw) return send(socket, { messageType: 'register', channelID, status: 400 });
          key = toBase64Url(raw);
        }
        let channel = agent.channels.get(channelID);
        if (!channel || channel.gone || channel.applicationServerKey !== key) {
          const token = randomBytes(24).toString('base64url');
          channel = { token, endpoint: endpointFor(token, key !== undefined), applicationServerKey: key, gone: false, queue: [], uaid, channelID };
          state.channels.set(token, channel);
          state.byEndpoint.set(channel.endpoint, channel);
          agent.channels.set(channelID, channel);
        }
        return send(socket, { messageType: 'register', channelID, status: 200, pushEndpoint: channel.endpoint });
      }
      if (type === 'unregister') {
        const channel = channelID === undefined ? undefined : agent.channels.get(channelID);
        if (channel) {
          // Kept as a tombstone so later sends get 410, as from a real push service.
          channel.gone = true;
          channel.queue = [];
          agent.channels.delete(channelID!);
        }
        return send(socket, { messageType: 'unregister', channelID: message.channelID, status: 200 });
      }
      if (type === 'ack') {
        const updates = Array.isArray(message.updates) ? (message.updates as unknown[]) : [];
        for (const update of updates) {
          if (typeof update !== 'object' || update === null) continue;
          const { channelID: id, version } = update as { channelID?: unknown; version?: unknown };
          const channel = typeof id === 'string' ? agent.channels.get(id.toLowerCase()) : undefined;
          // Any ack code is the client's final word on that version (100 shown, 101/102 dropped).
          if (channel) channel.queue = channel.queue.filter((queued) => queued.version !== version);
        }
        return;
      }
      // nack (after an ack), broadcast_subscribe and unknown types need no answer.
    });
    socket.on('close', () => {
      const agent = uaid === undefined ? undefined : agents.get(uaid);
      if (agent?.socket === socket) agent.socket = undefined;
    });
  });

  return {
    deliver(channel, message) {
      const socket = channel.uaid === undefined ? undefined : agents.get(channel.uaid)?.socket;
      if (!socket || socket.readyState !== socket.OPEN) return false;
      notify(socket, channel, message);
      return true;
    },
    reset() {
      const count = agents.size;
      for (const [uaid, agent] of agents) {
        for (const channel of agent.channels.values()) {
          channel.gone = true;
          channel.queue = [];
        }
        agents.delete(uaid);
        forgotten.add(uaid);
        // Dropped, not closed: Firefox reconnects at once (with backoff) after a lost
        // connection, but after a clean close only when it next needs one (30 s here).
        // Its next hello gets the new uaid.
        agent.socket?.terminate();
      }
      return count;
    },
  };
}
