// deploy/k8s (kustomize base + production overlay) checked offline: every manifest against the
// published schemas (kubernetes-models, @kubernetes-models/keda, @kubernetes-models/prometheus-operator),
// each kustomization against its folder, and the names and numbers that must agree across manifests
// and with the rest of the repository (relay config, transform.yaml, partition counts).
// The schema validators check types, required fields and enums but allow unknown keys, so the keys
// that matter (probes, resources, references) are read back explicitly below.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../relay/config/index.ts';

const root = join(import.meta.dirname, '..', '..');
const base = join(root, 'deploy/k8s/base');
const overlay = join(root, 'deploy/k8s/overlays/production');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field
type Manifest = any;

const MODELS: Record<string, (m: Manifest) => { validate(): void }> = {
  'apps/v1/Deployment': (m) => new Deployment(m),
  'v1/Service': (m) => new Service(m),
  'v1/ConfigMap': (m) => new ConfigMap(m),
  'policy/v1/PodDisruptionBudget': (m) => new PodDisruptionBudget(m),
  'keda.sh/v1alpha1/ScaledObject': (m) => new ScaledObject(m),
  'monitoring.coreos.com/v1/ServiceMonitor': (m) => new ServiceMonitor(m),
};

const docs = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter((d) => d !== null);
const kustomization = (dir: string) => parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();

const baseManifests = (kustomization(base).resources as string[]).flatMap((f) => docs(join(base, f)));
const key = (m: Manifest) => `${m.kind}/${m.metadata.name}`;

/** JSON merge patch (RFC 7386): what kustomize's patch does to ConfigMap data and to custom resources. */
function merge(target: Manifest, patch: Manifest): Manifest {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = { ...(typeof target === 'object' && target !== null && !Array.isArray(target) ? target : {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** The overlay as kustomize renders it, for the checks that need it (no name hashes, no namespace). */
function renderOverlay(): Manifest[] {
  const k = kustomization(overlay);
  let out: Manifest[] = baseManifests.map((m) => structuredClone(m));
  for (const { path } of k.patches as { path: string }[]) {
    for (const patch of docs(join(overlay, path))) {
      const i = out.findIndex((m) => key(m) === key(patch));
      expect(i, `patch ${path} targets ${key(patch)}`).toBeGreaterThanOrEqual(0);
      out[i] = merge(out[i], patch);
    }
  }
  for (const gen of k.secretGenerator as { name: string; envs: string[] }[]) {
    const data: Record<string, string> = {};
    for (const env of gen.envs)
      for (const line of readFileSync(join(overlay, env), 'utf8').split('\n')) {
        if (line.trim() === '' || line.startsWith('#')) continue;
        const eq = line.indexOf('=');
        data[line.slice(0, eq)] = line.slice(eq + 1);
      }
    out = [...out, { apiVersion: 'v1', kind: 'Secret', metadata: { name: gen.name }, stringData: data }];
  }
  return out;
}

const rendered = renderOverlay();
const find = (kind: string, name: string): Manifest => {
  const m = rendered.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name}`);
  return m;
};
const relay = find('Deployment', 'ferry-relay');
const relayPod = relay.spec.template;
const relayContainer = relayPod.spec.containers.find((c: Manifest) => c.name === 'relay');
const kafkaConfig = find('ConfigMap', 'ferry-kafka').data;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s kustomizations', () => {
  it('the base lists exactly the manifests in its folder', () => {
    expect([...kustomization(base).resources].sort()).toEqual(yamlFiles(base));
  });

  it('the overlay builds on the base and every file it names exists', () => {
    const k = kustomization(overlay);
    expect(k.resources).toEqual(['../../base']);
    const named = [
      ...k.patches.map((p: { path: string }) => p.path),
      ...k.secretGenerator.flatMap((g: { envs: string[] }) => g.envs),
    ].sort();
    expect(named).toEqual(
      readdirSync(overlay)
        .filter((f) => f !== 'kustomization.yaml')
        .sort(),
    );
    // The image name the overlay rewrites is the one the base uses.
    const images = baseManifests
      .filter((m) => m.kind === 'Deployment')
      .flatMap((m) => [...(m.spec.template.spec.initContainers ?? []), ...m.spec.template.spec.containers])
      .map((c: Manifest) => c.image);
    expect(new Set(images)).toEqual(new Set(['ferry:local']));
    expect(k.images.map((i: { name: string }) => i.name)).toEqual(['ferry']);
  });
});

describe('every manifest against its published schema', () => {
  const all = [
    ...(kustomization(base).resources as string[]).flatMap((f) =>
      docs(join(base, f)).map((m) => [`base/${f}`, m]),
    ),
    ...rendered.filter((m) => m.kind !== 'Secret').map((m) => [`rendered overlay`, m]),
  ] as [string, Manifest][];

  it.each(all.map(([f, m]) => [`${f}: ${m.kind} ${m.metadata?.name}`, m] as const))('%s', (_label, m) => {
    const model = MODELS[`${m.apiVersion}/${m.kind}`];
    expect(model, `no model for ${m.apiVersion} ${m.kind}`).toBeDefined();
    expect(() => model?.(m).validate()).not.toThrow();
  });

  it('the validators do catch a broken manifest', () => {
    const broken = structuredClone(relay);
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken).validate()).toThrow(/replicas/);
    const so = structuredClone(find('ScaledObject', 'ferry-relay'));
    delete so.spec.scaleTargetRef.name;
    expect(() => new ScaledObject(so).validate()).toThrow(/name/);
  });
});

describe('the relay on Kubernetes', () => {
  const configMap = find('ConfigMap', 'ferry-relay-config');
  const secret = find('Secret', 'ferry-relay-secrets');
  const env: Record<string, string> = {
    ...kafkaConfig,
    FERRY_INSTANCE_ID: 'ferry-relay-abc12',
    BILLING_API_URL: configMap.data.BILLING_API_URL,
    WAREHOUSE_API_URL: configMap.data.WAREHOUSE_API_URL,
    YARD_API_URL: configMap.data.YARD_API_URL,
    // Stand-ins for what an operator fills in; the overlay ships none. A webhook secret has the
    // Standard Webhooks form (`whsec_` + base64), which the config checks.
    ...Object.fromEntries(
      Object.keys(secret.stringData).map((k) => [
        k,
        k.endsWith('WEBHOOK_SECRET')
          ? `whsec_${btoa(`${k}-0123456789abcdef`)}`
          : `${k.toLowerCase()}-0123456789abcdef`,
      ]),
    ),
  };
  const parsed = parseConfig(configMap.data['relay.yaml'], env);

  it('its config file is valid with the environment the Deployment gives it', () => {
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
    const given = new Set([
      ...relayContainer.env.map((e: { name: string }) => e.name),
      ...Object.keys(kafkaConfig), // envFrom ferry-kafka
    ]);
    for (const name of Object.keys(env)) expect(given).toContain(name);
    const volume = relayPod.spec.volumes.find((v: Manifest) => v.configMap?.name === 'ferry-relay-config');
    const mount = relayContainer.volumeMounts.find((m: Manifest) => m.name === volume.name);
    expect(relayContainer.args).toEqual(['relay', 'run', '--config', `${mount.mountPath}/relay.yaml`]);
  });

  it('ships no secret value: empty ones make the relay refuse to start', () => {
    for (const v of Object.values(secret.stringData)) expect(v).toBe('');
    const empty = parseConfig(configMap.data['relay.yaml'], { ...env, ...secret.stringData });
    expect(empty.ok).toBe(false);
  });

  it('gets SIGKILLed only after its shutdown deadline, with room to commit', () => {
    if (!parsed.ok) throw new Error('config invalid');
    expect(relayPod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      parsed.config.relay.shutdownTimeoutMs + 10_000,
    );
  });

  it('is probed on /readyz and /healthz at its listen port, with resources set', () => {
    if (!parsed.ok) throw new Error('config invalid');
    const port = relayContainer.ports.find((p: Manifest) => p.name === 'http');
    expect(port.containerPort).toBe(parsed.config.listen.port);
    expect(relayContainer.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(relayContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(relayContainer.resources.requests.cpu).toBeDefined();
    expect(relayContainer.resources.requests.memory).toBeDefined();
    expect(relayContainer.resources.limits.memory).toBeDefined();
  });

  it('takes secrets only from the Secret, by keys it has, and config only from ConfigMaps that exist', () => {
    for (const e of relayContainer.env) {
      if (/TOKEN|SECRET/.test(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
      expect(e.value, `${e.name} must not be inline`).toBeUndefined();
      const s = e.valueFrom?.secretKeyRef;
      if (s) expect(Object.keys(find('Secret', s.name).stringData)).toContain(s.key);
      const c = e.valueFrom?.configMapKeyRef;
      if (c) expect(Object.keys(find('ConfigMap', c.name).data)).toContain(c.key);
    }
    for (const d of rendered.filter((m) => m.kind === 'Deployment'))
      for (const c of [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers])
        for (const from of c.envFrom ?? [])
          expect(() => find('ConfigMap', from.configMapRef.name)).not.toThrow();
    for (const v of relayPod.spec.volumes.filter((x: Manifest) => x.configMap))
      for (const item of v.configMap.items ?? [])
        expect(Object.keys(find('ConfigMap', v.configMap.name).data)).toContain(item.key);
  });

  it('every Deployment selects its own pods', () => {
    for (const d of rendered.filter((m) => m.kind === 'Deployment'))
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(
        true,
      );
  });

  it('the Service, PodDisruptionBudget and ServiceMonitor select the relay', () => {
    const service = find('Service', 'ferry-relay');
    expect(matches(service.spec.selector, relayPod.metadata.labels)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const pdb = find('PodDisruptionBudget', 'ferry-relay');
    expect(matches(pdb.spec.selector.matchLabels, relayPod.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
    const monitor = find('ServiceMonitor', 'ferry-relay');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(service.spec.ports.map((p: Manifest) => p.name)).toContain('http');
  });

  it('scales on its own group lag, on the cluster it reads, up to the partition count of its topics', () => {
    if (!parsed.ok) throw new Error('config invalid');
    const so = find('ScaledObject', 'ferry-relay');
    expect(so.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'ferry-relay',
    });
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe('kafka');
    expect(trigger.metadata.consumerGroup).toBe(parsed.config.kafka.groupId);
    expect(trigger.metadata.bootstrapServers).toBe(kafkaConfig.KAFKA_BROKERS);
    expect(trigger.metadata.allowIdleConsumers).toBe('false');
    // Partitions of the clean topics: the deploy script's default, the same as Debezium's cdc topics.
    const script = readFileSync(join(root, 'deploy/redpanda/deploy-transforms.sh'), 'utf8');
    const partitions = Number(/partitions=\$\{PARTITIONS:-(\d+)\}/.exec(script)?.[1]);
    const connector = JSON.parse(readFileSync(join(root, 'deploy/debezium/supply-chain.json'), 'utf8'));
    expect(partitions).toBe(Number(connector['topic.creation.default.partitions']));
    expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const topics = parsed.config.relay.routes.flatMap((r) => r.topics);
    for (const t of topics) expect(t).toMatch(/^clean\./);
  });
});

describe('the portable transform runner on Kubernetes', () => {
  it.each(['shipments', 'trailers', 'loads'])('runs %s with the topics of its transform.yaml', (t) => {
    const cfg = parse(readFileSync(join(root, 'transforms', t, 'transform.yaml'), 'utf8'));
    const d = find('Deployment', `ferry-transform-${t}`);
    const [runner] = d.spec.template.spec.containers;
    const [build] = d.spec.template.spec.initContainers;
    const args: string[] = runner.args;
    const flagValue = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.slice(0, 2)).toEqual(['transform', 'run']);
    expect(flagValue('--input-topic')).toBe(cfg['input-topic']);
    const outputs = args.flatMap((a, i) => (a === '--output-topic' ? [args[i + 1]] : []));
    expect(outputs).toEqual(cfg['output-topics']);
    expect(flagValue('--bootstrap-server')).toBe('$(KAFKA_BROKERS)');
    expect(runner.envFrom).toEqual([{ configMapRef: { name: 'ferry-kafka' } }]);
    // The init container builds the module into the volume the runner reads it from.
    expect(build.args).toEqual(['transform', 'build', t, '--out-dir', '/wasm']);
    const wasmMount = runner.volumeMounts.find((m: Manifest) => m.name === 'wasm');
    expect(flagValue('--module')).toBe(`${wasmMount.mountPath}/${t}.wasm`);
    expect(build.volumeMounts.find((m: Manifest) => m.name === 'wasm').mountPath).toBe(wasmMount.mountPath);
    expect(runner.resources.limits.memory).toBeDefined();
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(0);
  });
});
