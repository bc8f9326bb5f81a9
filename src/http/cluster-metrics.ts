// GET /metrics when Herald runs as several processes (app/cluster.ts): the worker that takes the
// scrape asks the primary, which gathers every process's metrics and adds them up with
// prom-client's AggregatorRegistry (counters and histograms summed; a gauge by the aggregator it
// was declared with, http/metrics-route.ts). Without this a scrape would see one worker's sends
// and none of the dispatcher's submissions.
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { answer, askPrimary, askWorker, connectedWorkers } from '../concurrency/cluster-requests.js';

type Metrics = MetricObjectWithValues<MetricValue<string>>[];
export interface Scraped {
  text: string;
  contentType: string;
}

/** In an HTTP worker: gives the primary this process's metrics; `scrape` asks for everyone's. */
export function workerMetrics(registry: () => Registry): { scrape(): Promise<Scraped | undefined>; close(): void } {
  const close = answer({ 'metrics:collect': () => registry().getMetricsAsJSON() });
  return { scrape: () => askPrimary<Scraped>('metrics:scrape'), close };
}

/** In the primary: answers a worker's scrape with every process's metrics added up. */
export function primaryMetrics(registry: () => Registry): { close(): void } {
  const close = answer({
    'metrics:scrape': async (): Promise<Scraped> => {
      const all = await Promise.all([registry().getMetricsAsJSON(), ...connectedWorkers().map((w) => askWorker<Metrics>(w, 'metrics:collect'))]);
      const aggregated = AggregatorRegistry.aggregate(all.filter((m): m is Metrics => m !== undefined));
      return { text: await aggregated.metrics(), contentType: aggregated.contentType };
    },
  });
  return { close };
}
