// Free TCP ports on loopback for the test, load and benchmark harnesses: the
// kernel picks, we close and hand the number on. Another process could take
// it in between; callers that start a server on it retry or fail clearly.
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const srv = createServer().unref().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

/** `count` distinct free ports (the kernel may hand a just-closed port out again). */
export function freePorts(count: 2): Promise<[number, number]>;
export function freePorts(count: 4): Promise<[number, number, number, number]>;
export function freePorts(count: number): Promise<number[]>;
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
