// One jest run over every project, used by `npm test` so the suite reports one set of counts.
// `nx run-many -t test` runs the same per-project configs one project at a time.
const { readdirSync, existsSync } = require('node:fs');
const path = require('node:path');

const projects = [];
for (const group of ['libs', 'apps', 'e2e', 'deploy']) {
  const dir = path.join(__dirname, group);
  if (!existsSync(dir)) continue;
  if (existsSync(path.join(dir, 'jest.config.js'))) projects.push(dir);
  for (const name of readdirSync(dir)) {
    if (existsSync(path.join(dir, name, 'jest.config.js'))) projects.push(path.join(dir, name));
  }
}

module.exports = { projects };
