import { expect } from 'chai';
import { loadConfig } from '../lib/config.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { HelmTemplate } from './support/helm-template.js';
import { SERVER_NODE_FLAGS } from '../bench/lib/targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHART = `${ROOT}deploy/helm/holdline`;
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');

// Rendered manifests are deep, loosely typed YAML: indexing them freely keeps the assertions readable.
type Doc = Record<string, any>;
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } };

/** Every variable the server reads, from lib/config.ts (the one place that reads the environment). */
function serverVariables(): string[] {
  return [...new Set([...read('lib/config.ts').matchAll(/(?:int|text|rate|url)\('([A-Z_]+)'/g)].map((m) => m[1]!))].sort();
}

function render(values: Record<string, unknown>): Doc[] {
  return new HelmTemplate(CHART, values).render();
}
const byKind = (docs: Doc[], kind: string): Doc[] => docs.filter((d) => d['kind'] === kind);
const only = (docs: Doc[], kind: string): Doc => {
  const found = byKind(docs, kind);
  expect(found, kind).to.have.length(1);
  return found[0]!;
};
const container = (docs: Doc[]): Doc => only(docs, 'Deployment')['spec']['template']['spec']['containers'][0];
const env = (docs: Doc[]): EnvVar[] => container(docs)['env'] as EnvVar[];
const envNamed = (docs: Doc[], name: string) => env(docs).find((e) => e.name === name);

describe('Helm chart deploy/helm/holdline', () => {
  const minimal = { jwt: { secret: 'x'.repeat(40) } };

  it('renders a Deployment, Service, PodDisruptionBudget and Secret by default, and no autoscaler', () => {
    const docs = render(minimal);
    expect(docs.map((d) => d['kind']).sort()).to.deep.equal(['Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
    for (const d of docs) {
      expect(d['metadata']['name']).to.equal('rel-holdline');
      expect(d['metadata']['labels']).to.include({ 'app.kubernetes.io/instance': 'rel', 'app.kubernetes.io/name': 'holdline' });
    }
    expect(only(docs, 'Service')['spec']['selector']).to.deep.equal(only(docs, 'Deployment')['spec']['selector']['matchLabels']);
    expect(only(docs, 'PodDisruptionBudget')['spec']).to.deep.include({ maxUnavailable: 1 });
    expect(only(docs, 'Deployment')['spec']['replicas']).to.equal(1);
  });

  it('is safe behind its ingress by default: real client addresses, the hold cap on, /metrics off the Service', () => {
    const docs = render(minimal);
    const proxies = envNamed(docs, 'TRUSTED_PROXIES')!.value as string;
    expect(proxies).to.contain('10.0.0.0/8');
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(40), TRUSTED_PROXIES: proxies });
    expect(config.trustedProxies).to.deep.equal({ cidrs: proxies.split(',') });
    // The cap stays at the server's default, never 0 (off).
    expect(envNamed(docs, 'MAX_HELD_PER_ADDRESS')).to.equal(undefined);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40) }).maxHeldPerAddress).to.be.above(0);
    expect(envNamed(docs, 'METRICS_PORT')!.value).to.equal('9090');
    expect(only(docs, 'Deployment')['spec']['template']['metadata']['annotations']['prometheus.io/port']).to.equal('9090');
    expect(only(docs, 'Service')['spec']['ports'].map((p: Doc) => p['targetPort'])).to.deep.equal(['http']);
  });

  it('probes /readyz for readiness and /healthz for liveness on the http port', () => {
    const c = container(render(minimal));
    expect(c['ports']).to.deep.equal([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(c['readinessProbe']['httpGet']).to.deep.equal({ path: '/readyz', port: 'http', scheme: 'HTTP' });
    expect(c['livenessProbe']['httpGet']).to.deep.equal({ path: '/healthz', port: 'http', scheme: 'HTTP' });
  });

  it('runs as non-root with a read-only root filesystem and no privileges', () => {
    const docs = render(minimal);
    const pod = only(docs, 'Deployment')['spec']['template']['spec'];
    expect(pod['securityContext']).to.include({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container(docs)['securityContext']).to.deep.equal({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('gives the pod longer than the preStop pause plus DRAIN_TIMEOUT_MS to stop', () => {
    for (const drain of ['10000', '45000']) {
      const docs = render({ ...minimal, env: { DRAIN_TIMEOUT_MS: drain } });
      const pod = only(docs, 'Deployment')['spec']['template']['spec'];
      expect(pod['terminationGracePeriodSeconds'] * 1000).to.be.above(Number(drain) + 5000);
      expect(container(docs)['lifecycle']['preStop']['exec']['command']).to.deep.equal(['sleep', '5']);
    }
  });

  it('has a value for every variable the server reads, and sets it in the pod', () => {
    const values = parseYaml(read('deploy/helm/holdline/values.yaml')) as Doc;
    const viaOthers = ['JWT_SECRET', 'REDIS_URL', 'TLS_CERT', 'TLS_KEY'];
    for (const name of serverVariables()) {
      if (!viaOthers.includes(name)) expect(values['env'], name).to.have.property(name);
    }
    const filled = Object.fromEntries(Object.keys(values['env']).map((k) => [k, values['env'][k] || 'set']));
    const docs = render({ ...minimal, env: { ...filled, DRAIN_TIMEOUT_MS: '10000', PORT: '8080' }, externalRedis: { url: 'redis://r:6379' }, tls: { secretName: 'certs' } });
    const names = env(docs).map((e) => e.name);
    for (const name of serverVariables()) expect(names, name).to.include(name);
    expect(envNamed(docs, 'HOST')!.value).to.equal('0.0.0.0');
    // An empty value is left unset, so the server's default applies.
    expect(envNamed(render(minimal), 'MAX_EVENTS')).to.equal(undefined);
  });

  it('keeps the JWT secret in a Secret, or uses an existing one', () => {
    const docs = render(minimal);
    expect(only(docs, 'Secret')['stringData']).to.deep.equal({ JWT_SECRET: 'x'.repeat(40) });
    expect(envNamed(docs, 'JWT_SECRET')!.valueFrom!.secretKeyRef).to.deep.equal({ name: 'rel-holdline', key: 'JWT_SECRET' });
    const theirs = render({ jwt: { existingSecret: 'vault-jwt', existingSecretKey: 'hs256' } });
    expect(byKind(theirs, 'Secret')).to.deep.equal([]);
    expect(envNamed(theirs, 'JWT_SECRET')!.valueFrom!.secretKeyRef).to.deep.equal({ name: 'vault-jwt', key: 'hs256' });
    expect(envNamed(render({ env: { JWT_JWKS_URL: 'https://idp/jwks' } }), 'JWT_SECRET')).to.equal(undefined);
  });

  it('refuses development mode and several replicas on the in-memory store', () => {
    expect(() => render({})).to.throw(/never runs holdline in development mode/);
    expect(() => render({ ...minimal, replicaCount: 2 })).to.throw(/needs a shared store/);
    expect(() => render({ ...minimal, autoscaling: { enabled: true } })).to.throw(/needs a shared store/);
  });

  it('scales on Redis: the dependency, an autoscaler, the URL built from the Redis secret', () => {
    const docs = render({ jwt: { existingSecret: 'jwt' }, redis: { enabled: true }, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12 } });
    const hpa = only(docs, 'HorizontalPodAutoscaler');
    expect(hpa['apiVersion']).to.equal('autoscaling/v2');
    expect(hpa['spec']).to.deep.include({ minReplicas: 3, maxReplicas: 12 });
    expect(hpa['spec']['scaleTargetRef']).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'rel-holdline' });
    expect(only(docs, 'Deployment')['spec']).to.not.have.property('replicas');
    const names = env(docs).map((e) => e.name);
    expect(names.indexOf('REDIS_PASSWORD')).to.be.below(names.indexOf('REDIS_URL'));
    expect(envNamed(docs, 'REDIS_PASSWORD')!.valueFrom!.secretKeyRef).to.deep.equal({ name: 'rel-redis', key: 'redis-password' });
    expect(envNamed(docs, 'REDIS_URL')!.value).to.equal('redis://:$(REDIS_PASSWORD)@rel-redis-master:6379');
    const chart = parseYaml(read('deploy/helm/holdline/Chart.yaml')) as Doc;
    expect(chart['dependencies']).to.deep.include.members([{ ...chart['dependencies'][0], name: 'redis', condition: 'redis.enabled' }]);
  });

  it('keeps an external REDIS_URL in the Secret, and serves HTTPS from a TLS secret', () => {
    const docs = render({ ...minimal, externalRedis: { url: 'redis://:pw@redis.example:6379' }, tls: { secretName: 'holdline-tls' } });
    expect(only(docs, 'Secret')['stringData']).to.deep.include({ REDIS_URL: 'redis://:pw@redis.example:6379' });
    expect(envNamed(docs, 'REDIS_URL')!.valueFrom!.secretKeyRef).to.deep.equal({ name: 'rel-holdline', key: 'REDIS_URL' });
    expect(envNamed(docs, 'TLS_CERT')!.value).to.equal('/etc/holdline/tls/tls.crt');
    expect(container(docs)['readinessProbe']['httpGet']['scheme']).to.equal('HTTPS');
    expect(only(docs, 'Deployment')['spec']['template']['spec']['volumes']).to.deep.equal([{ name: 'tls', secret: { secretName: 'holdline-tls' } }]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs production dependencies only in another', () => {
    expect(stages).to.have.length(2);
    expect(stages[0]).to.match(/RUN npm ci\b/).and.match(/RUN npm run build/);
    expect(stages[1]).to.match(/RUN npm ci --omit=dev/).and.match(/COPY --from=build \/app\/dist/);
    expect(stages[1]).to.not.match(/npm run build|COPY (bin|lib|routes)\b/);
  });

  it('copies into the build stage everything npm run build reads', () => {
    const copied = new Set([...stages[0]!.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)));
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const buildScript = /node (\S+\.mjs)/.exec(pkg.scripts['build']!)?.[1];
    expect(buildScript, 'npm run build runs a build script').to.be.a('string');
    const script = read(buildScript!);
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    const needed = [
      buildScript!.split('/')[0]!,
      'tsconfig.json',
      'tsconfig.build.json',
      ...[...script.matchAll(/'(tsconfig\.[\w.]+\.json)'/g)].map((m) => m[1]!),
      ...[...script.matchAll(/join\(root, '(\w+)'/g)].map((m) => m[1]!).filter((dir) => dir !== 'dist'),
      ...build.include.map((glob) => glob.split('/')[0]!),
    ];
    for (const path of new Set(needed)) expect([...copied], path).to.include(path);
  });

  it('runs as a non-root user on 0.0.0.0:8080 with node as PID 1 and a node health check', () => {
    const runtime = stages[1]!;
    expect(runtime).to.match(/^USER (?!root\b|0\b)\S+/m);
    expect(runtime).to.match(/^EXPOSE 8080$/m).and.match(/HOST=0\.0\.0\.0/);
    expect(runtime).to.match(/^HEALTHCHECK .*CMD \["node", "-e", ".*\/healthz/ms);
    expect(runtime).to.match(/^CMD \["node", "--max-semi-space-size=32", "dist\/bin\/holdline\.js", "serve"\]$/m);
  });

  it('runs the server with the V8 flags the bench measures it with, as npm start and the bin do', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; bin: Record<string, string> };
    const shebang = read(pkg.bin['holdline']!).split('\n')[0]!;
    for (const flag of SERVER_NODE_FLAGS) {
      expect(stages[1], 'Dockerfile CMD').to.include(`"${flag}"`);
      expect(pkg.scripts['start'], 'npm start').to.include(` ${flag} `);
      expect(shebang, 'bin shebang').to.equal(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
    }
  });

  it('keeps node_modules, git history and local env files out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.git', 'dist', '.env']) expect(ignored).to.include(entry);
  });
});

describe('docs/OPERATIONS.md', () => {
  it('documents every variable the server reads', () => {
    const doc = read('docs/OPERATIONS.md');
    for (const name of serverVariables()) expect(doc, name).to.include(`\`${name}\``);
  });
});

describe('HelmTemplate (the test renderer)', () => {
  /** A throwaway chart with one template. */
  function chart(template: string, values = 'items: {b: 2, a: 1}\nname: x\n'): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'holdline-chart-'));
    mkdirSync(path.join(dir, 'templates'));
    writeFileSync(path.join(dir, 'Chart.yaml'), 'name: c\nversion: 1.0.0\nappVersion: "2"\n');
    writeFileSync(path.join(dir, 'values.yaml'), values);
    writeFileSync(path.join(dir, 'templates', 't.yaml'), template);
    return dir;
  }
  const dirs: string[] = [];
  const renderText = (template: string) => {
    const dir = chart(template);
    dirs.push(dir);
    return new HelmTemplate(dir).render();
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('trims around {{- -}}, ranges over maps in key order, includes with nindent', () => {
    const docs = renderText(
      '{{- define "l" -}}\nk: {{ .Values.name | quote }}\n{{- end -}}\nlist:\n{{- range $k, $v := .Values.items }}\n  - {{ $k }}={{ $v }}\n{{- end }}\nlabels:\n  {{- include "l" . | nindent 2 }}\nv: {{ .Chart.AppVersion }}\n',
    );
    expect(docs).to.deep.equal([{ list: ['a=1', 'b=2'], labels: { k: 'x' }, v: 2 }]);
  });

  it('refuses template features it does not implement rather than render them wrong', () => {
    expect(() => renderText('{{ with .Values.name }}{{ . }}{{ end }}')).to.throw(/unsupported template action/);
    expect(() => renderText('{{ lookup "v1" "Secret" "" "" }}')).to.throw(/unsupported function/);
  });
});
