module.exports = { ...require('../../jest.preset.js'), displayName: 'controlplane', rootDir: __dirname };
