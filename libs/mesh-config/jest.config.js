module.exports = { ...require('../../jest.preset.js'), displayName: 'mesh-config', rootDir: __dirname };
