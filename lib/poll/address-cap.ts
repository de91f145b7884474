import { HubError } from '../model/errors.js';

/**
 * Held polls per client address, so one host cannot park an unbounded number of requests.
 * In-process: every server counts the polls it holds itself.
 */
export class AddressCap {
  private readonly held = new Map<string, number>();
  private readonly max: number;

  /** max 0 = no cap. */
  constructor(max: number) {
    this.max = max;
  }

  /** Throws 429 rate_limited when the address already holds its share of polls. */
  assertRoom(address: string | null): void {
    if (address === null || this.max === 0) return;
    if ((this.held.get(address) ?? 0) >= this.max) {
      // Slots free up as holds end (news or timeout), so a few seconds is a fair wait.
      throw new HubError('rate_limited', `this address already holds ${this.max} polls`, { retryAfterS: 5 });
    }
  }

  /** Counts one more held poll for the address. */
  add(address: string | null): void {
    if (address !== null) this.held.set(address, (this.held.get(address) ?? 0) + 1);
  }

  /** Counts one held poll fewer; call once per add. */
  remove(address: string | null): void {
    if (address === null) return;
    const n = (this.held.get(address) ?? 1) - 1;
    if (n <= 0) this.held.delete(address);
    else this.held.set(address, n);
  }
}
