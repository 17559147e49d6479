// Reads a demo service's settings from environment variables, collecting every problem instead of throwing.
import { type HostPort, isLoopbackHost, parseHostPort } from './host-port.js';

/** Either the settings, or every problem found, each naming the variable, its value and what to write instead. */
export type SettingsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly string[] };

export type DemoEnv = Readonly<Record<string, string | undefined>>;

/** Reads typed values from an environment; a bad value is remembered as a problem and replaced by the fallback. */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: DemoEnv) {}

  /** A TCP port to listen on, 0 to let the system pick a free one. */
  port(name: string, fallback: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      return this.fail(name, raw, 'write a port from 1 to 65535, or 0 for any free port', fallback);
    }
    return value;
  }

  /** The IP address or host name to listen on. */
  host(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A required `host:port` address, such as 127.0.0.1:7011 or [::1]:7011. */
  address(name: string, options: { loopbackOnly?: boolean } = {}): HostPort {
    const raw = this.raw(name);
    const fallback: HostPort = { host: '127.0.0.1', port: 1 };
    if (raw === undefined) return this.missing(name, 'write host:port, such as 127.0.0.1:7011', fallback);
    const parsed = parseHostPort(raw);
    if (parsed === undefined) return this.fail(name, raw, 'write host:port, such as 127.0.0.1:7011', fallback);
    if (options.loopbackOnly === true && !isLoopbackHost(parsed.host)) {
      return this.fail(name, raw, 'the demo sends traffic only to this machine: write 127.0.0.1:<port>, [::1]:<port> or localhost:<port>', fallback);
    }
    return parsed;
  }

  /** A whole number of milliseconds from 0 to `max`. */
  milliseconds(name: string, fallback: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > max) {
      return this.fail(name, raw, `write a whole number of milliseconds from 0 to ${max}`, fallback);
    }
    return value;
  }

  /** A share from 0 (never) to 1 (always). */
  fraction(name: string, fallback: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      return this.fail(name, raw, 'write a share from 0 (never) to 1 (always), such as 0.2', fallback);
    }
    return value;
  }

  /** A positive number no larger than `max`, such as a rate per second. */
  positive(name: string, fallback: number, max: number, unit: string): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || value > max) {
      return this.fail(name, raw, `write a number of ${unit} above 0 and at most ${max}`, fallback);
    }
    return value;
  }

  /** Free text, such as an instance name. */
  text(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** The settings built from the values read, unless a value was bad. */
  result<T>(value: T): SettingsResult<T> {
    return this.problems.length === 0 ? { ok: true, value } : { ok: false, problems: [...this.problems] };
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  private fail<T>(name: string, raw: string, advice: string, fallback: T): T {
    this.problems.push(`${name} is ${JSON.stringify(raw)}; ${advice}`);
    return fallback;
  }

  private missing<T>(name: string, advice: string, fallback: T): T {
    this.problems.push(`${name} is not set; ${advice}`);
    return fallback;
  }
}
