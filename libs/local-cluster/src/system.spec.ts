import { parseSs } from './system';

describe('parseSs', () => {
  it('reads state and ports of `ss -Htan`, v4 and v6, and skips blank lines', () => {
    const text = [
      'LISTEN     0      511            0.0.0.0:80           0.0.0.0:*',
      'ESTAB      0      0           10.244.1.3:80       10.244.1.2:51234',
      'CLOSE-WAIT 1      0      [::ffff:10.244.1.3]:40000 [::ffff:10.244.1.3]:80',
      'TIME-WAIT  0      0           10.244.1.3:80       10.244.1.2:51230',
      '',
    ].join('\n');
    expect(parseSs(text)).toEqual([
      { state: 'LISTEN', localPort: 80, peerPort: NaN },
      { state: 'ESTAB', localPort: 80, peerPort: 51234 },
      { state: 'CLOSE-WAIT', localPort: 40000, peerPort: 80 },
      { state: 'TIME-WAIT', localPort: 80, peerPort: 51230 },
    ]);
  });
});
