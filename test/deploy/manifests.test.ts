import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.ts';
import { gatewayConfigSchema } from '../../src/config/schema.ts';

/**
 * The deployment files (deploy/, Dockerfile) checked as far as this machine can without a
 * container runtime or a cluster: every YAML parses, the Kubernetes objects have their required
 * fields and agree with each other and with the gateway's configuration (validated by the
 * gateway's own loader), and every file the Dockerfile and the compose file name exists.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const DEPLOY = join(ROOT, 'deploy');
const KUBERNETES = join(DEPLOY, 'kubernetes');

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `path`, failing the test with the path when it is missing or not an object. */
function tree(value: unknown, ...path: Array<string | number>): Tree {
  let at: unknown = value;
  for (const key of path) at = isTree(at) || Array.isArray(at) ? (at as Record<string | number, unknown>)[key] : undefined;
  assert.ok(isTree(at), `${path.join('.')} is an object`);
  return at;
}

function list(value: unknown, ...path: Array<string | number>): unknown[] {
  const [last, ...rest] = [...path].reverse();
  const at = rest.length === 0 ? value : tree(value, ...rest.reverse());
  const found = isTree(at) ? at[String(last)] : undefined;
  assert.ok(Array.isArray(found), `${path.join('.')} is a list`);
  return found;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name));
}

function readYamlDocuments(file: string): Tree[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  assert.ok(Array.isArray(documents), `${file} holds YAML documents`);
  for (const document of documents) assert.deepEqual(document.errors, [], `${relative(ROOT, file)} parses`);
  return documents.map((document) => document.toJS() as Tree);
}

const API_VERSIONS: Readonly<Record<string, string>> = {
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  PodDisruptionBudget: 'policy/v1',
  Ingress: 'networking.k8s.io/v1',
};

const manifests = yamlFiles(KUBERNETES)
  .filter((file) => !file.endsWith('kustomization.yaml'))
  .flatMap((file) => readYamlDocuments(file).map((object) => ({ file, object })));

function only(kind: string): Tree {
  const found = manifests.filter(({ object }) => object.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/kubernetes`);
  return found[0]!.object;
}

/** The `${VAR}` names a configuration text refers to. */
function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+)(?::-[^}]*)?\}/g)].map((match) => match[1]!))];
}

/**
 * Loads a configuration text as the gateway does (loadConfig, with `env`). The `state` section
 * arrives with shared state: while this gateway's schema does not know it, it is checked to be
 * `{store: redis}` and the rest is validated.
 */
function loadDeployedConfig(text: string, env: Record<string, string>): LoadedConfig {
  const raw = tree(parse(text));
  const knowsState = !gatewayConfigSchema
    .safeParse({ state: raw.state })
    .error?.issues.some((issue) => issue.code === 'unrecognized_keys' && issue.keys.includes('state'));
  if (!knowsState) {
    assert.deepEqual(raw.state, { store: 'redis' });
    delete raw.state;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vlg-deploy-config-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, JSON.stringify(raw));
  return loadConfig({ configPath, env, cwd: dir });
}

/** A Go-style duration ("30s", "1m30s") or nginx's ("300s", "5m") in seconds. */
function seconds(text: string): number {
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+)(h|m|s)/g)) total += Number(value) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'];
  assert.ok(total > 0, `"${text}" is a duration`);
  return total;
}

describe('deployment files', () => {
  it('every YAML file under deploy/ parses', () => {
    const files = yamlFiles(DEPLOY);
    assert.ok(files.length >= 8, `found ${files.length}`);
    for (const file of files) readYamlDocuments(file);
  });

  describe('Kubernetes manifests (deploy/kubernetes)', () => {
    const deployment = only('Deployment');
    const configMap = only('ConfigMap');
    const secret = only('Secret');
    const service = only('Service');
    const budget = only('PodDisruptionBudget');
    const pod = tree(deployment, 'spec', 'template', 'spec');
    const container = tree(list(pod, 'containers')[0]);
    const podLabels = tree(deployment, 'spec', 'template', 'metadata', 'labels');
    const ports = list(container, 'ports').map((port) => tree(port));
    const containerPort = Number(ports[0]!.containerPort);
    const configText = String(tree(configMap, 'data')['config.yaml']);
    const secretEnv = Object.fromEntries(Object.entries(tree(secret, 'stringData')).map(([key, value]) => [key, String(value)]));

    it('each object has its kind, apiVersion, name and spec or data', () => {
      assert.deepEqual([...new Set(manifests.map(({ object }) => String(object.kind)))].sort(), Object.keys(API_VERSIONS).sort());
      for (const { file, object } of manifests) {
        const where = `${relative(ROOT, file)} ${String(object.kind)}`;
        assert.equal(object.apiVersion, API_VERSIONS[String(object.kind)], `${where}: apiVersion`);
        assert.match(String(tree(object, 'metadata').name), /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${where}: metadata.name is a DNS label`);
        assert.ok(isTree(object.spec) || isTree(object.data) || isTree(object.stringData), `${where}: has a spec or data`);
      }
    });

    it('the kustomization lists files that exist, the Secret example excepted', () => {
      const kustomization = readYamlDocuments(join(KUBERNETES, 'kustomization.yaml'))[0]!;
      const resources = list(kustomization, 'resources').map(String);
      for (const resource of resources) assert.ok(existsSync(join(KUBERNETES, resource)), resource);
      assert.ok(!resources.some((resource) => resource.startsWith('secret')), 'real keys are never applied from the repository');
    });

    it('two replicas whose selector, Service and PodDisruptionBudget all match the pod labels', () => {
      assert.equal(tree(deployment, 'spec').replicas, 2);
      for (const [name, selector] of [
        ['Deployment', tree(deployment, 'spec', 'selector', 'matchLabels')],
        ['Service', tree(service, 'spec', 'selector')],
        ['PodDisruptionBudget', tree(budget, 'spec', 'selector', 'matchLabels')],
      ] as const) {
        for (const [key, value] of Object.entries(selector)) assert.equal(podLabels[key], value, `${name} selects ${key}=${String(value)}`);
      }
      assert.equal(tree(budget, 'spec').minAvailable, 1);
    });

    it('probes: readiness on /readyz and liveness on /healthz, on the container port the gateway listens on', () => {
      const portOf = (port: unknown): number =>
        typeof port === 'number' ? port : Number(ports.find((p) => p.name === port)?.containerPort);
      const readiness = tree(container, 'readinessProbe', 'httpGet');
      const liveness = tree(container, 'livenessProbe', 'httpGet');
      assert.equal(readiness.path, '/readyz');
      assert.equal(liveness.path, '/healthz');
      assert.equal(portOf(readiness.port), containerPort);
      assert.equal(portOf(liveness.port), containerPort);
      assert.equal(portOf(tree(list(service, 'spec', 'ports')[0]).targetPort), containerPort, 'the Service sends traffic there');
      assert.equal(loadDeployedConfig(configText, secretEnv).config.server.port, containerPort);
    });

    it('terminationGracePeriodSeconds is longer than the preStop sleep plus server.drainTimeoutMs', () => {
      const preStop = tree(container, 'lifecycle', 'preStop');
      const sleep = isTree(preStop.sleep) ? Number(preStop.sleep.seconds) : Number(list(preStop, 'exec', 'command')[1]);
      assert.deepEqual(isTree(preStop.exec) ? list(preStop, 'exec', 'command')[0] : 'sleep', 'sleep');
      assert.ok(sleep > 0, 'preStop sleeps');
      const drainSeconds = loadDeployedConfig(configText, secretEnv).config.server.drainTimeoutMs / 1000;
      assert.ok(
        Number(pod.terminationGracePeriodSeconds) > sleep + drainSeconds,
        `${String(pod.terminationGracePeriodSeconds)} s > ${sleep} s + ${drainSeconds} s`,
      );
    });

    it('the config comes from the ConfigMap, the keys from the Secret, and the config validates', () => {
      const configVolume = list(pod, 'volumes')
        .map((v) => tree(v))
        .find((v) => isTree(v.configMap));
      assert.ok(configVolume, 'a ConfigMap volume');
      assert.equal(tree(configVolume, 'configMap').name, tree(configMap, 'metadata').name);
      const mount = list(container, 'volumeMounts')
        .map((m) => tree(m))
        .find((m) => m.name === configVolume.name);
      const env = list(container, 'env').map((e) => tree(e));
      assert.equal(env.find((e) => e.name === 'GATEWAY_CONFIG')?.value, `${String(mount?.mountPath)}/config.yaml`);
      assert.equal(tree(list(container, 'envFrom')[0], 'secretRef').name, tree(secret, 'metadata').name);
      for (const name of referencedVariables(configText)) assert.ok(name in secretEnv, `the Secret provides ${name}`);
      const { config } = loadDeployedConfig(configText, secretEnv);
      assert.ok(config.defaultAgent, 'a default agent');
      assert.ok('GATEWAY_API_KEYS' in secretEnv && 'DATABASE_URL' in secretEnv && 'REDIS_URL' in secretEnv);
    });

    it('runs as a non-root user on a read-only root filesystem; the data folder is made inside a writable volume', () => {
      assert.equal(tree(pod, 'securityContext').runAsNonRoot, true);
      assert.equal(tree(container, 'securityContext').readOnlyRootFilesystem, true);
      const emptyDirs = new Set(
        list(pod, 'volumes')
          .map((v) => tree(v))
          .filter((v) => isTree(v.emptyDir))
          .map((v) => v.name),
      );
      const writable = list(container, 'volumeMounts')
        .map((m) => tree(m))
        .filter((m) => emptyDirs.has(m.name))
        .map((m) => String(m.mountPath));
      assert.ok(writable.includes('/tmp'), '/tmp is writable');
      // Not the mount point itself: the gateway sets its data folder's mode, and a mount point is root's.
      const { dataDir } = loadDeployedConfig(configText, secretEnv).config.server;
      assert.ok(writable.includes(dirname(dataDir)), `${dataDir} is made inside a writable volume`);
    });

    it('the Ingress example routes to the Service port by name', () => {
      const backend = tree(list(list(only('Ingress'), 'spec', 'rules')[0], 'http', 'paths')[0], 'backend', 'service');
      assert.equal(backend.name, tree(service, 'metadata').name);
      assert.ok(list(service, 'spec', 'ports').some((port) => tree(port).name === tree(backend, 'port').name));
    });

    it('renders with kubectl kustomize (offline), when kubectl is installed', (t) => {
      const kubectl = spawnSync('kubectl', ['kustomize', KUBERNETES], { encoding: 'utf8', timeout: 30_000 });
      if (kubectl.error) return t.skip('kubectl is not installed');
      assert.equal(kubectl.status, 0, kubectl.stderr);
      assert.deepEqual(
        parseAllDocuments(kubectl.stdout)
          .map((d) => String((d.toJS() as Tree).kind))
          .sort(),
        ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service'],
      );
    });
  });

  describe('Dockerfile', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const lines = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const stages: string[][] = [];
    for (const line of lines) {
      if (line.startsWith('FROM ')) stages.push([line]);
      else stages.at(-1)?.push(line);
    }
    const final = stages.at(-1)!;
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));

    it('is multi-stage, and every file it copies from the context exists and is not .dockerignored', () => {
      assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
      for (const line of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
        for (const source of line.split(/\s+/).slice(1, -1)) {
          assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
          assert.ok(!ignored.includes(source.replace(/\/$/, '')), `${source} is in the build context`);
        }
      }
    });

    it('runs as a non-root user, exec form (signals reach Node.js), with a health check on /healthz', () => {
      assert.ok(
        final.some((line) => /^USER (?!root\b|0\b)\S+/.test(line)),
        'USER is not root',
      );
      assert.ok(final.includes('STOPSIGNAL SIGTERM'));
      const entrypoint = final.find((line) => line.startsWith('ENTRYPOINT '));
      assert.deepEqual(
        JSON.parse(entrypoint!.slice('ENTRYPOINT '.length)),
        ['node', 'bin/voice-llm-gateway.js'],
        'exec form: no shell in between',
      );
      assert.ok(existsSync(join(ROOT, 'bin/voice-llm-gateway.js')));
      assert.match(final.find((line) => line.startsWith('HEALTHCHECK '))!, /CMD \[.*\/healthz/);
      assert.ok(final.includes('EXPOSE 8083'));
    });
  });

  describe('compose file and nginx (deploy/compose.yaml, deploy/nginx)', () => {
    const compose = readYamlDocuments(join(DEPLOY, 'compose.yaml'))[0]!;
    const services = tree(compose, 'services');
    const gateway = tree(services, 'gateway');
    const balancer = tree(services, 'balancer');
    const hostPath = (volume: unknown): [string, string] => {
      const [from, to] = String(volume).split(':');
      return [resolve(DEPLOY, from!), to!];
    };

    it('two gateway replicas, nginx, Redis and PostgreSQL; the build and every mounted file exist', () => {
      assert.deepEqual(Object.keys(services).sort(), ['balancer', 'gateway', 'postgres', 'redis']);
      assert.equal(tree(gateway, 'deploy').replicas, 2);
      assert.match(String(balancer.image), /^nginx:/);
      const build = tree(gateway, 'build');
      assert.ok(existsSync(join(resolve(DEPLOY, String(build.context)), String(build.dockerfile))), 'the Dockerfile');
      for (const service of [gateway, balancer]) {
        for (const volume of list(service, 'volumes')) assert.ok(existsSync(hostPath(volume)[0]), `${String(volume)} exists`);
      }
      const env = tree(gateway, 'environment');
      assert.match(String(env.REDIS_URL), /^redis:\/\/redis:/);
      assert.match(String(env.DATABASE_URL), /^postgres:\/\/.*@postgres:/);
    });

    it("the replicas' config validates, with shared state on, and stop_grace_period covers the drain", () => {
      const configFile = list(gateway, 'volumes')
        .map(hostPath)
        .find(([, to]) => to === tree(gateway, 'environment').GATEWAY_CONFIG)?.[0];
      assert.ok(configFile, 'GATEWAY_CONFIG is the mounted file');
      const text = readFileSync(configFile, 'utf8');
      assert.deepEqual(tree(parse(text), 'state'), { store: 'redis' });
      const env = Object.fromEntries(referencedVariables(text).map((name) => [name, `test-${name}`]));
      const { config } = loadDeployedConfig(text, { ...env, GATEWAY_API_KEYS: 'k1,k2' });
      assert.deepEqual(config.server.apiKeys, ['k1', 'k2']);
      assert.ok(seconds(String(gateway.stop_grace_period)) > config.server.drainTimeoutMs / 1000);
      assert.deepEqual(list(gateway, 'expose'), [String(config.server.port)]);
      const upstream = readFileSync(join(DEPLOY, 'nginx', 'compose.conf'), 'utf8');
      assert.match(upstream, new RegExp(`server gateway:${config.server.port}[ ;]`), 'nginx sends to the port the gateway listens on');
    });

    it('nginx streams answers unbuffered over HTTP/1.1 keep-alive, with a long read timeout', () => {
      const proxy = readFileSync(join(DEPLOY, 'nginx', 'proxy.conf'), 'utf8');
      for (const directive of ['proxy_buffering off;', 'proxy_http_version 1.1;', 'proxy_set_header Connection "";']) {
        assert.ok(proxy.includes(directive), directive);
      }
      assert.ok(seconds(/proxy_read_timeout (\S+);/.exec(proxy)![1]!) >= 120, 'proxy_read_timeout of at least 2 minutes');
      const site = readFileSync(join(DEPLOY, 'nginx', 'compose.conf'), 'utf8');
      assert.match(site, /keepalive \d+;/);
      const included = /include (\S+);/.exec(site)![1];
      const mounted = list(balancer, 'volumes')
        .map(hostPath)
        .find(([, to]) => to === included);
      assert.equal(mounted?.[0], join(DEPLOY, 'nginx', 'proxy.conf'), 'the included file is proxy.conf, mounted there');
    });
  });

  describe('systemd unit (deploy/systemd)', () => {
    const unit = join(DEPLOY, 'systemd', 'voice-llm-gateway.service');
    const text = readFileSync(unit, 'utf8');

    it('stops with SIGTERM and waits longer than the default drain; starts the CLI launcher', () => {
      assert.match(text, /^KillSignal=SIGTERM$/m);
      assert.ok(Number(/^TimeoutStopSec=(\d+)$/m.exec(text)![1]) > 10, 'longer than server.drainTimeoutMs (10 s)');
      const execStart = /^ExecStart=(\S+) (\S+) serve$/m.exec(text);
      assert.ok(execStart, 'ExecStart=<node> <install>/bin/voice-llm-gateway.js serve');
      assert.equal(relative(dirname(dirname(execStart[2]!)), execStart[2]!), join('bin', 'voice-llm-gateway.js'));
    });

    it('passes systemd-analyze verify, when systemd-analyze is installed', (t) => {
      const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 30_000 });
      if (verify.error) return t.skip('systemd-analyze is not installed');
      assert.equal(verify.status, 0, verify.stderr);
      assert.equal(verify.stderr.trim(), '', 'no warnings');
    });
  });
});
