import type { Scenario } from '../harness/scenario/define.ts';
import disconnectStorm, { disconnectStormFull } from './disconnect-storm.ts';
import halfOpen from './half-open.ts';
import hostile, { hostileCi } from './hostile.ts';
import membershipChurn from './membership-churn.ts';
import nodeCrash from './node-crash.ts';
import presenceRace from './presence-race.ts';
import redisOutage from './redis-outage.ts';
import smoke from './smoke.ts';
import soak from './soak.ts';

/** Every scenario by name, and suites (named lists of scenarios run one after another). */
export const scenarios: ReadonlyMap<string, Scenario> = new Map([smoke, soak, membershipChurn, halfOpen, nodeCrash, redisOutage, presenceRace, hostile, hostileCi, disconnectStorm, disconnectStormFull].map((s) => [s.name, s]));

export const suites: ReadonlyMap<string, { description: string; scenarios: string[] }> = new Map([
  ['ci', { description: 'what CI runs on every change', scenarios: ['smoke', 'soak', 'membership-churn', 'half-open', 'node-crash', 'redis-outage', 'presence-race', 'hostile-ci', 'disconnect-storm'] }],
]);
