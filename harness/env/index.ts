// harness/env: environments (containers, local, external, auto; target for --target), the server-node and
// redis-server processes, the process registry, and topologies of nodes behind fault proxies.
export { ENV_CHOICES, EnvUnavailableError, UnsupportedControlError } from './environment.ts';
export type { EnvChoice, EnvKind, EnvOptions, Environment, RedisService } from './environment.ts';
export { nothingCanRunMessage, parseEnvChoice, startEnvironment } from './select.ts';
export type { StartEnvironmentOptions } from './select.ts';
export { localUnavailableReason, startLocalEnv } from './local.ts';
export type { LocalEnvOptions } from './local.ts';
export { startExternalEnv } from './external.ts';
export { httpBaseOf, parseTargetFlags, TargetFlagError, MIN_TARGET_SECRET_BYTES } from './target.ts';
export type { TargetAuth, TargetFlags, TargetNode, TargetSpec } from './target.ts';
export { connectTargetEnv } from './target-env.ts';
export { connectRemoteNode, TargetUnreachableError } from './remote-node.ts';
export { runTokenCmd, tokenProblem, tokenSource } from './target-tokens.ts';
export type { TokenSource } from './target-tokens.ts';
export { probeTargets } from './target-probe.ts';
export type { ExternalEnvOptions } from './external.ts';
export {
  chooseImages,
  containersAvailability,
  detectEngine,
  listLabelledContainers,
  reapStaleContainers,
  removeRunContainers,
  startContainersEnv,
  DEFAULT_REDIS_IMAGE,
  DEFAULT_TOXIPROXY_IMAGE,
  LABEL_HARNESS,
  LABEL_HOST,
  LABEL_PID,
  LABEL_ROLE,
  LABEL_RUN,
  LOCAL_REDIS_IMAGE,
  LOCAL_TOXIPROXY_IMAGE,
} from './containers.ts';
export type { ContainersEnvOptions, ContainersEnvironment, EngineCheck, EngineProbeOptions, ImageChoice } from './containers.ts';
export { startTopology } from './topology.ts';
export type { ActiveToxic, ClientLinkPlan, Link, LinkKind, ServerEnv, Topology, TopologyNode, TopologyOptions, ToxicSpec } from './topology.ts';
export { FaultTimeline } from './timeline.ts';
export { startServerNode, REPO_ROOT, SERVER_ENTRY } from './server-node.ts';
export type { LogLine, ServerNodeHandle, ServerNodeOptions } from './server-node.ts';
export { findRedisServer, rawRedisCommand, redisServerVersion, startRedisProcess, RedisNotInstalledError, REDIS_INSTALL_HINT } from './redis-process.ts';
export type { RedisProcessHandle, RedisProcessOptions } from './redis-process.ts';
export { exited, freePort, killAll, leaveSignalsToCaller, liveChildren, onExit, sleep, track, waitUntil } from './procs.ts';
