// deploy/kubernetes rendered with the defaults (base/) and with every option
// set (examples/all-options: a namespace, an image, a host name, the
// autoscaler and the ServiceMonitor), each object checked against the
// Kubernetes API schemas with no unknown field (test/fixtures/k8sSchemas.ts),
// and what the objects must say to each other and to the image: probes on
// /healthz and /readyz, an unprivileged read-only container with no
// capabilities, the ConfigMap and Secret mounted where the args read them,
// a grace period above the drain, the ingress-nginx annotations, and every
// selector matching the pods.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { renderKustomization, readObjects, type K8sObject } from '../fixtures/kustomize';
import { schemaProblems } from '../fixtures/k8sSchemas';
import { optionsOf, readContainerfile } from '../fixtures/containerfile';
import { COMMANDS } from '../../src/cli/commands';
import { SESSION_HEADER } from '../../src/core/tunnel/resumeProtocol';

const DEPLOY = path.resolve(__dirname, '..', '..', '..', 'deploy');
const KUBERNETES = path.join(DEPLOY, 'kubernetes');
const SERVER_OPTIONS = COMMANDS.server.options as Record<string, { type: string }>;
const FLAGS = new Set(Object.keys(SERVER_OPTIONS).filter((name) => SERVER_OPTIONS[name].type === 'boolean'));

const defaults = renderKustomization(path.join(KUBERNETES, 'base'));
const allOptions = renderKustomization(path.join(KUBERNETES, 'examples', 'all-options'));

/* eslint-disable @typescript-eslint/no-explicit-any -- the objects are checked against their schemas above; here they are read */
function one(objects: K8sObject[], kind: string): any {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}, found ${found.length}`);
  return found[0];
}

const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();

test('rendered with the defaults and with every option set', () => {
  assert.deepEqual(kinds(defaults), ['ConfigMap', 'Deployment', 'Ingress', 'PodDisruptionBudget', 'Service']);
  assert.deepEqual(kinds(allOptions), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
  assert.ok(
    defaults.every((o) => o.metadata.namespace === undefined),
    'the defaults go to the namespace kubectl is given',
  );
  assert.ok(allOptions.every((o) => o.metadata.namespace === 'wssh'));
  assert.equal(one(defaults, 'Deployment').spec.replicas, 2);
  assert.equal(one(allOptions, 'Deployment').spec.replicas, undefined, 'with the autoscaler, the Deployment sets no replicas');
  assert.equal(one(allOptions, 'Deployment').spec.template.spec.containers[0].image, 'registry.example.com/wssh:0.1.0');
  const ingress = one(allOptions, 'Ingress');
  assert.equal(ingress.spec.rules[0].host, 'gw.example.org');
  assert.deepEqual(ingress.spec.tls[0].hosts, ['gw.example.org']);
});

test('every object is valid by the Kubernetes API schemas, with no field they do not know', async () => {
  const example = readObjects(path.join(KUBERNETES, 'base', 'users-secret.example.yaml'));
  for (const object of [...defaults, ...allOptions, ...example]) {
    assert.deepEqual(await schemaProblems(object), [], `${object.kind}/${object.metadata.name}`);
  }
});

test('the schema check catches a misspelt field, a wrong type and a missing one', async () => {
  const deployment = structuredClone(one(defaults, 'Deployment'));
  const container = deployment.spec.template.spec.containers[0];
  container.securityContext.readOnlyRootFileSystem = true;
  container.ports[0].containerPort = '4567';
  delete deployment.spec.selector;
  const problems = (await schemaProblems(deployment)).join('\n');
  assert.match(problems, /\/spec\/template\/spec\/containers\/0\/securityContext\/readOnlyRootFileSystem: not a field/);
  assert.match(problems, /containerPort must be integer/);
  assert.match(problems, /data\/spec must have required property selector/);
});

test('the Deployment: probes, an unprivileged read-only container without capabilities, resources', () => {
  for (const objects of [defaults, allOptions]) {
    const pod = one(objects, 'Deployment').spec.template.spec;
    const [container] = pod.containers;
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'wssh' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'wssh' });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(pod.automountServiceAccountToken, false, 'the server never talks to the API');
    const security = container.securityContext;
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.deepEqual(security.capabilities.drop, ['ALL']);
    assert.equal(security.capabilities.add, undefined);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory);
  }
});

test('the Deployment: args wssh server has; hosts.yml and users.yml where the ConfigMap and Secret are mounted; the grace above the drain', () => {
  const deployment = one(defaults, 'Deployment');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const args = optionsOf(container.args, FLAGS);
  for (const name of args.keys()) assert.ok(name in SERVER_OPTIONS, `--${name} is not a wssh server option`);
  assert.equal(args.get('wait-for-config'), true);

  const mountOf = (file: string) => container.volumeMounts.find((m: any) => m.mountPath === path.posix.dirname(file));
  const volumeOf = (mount: any) => pod.volumes.find((v: any) => v.name === mount.name);
  const hosts = mountOf(String(args.get('hosts')));
  assert.ok(hosts && hosts.readOnly && !hosts.subPath, 'hosts.yml: a whole-directory mount (a subPath never sees an update)');
  const configMap = one(defaults, 'ConfigMap');
  assert.equal(volumeOf(hosts).configMap.name, configMap.metadata.name);
  assert.ok(path.posix.basename(String(args.get('hosts'))) in configMap.data, 'the ConfigMap has the key the server reads');
  const users = mountOf(String(args.get('users')));
  assert.ok(users && users.readOnly && !users.subPath);
  const secret = readObjects(path.join(KUBERNETES, 'base', 'users-secret.example.yaml'))[0] as any;
  assert.equal(volumeOf(users).secret.secretName, secret.metadata.name);
  assert.ok(path.posix.basename(String(args.get('users'))) in secret.stringData);

  const drainS = Number(args.get('drain'));
  assert.ok(pod.terminationGracePeriodSeconds > drainS, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > --drain ${drainS}`);
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, 'a rollout adds a pod before it drains one');
});

test('the manifests agree with the image: mount paths are its volumes, the port, the user', () => {
  const image = readContainerfile(path.join(DEPLOY, 'Containerfile'));
  const last = Math.max(...image.map((i) => i.stage));
  const of = (name: string) => image.find((i) => i.name === name && i.stage === last)!;
  const pod = one(defaults, 'Deployment').spec.template.spec;
  const [container] = pod.containers;
  assert.deepEqual(container.volumeMounts.map((m: any) => m.mountPath).sort(), of('VOLUME').exec!.slice().sort());
  assert.equal(container.ports[0].containerPort, Number(of('EXPOSE').text));
  assert.equal(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`, of('USER').text);
  const listen = optionsOf(container.args, FLAGS).get('listen');
  assert.equal(listen, optionsOf(of('CMD').exec!, FLAGS).get('listen'));
});

test('the Service, PodDisruptionBudget, autoscaler and ServiceMonitor reach the pods and their port', () => {
  const deployment = one(allOptions, 'Deployment');
  const podLabels = deployment.spec.template.metadata.labels;
  const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  const service = one(allOptions, 'Service');
  assert.ok(matches(service.spec.selector));
  assert.ok(matches(deployment.spec.selector.matchLabels));
  assert.equal(service.spec.ports[0].targetPort, deployment.spec.template.spec.containers[0].ports[0].name);
  const pdb = one(allOptions, 'PodDisruptionBudget');
  assert.ok(matches(pdb.spec.selector.matchLabels));
  assert.equal(pdb.spec.maxUnavailable, 1);
  const hpa = one(allOptions, 'HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  assert.ok(hpa.spec.minReplicas >= 2, 'one pod draining leaves another');
  const monitor = one(allOptions, 'ServiceMonitor');
  assert.ok(Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels[k] === v));
  assert.deepEqual(monitor.spec.endpoints[0], { port: service.spec.ports[0].name, path: '/metrics', interval: '30s' });
});

test('the Ingress: ingress-nginx, WebSocket timeouts above the keepalive, the resume hash on the session header, 503 tried elsewhere', () => {
  const ingress = one(defaults, 'Ingress');
  const service = one(defaults, 'Service');
  const a = ingress.metadata.annotations;
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  const keepaliveS = Number(SERVER_OPTIONS.keepalive && (COMMANDS.server.options.keepalive as { default: string }).default);
  for (const name of ['proxy-read-timeout', 'proxy-send-timeout']) {
    assert.ok(Number(a[`nginx.ingress.kubernetes.io/${name}`]) > 2 * keepaliveS, `${name} outlasts one lost ping`);
  }
  assert.equal(a['nginx.ingress.kubernetes.io/upstream-hash-by'], `$http_${SESSION_HEADER.toLowerCase().replace(/-/g, '_')}`);
  assert.match(a['nginx.ingress.kubernetes.io/proxy-next-upstream'], /\bhttp_503\b/);
  const backend = ingress.spec.rules[0].http.paths[0].backend.service;
  assert.equal(backend.name, service.metadata.name);
  assert.equal(backend.port.name, service.spec.ports[0].name);
});
