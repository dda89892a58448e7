import type { Scenario } from '../harness/scenario/define.ts';
import halfOpen from './half-open.ts';
import hostile, { hostileCi } from './hostile.ts';
import membershipChurn from './membership-churn.ts';
import messageLoss, { messageLossFull } from './message-loss.ts';
import misbehavingClients, { misbehavingClientsFull } from './misbehaving-clients.ts';
import nodeCrash from './node-crash.ts';
import nodePause from './node-pause.ts';
import presenceRace from './presence-race.ts';
import redisOutage from './redis-outage.ts';
import slowConsumer, { slowConsumerFull } from './slow-consumer.ts';
import smoke from './smoke.ts';
import soak, { soakFull } from './soak.ts';

/** Every scenario by name, and suites (named lists of scenarios run one after another). */
export const scenarios: ReadonlyMap<string, Scenario> = new Map([smoke, soak, membershipChurn, halfOpen, nodeCrash, nodePause, redisOutage, presenceRace, hostile, hostileCi, messageLoss, messageLossFull, misbehavingClients, misbehavingClientsFull, slowConsumer, slowConsumerFull, soakFull].map((s) => [s.name, s]));

export const suites: ReadonlyMap<string, { description: string; scenarios: string[] }> = new Map([
  ['ci', { description: 'what CI runs on every change', scenarios: ['smoke', 'soak', 'membership-churn', 'half-open', 'node-crash', 'node-pause', 'redis-outage', 'presence-race', 'hostile-ci', 'message-loss', 'misbehaving-clients', 'slow-consumer'] }],
]);
