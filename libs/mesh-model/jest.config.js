module.exports = { ...require('../../jest.preset.js'), displayName: 'mesh-model', rootDir: __dirname };
