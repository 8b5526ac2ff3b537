import { missingPrerequisites, type PrerequisiteProbe } from './prerequisites';

const binaries = { controlplane: '/w/apps/controlplane/dist/main.js', cniNode: '/w/apps/cni-node/dist/main.js', ztunnel: '/w/apps/ztunnel/dist/main.js', waypoint: '/w/apps/waypoint/dist/main.js' };

const probe = (over: Partial<PrerequisiteProbe> = {}): PrerequisiteProbe => ({ platform: 'linux', uid: 0, hasTool: () => true, exists: () => true, ...over });

describe('missingPrerequisites', () => {
  it('is empty when everything is there', () => {
    expect(missingPrerequisites(binaries, probe())).toEqual([]);
  });

  it('names root, the packages to install and the build to run', () => {
    const problems = missingPrerequisites(
      binaries,
      probe({ uid: 1000, hasTool: (tool) => tool !== 'ipset' && tool !== 'ip', exists: (file) => !file.includes('/usr/lib/cni/bridge') && !file.includes('ztunnel') }),
    );
    expect(problems).toEqual([
      expect.stringContaining('needs root'),
      'missing ip, ipset: run bash tools/setup.sh (apt-get install iproute2 ipset)',
      'missing CNI plugins /usr/lib/cni/bridge: run bash tools/setup.sh (apt-get install containernetworking-plugins)',
      'missing /w/apps/ztunnel/dist/main.js: run npx nx run-many -t build',
    ]);
  });

  it('needs Linux', () => {
    expect(missingPrerequisites(binaries, probe({ platform: 'darwin' }))).toEqual(['the local cluster needs Linux (network namespaces)']);
  });
});
