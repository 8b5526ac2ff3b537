// The routing entry point exports exactly the agreed functions (types are checked by the compiler).

import * as routing from './index';

describe('routing index', () => {
  it('exports exactly the agreed runtime API', () => {
    expect(Object.keys(routing).sort()).toEqual([
      'applyHeaderOperations',
      'decideCors',
      'decideFault',
      'pickDestination',
      'redirectResponse',
      'retryBackoffMs',
      'rewriteRequest',
      'selectRoute',
      'shouldRetry',
    ]);
  });
});
