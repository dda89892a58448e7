// What a device is owed of a conversation, from the store's memberships (server/delivery/cursor.ts
// owedAfter): each membership's (join, left], oldest first, never a seq stored between two.
import { describe, expect, it } from 'vitest';
import { owedAfter } from '../../server/delivery/cursor.ts';
import { NO_EARLIER, type ConvState } from '../../server/store/log.ts';

const st = (o: Partial<ConvState>): ConvState => ({ epoch: 'e', head: 20, trimmed: 0, join: 0, left: -1, earlier: NO_EARLIER, ...o });

describe('owedAfter', () => {
  it('a dm, or a member since its join: from the position (never before the join, never past the head), for good', () => {
    expect(owedAfter(st({}), 7)).toEqual({ from: 7, until: Infinity, more: false });
    expect(owedAfter(st({ join: 9 }), 3)).toEqual({ from: 9, until: Infinity, more: false });
    expect(owedAfter(st({ join: 9 }), 25)).toEqual({ from: 20, until: Infinity, more: false });
  });

  it('never a member: nothing', () => {
    expect(owedAfter(st({ join: -1 }), 0)).toBeNull();
  });

  it('a former member: up to its leave, then nothing', () => {
    expect(owedAfter(st({ join: 2, left: 6 }), 0)).toEqual({ from: 2, until: 6, more: false });
    expect(owedAfter(st({ join: 2, left: 6 }), 4)).toEqual({ from: 4, until: 6, more: false });
    expect(owedAfter(st({ join: 2, left: 6 }), 6)).toBeNull();
  });

  it('memberships (0, 3], (5, 8], (10, …): the first one the position lacks, and that another follows', () => {
    const s = st({ join: 10, earlier: [0, 3, 5, 8] });
    expect(owedAfter(s, 0)).toEqual({ from: 0, until: 3, more: true });
    expect(owedAfter(s, 2)).toEqual({ from: 2, until: 3, more: true });
    // at a leave, or in the stretch after it: the next membership from its join
    expect(owedAfter(s, 3)).toEqual({ from: 5, until: 8, more: true });
    expect(owedAfter(s, 4)).toEqual({ from: 5, until: 8, more: true });
    expect(owedAfter(s, 8)).toEqual({ from: 10, until: Infinity, more: false });
    expect(owedAfter(s, 15)).toEqual({ from: 15, until: Infinity, more: false });
  });

  it('a former member of several memberships: the last one ends it', () => {
    const s = st({ join: 10, left: 12, earlier: [0, 3, 5, 8] });
    expect(owedAfter(s, 6)).toEqual({ from: 6, until: 8, more: true });
    expect(owedAfter(s, 9)).toEqual({ from: 10, until: 12, more: false });
    expect(owedAfter(s, 12)).toBeNull();
  });

  it('a membership with nothing stored in it (joined and left at the same head) owes nothing', () => {
    expect(owedAfter(st({ join: 6, earlier: [4, 4] }), 0)).toEqual({ from: 6, until: Infinity, more: false });
  });
});
