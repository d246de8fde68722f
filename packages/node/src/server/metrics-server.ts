import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { ListenAddress } from "../config/types.js";

/** A running `/metrics` HTTP server. */
export interface MetricsServerHandle {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) from one registry; every
 * other path is 404. Plain HTTP: bind it to an interface only the scraper
 * reaches.
 */
export async function startMetricsServer(listen: ListenAddress, registry: Registry): Promise<MetricsServerHandle> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Scrapes are short; dropping idle keep-alive sockets lets close() finish now.
        server.closeIdleConnections();
        server.close(() => resolve());
      }),
  };
}
