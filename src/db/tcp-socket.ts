import net from 'node:net';
import type { ConnectTarget } from './postgres.ts';

/**
 * postgres.js opens sockets with Nagle's algorithm on. Small writes that follow a large one (the
 * end of a many-row INSERT, a COMMIT) then wait for the server's delayed ACK, up to 40 ms on
 * Linux; the audit writer's group commit lost a third of its throughput to it. This factory
 * connects with TCP_NODELAY. Hosts are tried in order, as postgres.js itself would.
 */
export function noDelaySocket(timeoutMs: number): (o: ConnectTarget) => Promise<net.Socket> {
  return async (o) => {
    if (o.path) return open({ path: o.path }, timeoutMs);
    let last: unknown;
    for (let i = 0; i < o.host.length; i++) {
      try {
        return await open({ host: o.host[i] ?? 'localhost', port: o.port[i] ?? o.port[0] ?? 5432, noDelay: true }, timeoutMs);
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof Error ? last : new Error('no PostgreSQL host to connect to');
  };
}

function open(options: net.NetConnectOpts, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`could not connect to PostgreSQL within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}
