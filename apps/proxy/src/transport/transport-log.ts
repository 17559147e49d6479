// TransportLog: the structured events of the connection layer (detection, connects, forwarding), one object each.
export type TransportEventFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** One event, e.g. `{ event: 'protocol_detect_timeout', message: 'protocol detection timed out after 10s; ...' }`. */
export interface TransportEvent extends TransportEventFields {
  readonly event: string;
  readonly message: string;
}

/** Where the connection layer reports what it did; main.ts writes these as JSON lines. */
export type TransportLog = (event: TransportEvent) => void;

/** Drops every event; for callers that do not log. */
export const silentTransportLog: TransportLog = () => undefined;
