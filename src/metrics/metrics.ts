// Prometheus metrics. Two kinds:
// - what this process does (dispatch, provider calls, webhook rejections, deliveries seen):
//   counters and histograms in one process-wide registry, incremented where it happens. With
//   several instances each exports its own, and Prometheus sums them (`sum by (provider)`).
// - what is true at scrape time (messages by status, circuit states, open sockets): gauges
//   computed when /metrics is read, in a registry per running Herald (see scrape.ts).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const processRegistry = new Registry();
// Node's own: CPU, memory, event-loop lag, GC, handles.
collectDefaultMetrics({ register: processRegistry });

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Delivery reports take seconds to hours (a handset switched off).
const SECONDS_SLOW = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400];

export const metrics = {
  /** Claim → the provider's answer, per message and provider asked last. */
  dispatchDuration: new Histogram({
    name: 'herald_dispatch_duration_seconds',
    help: 'Time from claiming a message to the provider answering its submission',
    labelNames: ['provider', 'outcome'] as const,
    buckets: SECONDS_FAST,
    registers: [processRegistry],
  }),
  /** Created → DELIVERED, observed by the process that recorded the DELIVERED report. */
  deliveryDuration: new Histogram({
    name: 'herald_delivery_duration_seconds',
    help: 'End-to-end time from a message being created to its DELIVERED report',
    labelNames: ['provider'] as const,
    buckets: SECONDS_SLOW,
    registers: [processRegistry],
  }),
  providerRequests: new Counter({
    name: 'herald_provider_requests_total',
    help: 'Submissions to providers, by answer (accepted, rejected, retryable)',
    labelNames: ['provider', 'outcome'] as const,
    registers: [processRegistry],
  }),
  providerErrors: new Counter({
    name: 'herald_provider_errors_total',
    help: 'Provider answers that were errors (rejections and retryable failures), by Herald error code',
    labelNames: ['provider', 'code'] as const,
    registers: [processRegistry],
  }),
  /** Rows retention blanked or deleted (services/retention.ts), by kind. */
  retentionRows: new Counter({
    name: 'herald_retention_rows_total',
    help: 'Rows retention blanked (bodies) or deleted (records, verifications, webhook logs), by kind',
    labelNames: ['kind'] as const,
    registers: [processRegistry],
  }),
  /** When this process last finished a retention pass that was not skipped for the lock. */
  retentionLastPass: new Gauge({
    name: 'herald_retention_last_pass_timestamp_seconds',
    help: 'Unix time this process last finished a retention pass (0: never)',
    registers: [processRegistry],
  }),
  webhookRejections: new Counter({
    name: 'herald_webhook_rejections_total',
    help: 'Provider webhook calls refused, by reason',
    // provider is "unknown" for a path naming no configured provider (the path is the
    // caller's to choose: it must not create label values).
    labelNames: ['provider', 'reason'] as const,
    registers: [processRegistry],
  }),
};

/** A label value for a provider name (absent → "none"). */
export function providerLabel(name: string | null | undefined): string {
  return name ?? 'none';
}
