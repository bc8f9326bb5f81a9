// GET /metrics when Herald runs as several processes (app/cluster.ts): the worker that takes the
// scrape asks the primary, which gathers every process's metrics and adds them up with
// prom-client's AggregatorRegistry (counters and histograms summed; a gauge by the aggregator it
// was declared with, http/metrics-route.ts). Without this a scrape would see one worker's sends
// and none of the dispatcher's submissions.
import type { Registry } from 'prom-client';
import { answer, askPrimary } from '../concurrency/cluster-requests.js';
export interface Scraped {
  text: string;
  contentType: string;
}

/** In a worker: gives the primary this process's metrics; `scrape` asks for everyone's. */
export function workerMetrics(registry: () => Registry): { scrape(): Promise<Scraped | undefined>; close(): void } {
  const close = answer({ 'metrics:collect': () => registry().getMetricsAsJSON() });
  return { scrape: () => askPrimary<Scraped>('metrics:scrape'), close };
}
