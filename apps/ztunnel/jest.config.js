module.exports = { ...require('../../jest.preset.js'), displayName: 'ztunnel', rootDir: __dirname };
