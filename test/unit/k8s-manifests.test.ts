// deploy/k8s/, the Kubernetes recipe README "Across machines" documents: every document
// must be valid by the Kubernetes API's schema (kubernetes-models' validators: types,
// enums, required fields; like `kubectl apply` before strict validation, they do not
// reject unknown fields), and the manifests must agree with each other — the Service
// selects the orchestrator pod and targets its control port, the agents dial that Service
// and are as many as the run waits for, and the ConfigMap holds a scenario the harness loads.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { loadScenarioFile } from '../../harness/scenario/load-file.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = path.join(ROOT, 'deploy/k8s');

// apiVersion/kind → the model whose validate() checks it; a kind not listed is an error
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'batch/v1/Job': Job,
};

interface Doc {
  file: string;
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

function parseDocs(file: string, text: string): Doc[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`${file} document ${i + 1}: YAML: ${d.errors[0]!.message}`);
    return { file, ...(d.toJS() as object) } as Doc;
  });
}

/** The schema errors of one document (empty when valid), each naming the field. */
function schemaErrors(doc: Doc): string[] {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${doc.file}: no validator for apiVersion ${doc.apiVersion} kind ${doc.kind} (known: ${Object.keys(MODELS).join(', ')})`];
  const { file: _file, ...body } = doc;
  try {
    new Model(body as never).validate();
    return [];
  } catch (err) {
    return [`${doc.file} ${doc.kind}/${doc.metadata?.name}: ${(err as Error).message}`];
  }
}

const docs = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .flatMap((f) => parseDocs(f, readFileSync(path.join(DIR, f), 'utf8')));

const byName = (kind: string, name: string): Doc => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`deploy/k8s has no ${kind} ${name}`);
  return d;
};
const podSpec = (job: Doc) => (job.spec as { template: { spec: IPodSpec } }).template.spec;
const container = (job: Doc): IContainer => podSpec(job).containers[0]!;
const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
const env = (c: IContainer, name: string) => c.env?.find((e) => e.name === name);

describe('deploy/k8s manifests', () => {
  const agents = byName('Job', 'imstorm-agents');
  const orchestrator = byName('Job', 'imstorm-orchestrator');
  const service = byName('Service', 'imstorm-control');
  const configMap = byName('ConfigMap', 'imstorm-scenario');

  it('are valid by the Kubernetes schema, every document', () => {
    expect(docs.length).toBeGreaterThanOrEqual(4);
    expect(docs.flatMap(schemaErrors)).toEqual([]);
  });

  it('the validator rejects a broken document, naming the field', () => {
    const broken = (edit: (text: string) => string) => parseDocs('agents-job.yaml', edit(readFileSync(path.join(DIR, 'agents-job.yaml'), 'utf8'))).flatMap(schemaErrors);
    expect(broken((t) => t.replace('completionMode: Indexed', 'completionMode: Indexd')).join('\n')).toMatch(/data\/spec\/completionMode must be equal to one of the allowed values/);
    expect(broken((t) => t.replace('completions: 2', 'completions: two')).join('\n')).toMatch(/data\/spec\/completions must be integer/);
    expect(broken((t) => t.replace('- name: agent\n', '- nam: agent\n')).join('\n')).toMatch(/containers\/0 must have required property .?name/);
    expect(schemaErrors({ file: 'x.yaml', apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } })[0]).toMatch(/no validator for apiVersion apps\/v1 kind Deployment/);
  });

  it('the agents are an Indexed Job of as many pods as the run waits for, dialing the Service', () => {
    expect(agents.spec!.completionMode).toBe('Indexed');
    expect(agents.spec!.parallelism).toBe(agents.spec!.completions);
    const run = container(orchestrator).command!;
    expect(run.slice(0, 3)).toEqual(['node', 'bin/imstorm.js', 'run']);
    expect(Number(flag(run, '--agents'))).toBe(agents.spec!.completions);
    expect(container(agents).command!.slice(0, 3)).toEqual(['node', 'bin/imstorm.js', 'agent']);
    const port = (service.spec!.ports as { port: number; targetPort: string }[])[0]!;
    expect(env(container(agents), 'IMSTORM_CONTROL_URL')?.value).toBe(`ws://${service.metadata!.name}:${port.port}/control`);
    // the orchestrator listens on the container port the Service targets, on every interface
    expect(flag(run, '--control-listen')).toBe(`0.0.0.0:${container(orchestrator).ports!.find((p) => p.name === port.targetPort)!.containerPort}`);
    // one token, from one Secret, at both ends
    for (const job of [agents, orchestrator]) expect(env(container(job), 'IMSTORM_CONTROL_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'imstorm-control', key: 'token' });
    // named by their completion index
    expect(env(container(agents), 'JOB_INDEX')?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    expect(env(container(agents), 'IMSTORM_AGENT_NAME')?.value).toBe('agent-$(JOB_INDEX)');
  });

  it('the Service selects the orchestrator pod, and the agents share its node and network', () => {
    const selector = service.spec!.selector as Record<string, string>;
    const podLabels = (orchestrator.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(Object.entries(selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
    const affinity = podSpec(agents).affinity!.podAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!;
    expect(affinity.topologyKey).toBe('kubernetes.io/hostname');
    expect(affinity.labelSelector!.matchLabels).toEqual(selector);
    for (const job of [agents, orchestrator]) {
      expect(podSpec(job).hostNetwork).toBe(true);
      expect(podSpec(job).dnsPolicy).toBe('ClusterFirstWithHostNet'); // so the Service's name resolves
      expect(container(job).image).toBe(container(orchestrator).image);
    }
  });

  describe('the ConfigMap scenario', () => {
    // inside the checkout, as in the image, so that `from 'imstorm'` resolves (.tmp/ is ignored by git)
    const tmp = path.join(ROOT, '.tmp', `k8s-scenario-${process.pid}.ts`);
    afterAll(() => rmSync(tmp, { force: true }));

    it('is mounted where the orchestrator runs it from, and loads as a scenario', async () => {
      const run = container(orchestrator).command!;
      const mount = container(orchestrator).volumeMounts!.find((m) => m.name === podSpec(orchestrator).volumes!.find((v) => v.configMap?.name === configMap.metadata!.name)!.name)!;
      const file = run[3]!;
      expect(path.posix.join(container(orchestrator).workingDir!, file)).toBe(path.posix.join(mount.mountPath, Object.keys(configMap.data!)[0]!));
      mkdirSync(path.dirname(tmp), { recursive: true });
      writeFileSync(tmp, configMap.data![path.posix.basename(file)]!);
      const scenario = await loadScenarioFile(tmp);
      expect(scenario.name).toBe('k8s-smoke');
      expect(scenario.workload.users * scenario.workload.devicesPerUser).toBeGreaterThan(Number(flag(run, '--agents')));
    });
  });
});
