// ControlTimers: how the control-plane clients schedule reconnects and expiries, so tests can run them by hand.
export interface ControlTimer {
  cancel(): void;
}

export interface ControlTimers {
  /** Runs `task` once after `delayMs`, unless cancelled first. */
  start(delayMs: number, task: () => void): ControlTimer;
}

/** Node's timers, unreferenced: a pending reconnect never keeps the process alive by itself. */
export const systemControlTimers: ControlTimers = {
  start(delayMs, task) {
    const handle = setTimeout(task, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
