// Followers of single messages (messageStatusChanged). Every follower of an account's messages
// shares one listener on the account's channel, which hands each change to the followers of
// that message only: an event costs one lookup, not one wake-up per subscriber of the account.
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { StatusChange } from './events.js';

type Follower = (change: StatusChange) => void;

interface FollowedAccount {
  listener: (event: Event) => void;
  byMessage: Map<string, Set<Follower>>;
}

/**
 * `topicOf(accountId)` is the event name the account's status changes are dispatched under on
 * `target`; each follower gets a buffer of `bufferSize` (the oldest change is dropped past it).
 */
export function createMessageFollowers(target: EventTarget, topicOf: (accountId: string) => string, bufferSize: number) {
  const followedAccounts = new Map<string, FollowedAccount>();

  function followAccount(accountId: string): FollowedAccount {
    let account = followedAccounts.get(accountId);
    if (account) return account;
    const byMessage = new Map<string, Set<Follower>>();
    const listener = (event: Event) => {
      const change = (event as CustomEvent<StatusChange>).detail;
      const followers = change && byMessage.get(change.id);
      if (followers) for (const follower of followers) follower(change);
    };
    followedAccounts.set(accountId, (account = { listener, byMessage }));
    target.addEventListener(topicOf(accountId), listener);
    return account;
  }

  function unfollow(accountId: string, account: FollowedAccount, messageId: string, follower: Follower): void {
    const followers = account.byMessage.get(messageId);
    followers?.delete(follower);
    if (followers?.size === 0) account.byMessage.delete(messageId);
    if (account.byMessage.size === 0) {
      followedAccounts.delete(accountId);
      target.removeEventListener(topicOf(accountId), account.listener);
    }
  }

  return (accountId: string, messageId: string): AsyncIterable<StatusChange> =>
    new Repeater<StatusChange>(async (push, stop) => {
      const account = followAccount(accountId);
      let followers = account.byMessage.get(messageId);
      if (!followers) account.byMessage.set(messageId, (followers = new Set()));
      const follower: Follower = (change) => void push(change);
      followers.add(follower);
      await stop;
      unfollow(accountId, account, messageId, follower);
    }, new SlidingBuffer(bufferSize));
}
