import { describe, expect, it } from 'vitest';
import { KeyedPublisher } from './keyed-publisher.js';

function recording(): { readonly seen: string[]; readonly listener: (message: string) => void } {
  const seen: string[] = [];
  return { seen, listener: (message) => void seen.push(message) };
}

describe('KeyedPublisher', () => {
  it('sends the first message before subscribe returns, and published ones before publish returns', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const watcher = recording();
    publisher.subscribe('a', 'first', watcher.listener);
    expect(watcher.seen).toEqual(['first']);
    publisher.publish('a', 'one', 'two');
    expect(watcher.seen).toEqual(['first', 'one', 'two']);
  });

  it('sends a message only to the subscribers of its key', () => {
    const publisher = new KeyedPublisher<number, string>('test');
    const one = recording();
    const two = recording();
    publisher.subscribe(1, 'hello 1', one.listener);
    publisher.subscribe(2, 'hello 2', two.listener);
    publisher.publish(1, 'for 1');
    publisher.publish(3, 'for nobody');
    expect(one.seen).toEqual(['hello 1', 'for 1']);
    expect(two.seen).toEqual(['hello 2']);
  });

  it('counts open subscriptions per key, and closing twice changes nothing', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const first = publisher.subscribe('a', 'first', () => undefined);
    publisher.subscribe('a', 'first', () => undefined);
    publisher.subscribe('b', 'first', () => undefined);
    expect([publisher.watcherCount('a'), publisher.watcherCount('b'), publisher.watcherCount('c')]).toEqual([2, 1, 0]);
    first.close();
    first.close();
    expect(publisher.watcherCount('a')).toBe(1);
  });

  it('keeps a later subscription when an old one of the same key is closed again', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const old = publisher.subscribe('a', 'first', () => undefined);
    old.close();
    const watcher = recording();
    publisher.subscribe('a', 'first', watcher.listener);
    old.close();
    publisher.publish('a', 'still here');
    expect(publisher.watcherCount('a')).toBe(1);
    expect(watcher.seen).toEqual(['first', 'still here']);
  });

  it('sends nothing more to a closed subscription', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const watcher = recording();
    publisher.subscribe('a', 'first', watcher.listener).close();
    publisher.publish('a', 'late');
    expect(watcher.seen).toEqual(['first']);
  });

  it('subscribes nothing when the listener throws on its first message, and lets the error through', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const failure = new Error('listener bug');
    expect(() =>
      publisher.subscribe('a', 'first', () => {
        throw failure;
      }),
    ).toThrow(failure);
    expect(publisher.watcherCount('a')).toBe(0);
  });

  it('keeps delivering when a listener throws, then throws its error from publish', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const failure = new Error('listener bug');
    const before = recording();
    const after = recording();
    publisher.subscribe('a', 'first', before.listener);
    publisher.subscribe('a', 'first', (message) => {
      if (message !== 'first') throw failure;
    });
    publisher.subscribe('a', 'first', after.listener);
    expect(() => publisher.publish('a', 'one')).toThrow(failure);
    expect(before.seen).toEqual(['first', 'one']);
    expect(after.seen).toEqual(['first', 'one']);
    publisher.subscribe('b', 'first', () => undefined);
    expect(() => publisher.publish('b', 'fine')).not.toThrow();
  });

  it('reports every error in an AggregateError naming the topic and key when several listeners throw', () => {
    const publisher = new KeyedPublisher<string, string>('widget');
    const failures = [new Error('first bug'), new Error('second bug')];
    for (const failure of failures) {
      publisher.subscribe('web.shop', 'first', (message) => {
        if (message !== 'first') throw failure;
      });
    }
    let thrown: unknown;
    try {
      publisher.publish('web.shop', 'boom');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AggregateError);
    expect((thrown as AggregateError).errors).toEqual(failures);
    expect((thrown as AggregateError).message).toBe('2 widget listeners of web.shop threw');
  });

  it('queues what a listener publishes behind the message being delivered, for every subscriber', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const first = recording();
    const second = recording();
    publisher.subscribe('a', 'first', (message) => {
      first.listener(message);
      if (message === 'one') publisher.publish('a', 'caused by one');
    });
    publisher.subscribe('a', 'first', second.listener);
    publisher.publish('a', 'one', 'two');
    expect(first.seen).toEqual(['first', 'one', 'two', 'caused by one']);
    expect(second.seen).toEqual(['first', 'one', 'two', 'caused by one']);
  });

  it('throws from the outer publish an error raised while delivering a queued message', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const failure = new Error('listener bug');
    publisher.subscribe('a', 'first', (message) => {
      if (message === 'one') publisher.publish('b', 'caused by one');
    });
    publisher.subscribe('b', 'first', (message) => {
      if (message === 'caused by one') throw failure;
    });
    expect(() => publisher.publish('a', 'one')).toThrow(failure);
  });

  it('stops delivery to a subscription closed by an earlier listener during the same message', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const late = recording();
    publisher.subscribe('a', 'first', (message) => {
      if (message === 'one') subscription.close();
    });
    const subscription = publisher.subscribe('a', 'first', late.listener);
    publisher.publish('a', 'one', 'two');
    expect(late.seen).toEqual(['first']);
  });

  it('gives a subscriber added during a delivery its first message at once, then only what is published after', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const added = recording();
    publisher.subscribe('a', 'first', (message) => {
      if (message === 'one') {
        publisher.subscribe('a', 'hello', added.listener);
        publisher.publish('a', 'caused by one');
      }
    });
    publisher.publish('a', 'one', 'two');
    expect(added.seen).toEqual(['hello', 'caused by one']);
  });

  it('hands listener errors to onListenerError instead of throwing, and still serves every listener', () => {
    const reported: unknown[] = [];
    const publisher = new KeyedPublisher<string, string>('test', (error) => reported.push(error));
    const watcher = recording();
    publisher.subscribe('a', 'first', (message) => {
      if (message === 'boom') throw new Error('listener failed');
    });
    publisher.subscribe('a', 'first', watcher.listener);
    expect(() => publisher.publish('a', 'boom')).not.toThrow();
    expect(watcher.seen).toEqual(['first', 'boom']);
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('listener failed');
  });

  it('lists the keys that have subscribers now', () => {
    const publisher = new KeyedPublisher<string, string>('test');
    const a = publisher.subscribe('a', 'first', () => undefined);
    publisher.subscribe('b', 'first', () => undefined);
    expect(publisher.keys()).toEqual(['a', 'b']);
    a.close();
    expect(publisher.keys()).toEqual(['b']);
  });
});
