module.exports = { ...require('../../jest.preset.js'), displayName: 'cni-node', rootDir: __dirname };
