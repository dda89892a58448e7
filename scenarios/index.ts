import type { Scenario } from '../harness/scenario/define.ts';
import disconnectStorm, { disconnectStormFull } from './disconnect-storm.ts';
import halfOpen from './half-open.ts';
import hostile, { hostileCi } from './hostile.ts';
import membershipChurn from './membership-churn.ts';
import messageLoss, { messageLossFull } from './message-loss.ts';
import misbehavingClients, { misbehavingClientsFull } from './misbehaving-clients.ts';
import nodeCrash from './node-crash.ts';
import nodePause from './node-pause.ts';
import presenceRace from './presence-race.ts';
import redisOutage from './redis-outage.ts';
import redisVolatile from './redis-volatile.ts';
import rejoinWhileAway from './rejoin-while-away.ts';
import redisPauseAckRetry from './redis-pause-ack-retry.ts';
import twoRejoinCycles from './two-rejoin-cycles.ts';
import ackBeforeRedisCut from './ack-before-redis-cut.ts';
import slowConsumer, { slowConsumerFull } from './slow-consumer.ts';
import smoke from './smoke.ts';
import soak, { soakFull } from './soak.ts';
// regression scenarios frozen from captured incidents (`imstorm replay … --save-as`, README "Replaying an incident")
import busDropGapFill from './incidents/bus-drop-gap-fill.ts';

/** Every scenario by name, and suites (named lists of scenarios run one after another). */
export const scenarios: ReadonlyMap<string, Scenario> = new Map([smoke, soak, membershipChurn, halfOpen, nodeCrash, nodePause, redisOutage, presenceRace, hostile, hostileCi, messageLoss, messageLossFull, misbehavingClients, misbehavingClientsFull, slowConsumer, slowConsumerFull, redisVolatile, disconnectStorm, disconnectStormFull, soakFull, busDropGapFill, rejoinWhileAway, redisPauseAckRetry, twoRejoinCycles, ackBeforeRedisCut].map((s) => [s.name, s]));

export const suites: ReadonlyMap<string, { description: string; scenarios: string[] }> = new Map([
  ['ci', { description: 'what CI runs on every change', scenarios: ['smoke', 'soak', 'membership-churn', 'half-open', 'node-crash', 'node-pause', 'disconnect-storm', 'redis-outage', 'presence-race', 'hostile-ci', 'message-loss', 'misbehaving-clients', 'slow-consumer', 'redis-volatile', 'bus-drop-gap-fill', 'rejoin-while-away', 'redis-pause-ack-retry', 'two-rejoin-cycles', 'ack-before-redis-cut'] }],
  ['full', { description: 'every scenario at a realistic size (budget: 60 minutes on a 2-core machine)', scenarios: ['smoke', 'soak-full', 'membership-churn', 'half-open', 'node-crash', 'node-pause', 'redis-outage', 'redis-volatile', 'presence-race', 'hostile', 'message-loss-full', 'misbehaving-clients-full', 'slow-consumer-full', 'disconnect-storm-full'] }],
]);
