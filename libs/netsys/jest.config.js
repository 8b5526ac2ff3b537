module.exports = { ...require('../../jest.preset.js'), displayName: 'netsys', rootDir: __dirname };
