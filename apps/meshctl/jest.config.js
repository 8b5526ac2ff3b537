module.exports = { ...require('../../jest.preset.js'), displayName: 'meshctl', rootDir: __dirname };
