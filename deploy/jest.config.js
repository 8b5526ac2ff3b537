// The chart tests render deploy/helm/weft with the helm that tools/install-helm.sh installs (setup.sh runs it).
module.exports = { ...require('../jest.preset.js'), displayName: 'deploy', rootDir: __dirname };
