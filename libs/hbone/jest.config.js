module.exports = { ...require('../../jest.preset.js'), displayName: 'hbone', rootDir: __dirname };
