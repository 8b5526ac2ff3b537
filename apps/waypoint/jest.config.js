module.exports = { ...require('../../jest.preset.js'), displayName: 'waypoint', rootDir: __dirname };
