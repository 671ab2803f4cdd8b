// A real HTTP server on 127.0.0.1 for download tests: each path is a handler, so a test can serve an archive,
// answer 404, stall forever or stream more than it announced.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface TestServer {
  url(pathname: string): string;
  close(): Promise<void>;
}

export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (pathname) => `http://127.0.0.1:${port}${pathname}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections(); // stalled responses would keep close() waiting forever
        server.close(() => resolve());
      }),
  };
}

/** Serves a buffer with its Content-Length. */
export const serveBuffer =
  (body: Buffer, contentType = 'application/octet-stream'): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body);
  };
