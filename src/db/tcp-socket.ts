import net from 'node:net';
import type { ConnectTarget } from './postgres.ts';

/**
 * postgres.js opens sockets with Nagle's algorithm on. Small writes that follow a large one (the
 * end of a many-row INSERT, a COMMIT) then wait for the server's delayed ACK, up to 40 ms on
 * Linux; the audit writer's group commit lost a third of its throughput to it. This factory
 * connects with TCP_NODELAY.
 *
 * It hands postgres.js the socket at once, still connecting, and never rejects: postgres.js
 * returns a connection to its pool only when the socket emits 'close', and a factory whose
 * promise rejects leaves the connection in its "connecting" state for ever (each failed connect
 * during an outage would lose a pool slot, and after the outage queries would wait on them with
 * no deadline). A refused or failed connect instead reaches postgres.js as the socket's 'error'
 * and 'close', exactly as with its own sockets; writes made before the connect completes are
 * buffered by Node. postgres.js's `connect_timeout` bounds a connect that never completes.
 *
 * With several hosts, each connect goes to the host after the last one that failed.
 */
export function noDelaySocket(): (o: ConnectTarget) => Promise<net.Socket> {
  let next = 0;
  return async (o) => {
    if (o.path) return net.connect({ path: o.path });
    const i = next % Math.max(1, o.host.length);
    const socket = net.connect({ host: o.host[i] ?? 'localhost', port: o.port[i] ?? o.port[0] ?? 5432, noDelay: true });
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('error', () => {
      if (!connected) next = i + 1;
    });
    return socket;
  };
}
