module.exports = { ...require('../../jest.preset.js'), displayName: 'config-source', rootDir: __dirname };
