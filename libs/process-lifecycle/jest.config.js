module.exports = { ...require('../../jest.preset.js'), displayName: 'process-lifecycle', rootDir: __dirname };
