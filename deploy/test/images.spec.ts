// The image definitions agree with the chart and the build: one target per component the chart (or the
// controlplane, for waypoints) runs, each starting the component's built entry point.

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { renderChart } from '@weft/testing';

const ROOT = path.resolve(__dirname, '..', '..');
const dockerfile = readFileSync(path.join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');

/** Each final stage (`FROM runtime AS <target>`) with its ENTRYPOINT. */
function targets(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from !== null) current = from[1] === undefined || !/^FROM\s+runtime\s/i.test(line) ? undefined : from[1];
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/.exec(line);
    if (entrypoint !== null && current !== undefined) found.set(current, JSON.parse(entrypoint[1] ?? '[]') as string[]);
  }
  return found;
}

describe('deploy/docker', () => {
  it('has one image target per component, each running its built main.js', () => {
    const stages = targets();
    expect([...stages.keys()].sort()).toEqual(['cni-node', 'controlplane', 'waypoint', 'ztunnel']);
    for (const [component, entrypoint] of stages) {
      expect(entrypoint).toEqual(['node', `/opt/weft/apps/${component}/dist/main.js`]);
      // The build stage builds exactly these projects; the file exists once they are built (npm test builds first).
      expect(existsSync(path.join(ROOT, 'apps', component, 'dist', 'main.js'))).toBe(true);
      expect(dockerfile).toContain(`COPY --from=build /src/apps/${component}/dist ./apps/${component}/dist`);
    }
  });

  it('builds every target under the names the chart pulls', async () => {
    const script = readFileSync(path.join(ROOT, 'deploy', 'docker', 'build-images.sh'), 'utf8');
    const built = /for component in ([a-z\- ]+); do/.exec(script)?.[1]?.split(' ') ?? [];
    expect([...built].sort()).toEqual([...targets().keys()].sort());
    const images = (await renderChart())
      .filter((object) => object.kind === 'Deployment' || object.kind === 'DaemonSet')
      .map((object) => ((object['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image ?? '').replace(/^weft\/|:0\.1\.0$/g, ''));
    for (const component of images) expect(built).toContain(component);
  });
});
