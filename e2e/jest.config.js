// The e2e scenarios need root and the built apps (`npm test` builds first); each file runs its own cluster.
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/scenarios/**/*.spec.ts'],
};
