/**
 * A provider's clock as tandem sees it. Last-writer-wins compares times written by two systems, so
 * a provider whose clock runs minutes ahead would win every conflict for those minutes. Every HTTP
 * answer carries the provider's time in its `Date` header (RFC 9110 §6.6.1, whole seconds), taken
 * between the moment the request left and the moment the answer arrived; each answer so bounds the
 * offset (provider time minus local time) to an interval:
 *
 *   offset > Date − receivedAt   and   offset < Date + 1 s − sentAt
 *
 * The bounds of many answers, sent at different fractions of a second, intersect to an interval
 * about as wide as a round trip. While that interval holds zero, the provider's clock agrees with
 * ours as far as the answers can tell and nothing is moved; once it does not, the provider is
 * provably off and its times are moved by the interval's middle, within half its width of the truth.
 *
 * The interval is built from the newest answers backwards, and an answer that contradicts the
 * newer ones ends it: a clock that was stepped (an NTP correction) is followed within a few calls.
 * The applied offset changes only when the estimate moves by more than HYSTERESIS_MS, so the same
 * record read twice keeps the same time.
 */

/** How many recent answers the estimate keeps. */
const SAMPLES = 64;
/** The applied offset follows the estimate only past this, so converted times stay put. */
const HYSTERESIS_MS = 250;
/** The header's resolution: its time is the provider's, truncated to the second. */
const DATE_RESOLUTION_MS = 1000;

interface Bounds {
  low: number;
  high: number;
}

/** Estimates a provider's clock offset from the `Date` headers of its answers. */
export class ProviderClock {
  private readonly samples: Bounds[] = [];
  private applied = 0;

  /** Takes one answer's `Date` header with the local times its request was sent and its answer read. */
  observe(dateHeader: unknown, sentAt: number, receivedAt: number): void {
    if (typeof dateHeader !== 'string') return;
    const date = Date.parse(dateHeader);
    if (!Number.isFinite(date) || receivedAt < sentAt) return;
    this.samples.push({ low: date - receivedAt, high: date + DATE_RESOLUTION_MS - sentAt });
    if (this.samples.length > SAMPLES) this.samples.shift();
    const estimate = middleUnlessZero(this.interval());
    if (Math.abs(estimate - this.applied) > HYSTERESIS_MS) this.applied = estimate;
  }

  /** Provider time minus local time, in ms: 0 until the answers prove otherwise. */
  offsetMs(): number {
    return this.applied;
  }

  /** A time the provider wrote, on the local clock (ISO 8601 in, ISO 8601 out; unreadable times as they are). */
  toLocal(time: string): string {
    if (this.applied === 0) return time;
    const at = Date.parse(time);
    return Number.isFinite(at) ? new Date(at - this.applied).toISOString() : time;
  }

  /** The provider's time now, by the estimate. */
  providerNow(now = Date.now()): number {
    return now + this.applied;
  }

  /** The intersection of the newest answers' bounds, stopping at the first answer that contradicts them. */
  private interval(): Bounds {
    let bounds = this.samples.at(-1) as Bounds;
    for (const sample of this.samples.slice(0, -1).reverse()) {
      const next = { low: Math.max(bounds.low, sample.low), high: Math.min(bounds.high, sample.high) };
      if (next.low > next.high) break;
      bounds = next;
    }
    return bounds;
  }
}

function middleUnlessZero({ low, high }: Bounds): number {
  return low <= 0 && high >= 0 ? 0 : Math.round((low + high) / 2);
}
