import { describe, expect, it } from 'vitest';
import { AnswerLog } from '../../harness/attack/answers.ts';
import { check as checkAnswers } from '../../harness/checks/answers.ts';
import { check as checkResidue } from '../../harness/checks/residue.ts';

describe('answers', () => {
  it('passes answers PROTOCOL.md allows for their kind, counting every one', () => {
    const log = new AnswerLog();
    for (let i = 0; i < 5; i++) log.one('protocol-fuzz', 'frame.not-json', 'node-1', '{x', 'error:bad_request');
    log.one('protocol-fuzz', 'frame.mistyped', 'node-1', '{"t":"ack","seq":"x","id":"f1"}', 'error:bad_request#id');
    log.one('bad-tokens', 'token.http', 'node-2', 'alg-none', 'http:401:unauthorized');
    log.tried('upgrade-reset', 12);
    const v = checkAnswers(log.record());
    expect(v).toMatchObject({ guarantee: 'answers', ok: true, checked: 7 });
    expect(v.summary).toBe('ok: 7 answers to 19 bad inputs of 3 attacks compared with PROTOCOL.md');
  });

  it('fails an answer outside the rule, an unknown kind and a missing reply, quoting an input', () => {
    const log = new AnswerLog();
    log.one('protocol-fuzz', 'frame.mistyped', 'node-1', '{"t":"ack","seq":"x","id":"f1"}', 'error:bad_request');
    log.one('protocol-fuzz', 'frame.mistyped', 'node-1', '{"t":"ack","seq":"y","id":"f2"}', 'error:bad_request#id');
    log.one('http-fuzz', 'http.bad-query', 'node-2', 'GET /v1/presence?users=%20', 'http:500:internal');
    log.one('flood', 'flood.unknown-kind', 'node-2', 'x', 'ok#id');
    log.one('history-pipeline', 'flood.history', 'node-1', '{"t":"history","id":"h1"}', 'none');
    const v = checkAnswers(log.record());
    expect(v.ok).toBe(false);
    expect(v.violationCount).toBe(4);
    const messages = v.violations.map((w) => w.message);
    expect(messages).toContainEqual(expect.stringMatching(/^protocol-fuzz: 1 input of kind frame\.mistyped answered error:bad_request, but the answer is error:bad_request#id \(PROTOCOL\.md .*\); e\.g\. on node-1: \{"t":"ack","seq":"x","id":"f1"\}$/));
    expect(messages).toContainEqual(expect.stringMatching(/^http-fuzz: 1 input of kind http\.bad-query answered http:500:internal, but the answer is http:400:bad_request /));
    expect(messages).toContainEqual(expect.stringMatching(/^flood: 1 input of kind flood\.unknown-kind \(no rule for it\) answered ok#id/));
    expect(messages).toContainEqual(expect.stringMatching(/^history-pipeline: 1 input of kind flood\.history answered none, but the answer is page#id or /));
  });
});

describe('residue', () => {
  const base = { at: 1, groupKeysBefore: 0, groupKeysAfter: 30, createdGroups: 10, refusedGroups: 4, refusedMembers: 20 };
  it('passes when refused requests left nothing', () => {
    expect(checkResidue({ ...base, found: [] })).toMatchObject({ guarantee: 'residue', ok: true, checked: 70 });
  });
  it('fails with each key found', () => {
    const v = checkResidue({ ...base, found: ['c:{g:hx1}:m: group hx1 was never created (refused: group.burst by hxs on node-1 answered http:429:rate_limited)'] });
    expect(v).toMatchObject({ ok: false, violationCount: 1 });
    expect(v.violations[0]!.message).toBe('redis: c:{g:hx1}:m: group hx1 was never created (refused: group.burst by hxs on node-1 answered http:429:rate_limited)');
  });
});
