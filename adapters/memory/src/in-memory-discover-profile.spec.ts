import { defaultServiceProfile, parseAuthority, type ServiceProfile, unwrap } from '@weft/core';
import { describeDiscoverProfileContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { InMemoryDiscoverProfile } from './in-memory-discover-profile.js';

describeDiscoverProfileContract('InMemoryDiscoverProfile', () => {
  const port = new InMemoryDiscoverProfile();
  return {
    port,
    setProfile: async (target, profile) => port.setProfile(target, profile),
    deleteProfile: async (target) => port.deleteProfile(target),
    close: async () => undefined,
  };
});

const books = unwrap(parseAuthority('books.library:8080'));
const fallback = defaultServiceProfile('books.library.svc.cluster.local');
const slow: ServiceProfile = {
  ...fallback,
  routes: [{ name: 'GET /books', condition: { method: 'GET' }, responseClasses: [], isRetryable: true, timeoutMs: 5_000 }],
};

describe('InMemoryDiscoverProfile', () => {
  it('sends the first profile before watch returns, and later ones before the change returns', () => {
    const discovery = new InMemoryDiscoverProfile();
    const profiles: ServiceProfile[] = [];
    discovery.watch(books, (profile) => profiles.push(profile));
    expect(profiles).toEqual([fallback]);
    discovery.setProfile(books, slow);
    expect(profiles).toEqual([fallback, slow]);
  });

  it('sends nothing when the profile set equals the current one', () => {
    const discovery = new InMemoryDiscoverProfile();
    const profiles: ServiceProfile[] = [];
    discovery.watch(books, (profile) => profiles.push(profile));
    discovery.setProfile(books, { ...fallback });
    discovery.setProfile(books, slow);
    discovery.setProfile(books, structuredClone(slow));
    expect(profiles).toEqual([fallback, slow]);
  });

  it('treats every spelling of one authority as the same service, and each port as its own', () => {
    const discovery = new InMemoryDiscoverProfile();
    discovery.setProfile(unwrap(parseAuthority('BOOKS.library.svc.cluster.local.:8080')), slow);
    expect(discovery.profileOf(books)).toEqual(slow);
    expect(discovery.profileOf(unwrap(parseAuthority('books.library:80')))).toEqual(fallback);
  });

  it('names default profiles after DNS hosts and IPs without their port', () => {
    const discovery = new InMemoryDiscoverProfile();
    expect(discovery.profileOf(unwrap(parseAuthority('api.example.com:443'))).fullyQualifiedName).toBe('api.example.com');
    expect(discovery.profileOf(unwrap(parseAuthority('[fd00::1]:8080'))).fullyQualifiedName).toBe('fd00::1');
  });

  it('counts open watches', () => {
    const discovery = new InMemoryDiscoverProfile();
    const first = discovery.watch(books, () => undefined);
    const second = discovery.watch(books, () => undefined);
    expect(discovery.watcherCount(books)).toBe(2);
    first.close();
    first.close();
    expect(discovery.watcherCount(books)).toBe(1);
    second.close();
    expect(discovery.watcherCount(books)).toBe(0);
  });

  it('keeps delivering to the other listeners when one throws, then reports the error to the caller', () => {
    const discovery = new InMemoryDiscoverProfile();
    const failure = new Error('listener bug');
    const received: ServiceProfile[] = [];
    let calls = 0;
    discovery.watch(books, () => {
      if (calls++ > 0) throw failure;
    });
    discovery.watch(books, (profile) => received.push(profile));
    expect(() => discovery.setProfile(books, slow)).toThrow(failure);
    expect(received.at(-1)).toEqual(slow);
    expect(() => discovery.deleteProfile(books)).toThrow(failure);
    expect(received.at(-1)).toEqual(fallback);
  });

  it('reports every error when several listeners throw', () => {
    const discovery = new InMemoryDiscoverProfile();
    let armed = false;
    for (let i = 0; i < 2; i++) {
      discovery.watch(books, () => {
        if (armed) throw new Error(`listener ${i}`);
      });
    }
    armed = true;
    expect(() => discovery.setProfile(books, slow)).toThrow(AggregateError);
  });

  it('delivers changes made by a listener after the profile that caused them', () => {
    const discovery = new InMemoryDiscoverProfile();
    const faster = { ...slow, retryBudget: { ...slow.retryBudget, retryRatio: 0.5 } };
    const seenByFirst: ServiceProfile[] = [];
    const seenBySecond: ServiceProfile[] = [];
    discovery.watch(books, (profile) => {
      seenByFirst.push(profile);
      if (profile === slow) discovery.setProfile(books, faster);
    });
    discovery.watch(books, (profile) => seenBySecond.push(profile));
    discovery.setProfile(books, slow);
    expect(seenByFirst).toEqual([fallback, slow, faster]);
    expect(seenBySecond).toEqual([fallback, slow, faster]);
  });

  it('stops delivery to a subscription closed by an earlier listener during the same change', () => {
    const discovery = new InMemoryDiscoverProfile();
    const late: ServiceProfile[] = [];
    discovery.watch(books, (profile) => {
      if (profile === slow) subscription.close();
    });
    const subscription = discovery.watch(books, (profile) => late.push(profile));
    discovery.setProfile(books, slow);
    expect(late).toEqual([fallback]);
  });

  it('changes nothing when an unknown profile is deleted', () => {
    const discovery = new InMemoryDiscoverProfile();
    const profiles: ServiceProfile[] = [];
    discovery.watch(books, (profile) => profiles.push(profile));
    discovery.deleteProfile(books);
    expect(profiles).toEqual([fallback]);
  });
});
