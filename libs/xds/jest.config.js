module.exports = { ...require('../../jest.preset.js'), displayName: 'xds', rootDir: __dirname };
