// Table tests for the Location Envoy builds for a redirect route (Http::Utility::newUri).

import type { Redirect } from '@weft/mesh-model';
import { redirectResponse } from './redirect-response';
import type { RequestView } from './request-view';

function redirect(fields: Partial<Redirect>): Redirect {
  return { uri: '', authority: '', scheme: '', port: 0, responseCode: 301, ...fields };
}

function request(fields: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', path: '/old?a=1', authority: 'web.example:8080', scheme: 'http', headers: {}, servicePort: 8080, ...fields };
}

describe('redirectResponse', () => {
  const cases: [string, Partial<Redirect>, Partial<RequestView>, string][] = [
    ['nothing set keeps the whole request URL', {}, {}, 'http://web.example:8080/old?a=1'],
    ['uri replaces the path and keeps the query', { uri: '/new' }, {}, 'http://web.example:8080/new?a=1'],
    ['a query in uri replaces the request’s', { uri: '/new?b=2' }, {}, 'http://web.example:8080/new?b=2'],
    ['uri without a leading "/" gets one', { uri: 'new' }, { path: '/old' }, 'http://web.example:8080/new'],
    ['authority replaces host and port as written', { authority: 'other' }, {}, 'http://other/old?a=1'],
    ['port replaces the request port', { port: 9090 }, {}, 'http://web.example:9090/old?a=1'],
    ['port is added to a portless host', { port: 9090 }, { authority: 'web.example' }, 'http://web.example:9090/old?a=1'],
    ['port with authority', { authority: 'other', port: 8443 }, {}, 'http://other:8443/old?a=1'],
    ['scheme change keeps a non-default port', { scheme: 'https' }, {}, 'https://web.example:8080/old?a=1'],
    ['scheme change drops the old default port :80', { scheme: 'https' }, { authority: 'web.example:80' }, 'https://web.example/old?a=1'],
    ['scheme change drops the old default port :443', { scheme: 'http' }, { scheme: 'https', authority: 'web.example:443' }, 'http://web.example/old?a=1'],
    ['same scheme keeps an explicit default port', {}, { authority: 'web.example:80' }, 'http://web.example:80/old?a=1'],
    ['https request kept as https', {}, { scheme: 'https', authority: 'web.example' }, 'https://web.example/old?a=1'],
    ['IPv6 authority: port replaced', { port: 81 }, { authority: '[fd00::1]:8080' }, 'http://[fd00::1]:81/old?a=1'],
    ['IPv6 authority without port kept', { scheme: 'https' }, { authority: '[fd00::1]' }, 'https://[fd00::1]/old?a=1'],
    ['everything at once', { uri: '/x', authority: 'new.example', scheme: 'https', port: 8443 }, {}, 'https://new.example:8443/x?a=1'],
  ];
  it.each(cases)('%s', (_name, r, req, location) => {
    expect(redirectResponse(request(req), redirect(r))).toEqual({ status: 301, location });
  });

  it.each([301, 302, 303, 307, 308])('answers with the configured status %i', (status) => {
    expect(redirectResponse(request(), redirect({ responseCode: status })).status).toBe(status);
  });
});
