module.exports = { ...require('../../jest.preset.js'), displayName: 'workload-certs', rootDir: __dirname };
