// Subscription: the handle a watch returns; closing it stops further updates to that listener.
export interface Subscription {
  close(): void;
}
