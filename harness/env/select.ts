// Choosing and starting an environment: --env auto|containers|local|external.
// auto: containers when an engine answers and the images are present or pullable, else
// local; when neither can run, one message that says what to install.
import { containersAvailability, startContainersEnv, type ContainersEnvOptions } from './containers.ts';
import { EnvUnavailableError, ENV_CHOICES, type EnvChoice, type Environment } from './environment.ts';
import { startExternalEnv, type ExternalEnvOptions } from './external.ts';
import { localUnavailableReason, startLocalEnv, type LocalEnvOptions } from './local.ts';

export interface StartEnvironmentOptions extends ContainersEnvOptions, LocalEnvOptions, ExternalEnvOptions {
  /** Which provider; default IMSTORM_ENV, else auto. */
  env?: EnvChoice;
}

export function parseEnvChoice(value: string | undefined): EnvChoice {
  const v = (value ?? 'auto').trim();
  if ((ENV_CHOICES as readonly string[]).includes(v)) return v as EnvChoice;
  throw new EnvUnavailableError(`unknown environment "${v}"; choose one of ${ENV_CHOICES.join(', ')}`);
}

/** The message auto gives when neither containers nor local can run. */
export function nothingCanRunMessage(containersReason: string, localReason: string): string {
  return [
    'No environment can run on this machine:',
    `  containers: ${containersReason}`,
    `  local:      ${localReason}`,
    'Install one of them:',
    '  - Docker (Debian/Ubuntu: apt-get install -y docker.io, then start dockerd; macOS: Docker Desktop or colima) for --env containers,',
    '  - redis-server (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) for --env local,',
    'or point REDIS_URL and TOXIPROXY_URL at running services and use --env external.',
  ].join('\n');
}

export async function startEnvironment(opts: StartEnvironmentOptions = {}): Promise<Environment> {
  const log = opts.log ?? (() => {});
  const choice = opts.env ?? parseEnvChoice(process.env.IMSTORM_ENV);
  switch (choice) {
    case 'local':
      return startLocalEnv(opts);
    case 'external':
      return startExternalEnv(opts);
    case 'containers':
      return startContainersEnv(opts);
    case 'auto': {
      const containers = await containersAvailability(opts);
      let containersReason: string;
      if (containers.ok) {
        log(`env auto: Docker ${containers.version} answers and the images are there; using containers`);
        try {
          return await startContainersEnv(opts);
        } catch (err) {
          containersReason = `could not start (${(err as Error).message.split('\n')[0]})`;
          log(`env auto: containers ${containersReason}; trying local`);
        }
      } else {
        containersReason = containers.reason;
        log(`env auto: containers unavailable (${containersReason}); trying local`);
      }
      const localReason = localUnavailableReason(opts);
      if (localReason) throw new EnvUnavailableError(nothingCanRunMessage(containersReason, localReason));
      log('env auto: using local (redis-server + the embedded Toxiproxy-compatible proxy)');
      return startLocalEnv(opts);
    }
  }
}
