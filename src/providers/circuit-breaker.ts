// A circuit breaker per provider, as a small clock-driven state machine.
//
// Why not opossum: it wraps a function call and opens on an error *percentage* over a rolling
// window; Herald needs "open after N consecutive failures", a failure decided by the SendResult
// (a value, not a throw), one probe at a time while half-open, and its state readable for the
// `providers` query. That is these thirty lines.
//
//   CLOSED --N consecutive failures--> OPEN --openMs elapsed--> HALF_OPEN
//   HALF_OPEN --probe succeeds--> CLOSED;  HALF_OPEN --probe fails--> OPEN (timer restarts)

export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private state: CircuitState = 'CLOSED';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The state now (an OPEN circuit whose time is up reads HALF_OPEN). */
  get current(): CircuitState {
    if (this.state === 'OPEN' && this.now() - this.openedAt >= this.options.openMs) return 'HALF_OPEN';
    return this.state;
  }

  /**
   * Whether a submission may go to the provider now. While half-open only one probe is let
   * through at a time; its outcome (`success`/`failure`) decides the next state.
   */
  tryAcquire(): boolean {
    const state = this.current;
    if (state === 'CLOSED') return true;
    if (state === 'OPEN') return false;
    if (this.probeInFlight) return false;
    this.state = 'HALF_OPEN';
    this.probeInFlight = true;
    return true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.probeInFlight = false;
    this.state = 'CLOSED';
  }

  failure(): void {
    this.consecutiveFailures++;
    if (this.state === 'HALF_OPEN' || this.consecutiveFailures >= this.options.failureThreshold) {
      this.state = 'OPEN';
      this.openedAt = this.now();
    }
    this.probeInFlight = false;
  }

  /** A permitted call that ended with no verdict on the provider's health (e.g. cancelled). */
  release(): void {
    this.probeInFlight = false;
  }
}
