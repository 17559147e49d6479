// ControlWatchHub: one control-plane stream per watched key, shared by its listeners and kept alive across failures.
import { type ClientReadableStream, type ServiceError, status } from '@grpc/grpc-js';
import type { Result, Subscription } from '@weft/core';
import { controlBackoffDelay } from './control-backoff.js';
import type { ControlClientSettings } from './control-channel.js';
import type { ControlWatchRef } from './control-client-event.js';
import type { ControlCallLabels } from './control-client-metrics.js';
import type { ControlTimer } from './control-timers.js';
import type { InvalidWireMessageError } from './invalid-wire-message-error.js';

/** How a hub reads the stream of one key, and the state that stream builds; one instance per key. */
export interface WatchedState<W, M> {
  /** Starts a new stream for the key. */
  open(): ClientReadableStream<W>;
  /**
   * Reads one message; `first` is true for the first message of each stream. Returns what the listeners get, which
   * is empty when the message changes nothing they hold, or the typed error when the message is refused.
   */
  receive(message: W, first: boolean): Result<readonly M[], InvalidWireMessageError>;
  /** The current state as one message, for a listener that joins; undefined while nothing is known. */
  snapshot(): M | undefined;
  /** Replaces a state that outlived its time to live; returns what the listeners get and a word for the log. */
  expire(): { readonly messages: readonly M[]; readonly replacement: string };
}

export interface ControlWatchHubOptions {
  readonly settings: ControlClientSettings;
  readonly labels: Omit<ControlCallLabels, 'addr'>;
  /**
   * A refused message is skipped ('skip': streams of whole states, where the next message replaces it) or ends the
   * stream so that a new one starts from a whole state ('restart': incremental streams, which it would desynchronise).
   */
  readonly onRefused: 'skip' | 'restart';
}

interface Holder<M> {
  readonly listener: (message: M) => void;
}

class WatchEntry<W, M> {
  readonly holders = new Set<Holder<M>>();
  call: ClientReadableStream<W> | undefined;
  /** The current call has delivered its first message. */
  served = false;
  /** Some call of this entry has delivered its first message. */
  everServed = false;
  /** Attempts that failed since a call was last served. */
  attempts = 0;
  retry: ControlTimer | undefined;
  expiry: ControlTimer | undefined;
  /** When the control plane last vouched for the state; undefined while a call serves it (it vouches right now). */
  confirmedAtMs: number | undefined;
  /** The state was replaced after its time to live; stays set until a call serves again. */
  expired = false;

  constructor(
    readonly key: string,
    readonly state: WatchedState<W, M>,
  ) {}
}

/**
 * Keys are strings chosen by the client (e.g. the formatted authority). Per key:
 * - one stream, opened by the first listener and cancelled when the last one leaves;
 * - a listener that joins gets the current state at once (synchronously), then every change;
 * - when the stream fails, listeners keep what they have; the hub retries with jittered exponential backoff and,
 *   when the new stream's first message arrives, listeners get only what changed (WatchedState.receive diffs it);
 * - state the control plane has not confirmed for `lastKnownTtlMs` is replaced (WatchedState.expire), logged and
 *   counted. When the last listener leaves, the state is kept for the rest of that time, so a watch that comes back
 *   while the control plane is away starts from it.
 */
export class ControlWatchHub<W, M> {
  private readonly entries = new Map<string, WatchEntry<W, M>>();
  private readonly labels: ControlCallLabels;
  private closed = false;

  constructor(private readonly options: ControlWatchHubOptions) {
    this.labels = { ...options.labels, addr: options.settings.address };
  }

  /** Adds a listener to `key`, creating its state with `create` if the key is not watched or remembered. */
  watch(key: string, create: () => WatchedState<W, M>, listener: (message: M) => void): Subscription {
    if (this.closed) throw new Error(`the ${this.labels.service} client is closed; create a new one to watch ${key}`);
    const entry = this.entries.get(key) ?? this.remember(key, create());
    const holder: Holder<M> = { listener };
    entry.holders.add(holder);
    const snapshot = entry.state.snapshot();
    if (snapshot !== undefined) this.deliverTo(entry, holder, snapshot);
    if (entry.call === undefined && entry.retry === undefined && entry.holders.has(holder)) {
      entry.attempts = 0;
      this.openStream(entry);
    }
    return { close: () => this.leave(entry, holder) };
  }

  /** How many streams are open (connected or connecting). */
  openStreamCount(): number {
    return [...this.entries.values()].filter((entry) => entry.call !== undefined).length;
  }

  /** Cancels every stream and timer and forgets every state; later watch() calls throw. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      entry.holders.clear();
      entry.retry?.cancel();
      entry.expiry?.cancel();
      this.dropCall(entry)?.cancel();
    }
    this.entries.clear();
  }

  private remember(key: string, state: WatchedState<W, M>): WatchEntry<W, M> {
    const entry = new WatchEntry(key, state);
    this.entries.set(key, entry);
    return entry;
  }

  private openStream(entry: WatchEntry<W, M>): void {
    entry.retry = undefined;
    if (this.closed || entry.holders.size === 0) return;
    this.options.settings.metrics.streamRequested(this.labels);
    let call: ClientReadableStream<W>;
    try {
      call = entry.state.open();
    } catch (error) {
      // grpc-js throws when the channel was closed under the client; retrying later keeps the watch's promise.
      this.options.settings.metrics.errorObserved(this.labels, 'open_failed');
      this.scheduleRetry(entry, 'open_failed', error instanceof Error ? error.message : String(error));
      return;
    }
    entry.call = call;
    entry.served = false;
    call.on('data', (message: W) => this.onMessage(entry, call, message));
    call.on('error', (error: ServiceError) => this.onEnd(entry, call, reasonOf(error.code), error.details));
    call.on('end', () => this.onEnd(entry, call, 'ended', 'the control plane ended the stream'));
  }

  private onMessage(entry: WatchEntry<W, M>, call: ClientReadableStream<W>, message: W): void {
    if (entry.call !== call) return;
    const read = entry.state.receive(message, !entry.served);
    if (!read.ok) {
      this.options.settings.log({ event: 'control-message-refused', watch: this.ref(entry), error: read.error });
      this.options.settings.metrics.errorObserved(this.labels, 'invalid_message');
      if (this.options.onRefused === 'restart') {
        this.dropCall(entry)?.cancel();
        this.scheduleRetry(entry, 'invalid_message', read.error.message);
      }
      return;
    }
    if (!entry.served) this.markServed(entry);
    for (const update of read.value) this.deliver(entry, update);
  }

  private markServed(entry: WatchEntry<W, M>): void {
    const { clock, log, metrics } = this.options.settings;
    if (entry.everServed || entry.attempts > 0) {
      const staleForMs = entry.confirmedAtMs === undefined ? 0 : Math.max(0, clock.now() - entry.confirmedAtMs);
      log({ event: 'control-stream-restored', watch: this.ref(entry), attempts: entry.attempts, staleForMs });
    }
    metrics.streamConnected(this.labels, entry.everServed);
    entry.served = true;
    entry.everServed = true;
    entry.attempts = 0;
    entry.expired = false;
    entry.confirmedAtMs = undefined;
    entry.expiry?.cancel();
    entry.expiry = undefined;
  }

  private onEnd(entry: WatchEntry<W, M>, call: ClientReadableStream<W>, reason: string, details: string): void {
    if (entry.call !== call) return;
    this.dropCall(entry);
    this.options.settings.metrics.errorObserved(this.labels, reason);
    this.scheduleRetry(entry, reason, details);
  }

  /** Forgets the entry's call, noting when its state was last confirmed; returns the call, for cancelling. */
  private dropCall(entry: WatchEntry<W, M>): ClientReadableStream<W> | undefined {
    const call = entry.call;
    if (entry.served) entry.confirmedAtMs = this.options.settings.clock.now();
    entry.call = undefined;
    entry.served = false;
    return call;
  }

  private scheduleRetry(entry: WatchEntry<W, M>, reason: string, details: string): void {
    if (this.closed || entry.holders.size === 0) return;
    const { backoff, random, timers, log } = this.options.settings;
    const retryInMs = controlBackoffDelay(entry.attempts, backoff, random);
    entry.attempts += 1;
    entry.retry = timers.start(retryInMs, () => this.openStream(entry));
    this.armExpiry(entry);
    const stale = entry.state.snapshot() !== undefined;
    log({ event: 'control-stream-failed', watch: this.ref(entry), reason, details, attempts: entry.attempts, retryInMs, stale });
  }

  /** Starts counting down the unconfirmed state's time to live, unless it already is or there is no state. */
  private armExpiry(entry: WatchEntry<W, M>): void {
    if (entry.expiry !== undefined || entry.state.snapshot() === undefined) return;
    if (entry.expired && entry.holders.size > 0) return;
    const { clock, lastKnownTtlMs, timers } = this.options.settings;
    const confirmedAt = entry.confirmedAtMs ?? clock.now();
    entry.confirmedAtMs = confirmedAt;
    entry.expiry = timers.start(confirmedAt + lastKnownTtlMs - clock.now(), () => this.expire(entry));
  }

  private expire(entry: WatchEntry<W, M>): void {
    entry.expiry = undefined;
    if (this.entries.get(entry.key) !== entry || entry.served) return;
    const { log, metrics, lastKnownTtlMs } = this.options.settings;
    const listeners = entry.holders.size;
    if (listeners === 0) {
      this.entries.delete(entry.key);
      log({ event: 'control-state-expired', watch: this.ref(entry), ttlMs: lastKnownTtlMs, listeners, replacement: 'forgotten' });
      return;
    }
    entry.expired = true;
    const { messages, replacement } = entry.state.expire();
    log({ event: 'control-state-expired', watch: this.ref(entry), ttlMs: lastKnownTtlMs, listeners, replacement });
    metrics.staleStateExpired(this.labels);
    for (const message of messages) this.deliver(entry, message);
  }

  private leave(entry: WatchEntry<W, M>, holder: Holder<M>): void {
    if (!entry.holders.delete(holder) || entry.holders.size > 0) return;
    entry.retry?.cancel();
    entry.retry = undefined;
    this.dropCall(entry)?.cancel();
    if (entry.state.snapshot() === undefined) {
      entry.expiry?.cancel();
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      return;
    }
    this.armExpiry(entry);
  }

  private deliver(entry: WatchEntry<W, M>, message: M): void {
    for (const holder of [...entry.holders]) {
      if (entry.holders.has(holder)) this.deliverTo(entry, holder, message);
    }
  }

  private deliverTo(entry: WatchEntry<W, M>, holder: Holder<M>, message: M): void {
    try {
      holder.listener(message);
    } catch (error) {
      this.options.settings.log({ event: 'control-listener-failed', watch: this.ref(entry), error });
    }
  }

  private ref(entry: WatchEntry<W, M>): ControlWatchRef {
    return { ...this.labels, target: entry.key };
  }
}

const statusNames = new Map<number, string>(
  Object.entries(status)
    .filter((pair): pair is [string, number] => typeof pair[1] === 'number')
    .map(([name, code]) => [code, name.toLowerCase()]),
);

/** "unavailable" for 14...: the bounded `reason` label of a failed call. */
export function reasonOf(code: number | undefined): string {
  return (code === undefined ? undefined : statusNames.get(code)) ?? 'unknown';
}
