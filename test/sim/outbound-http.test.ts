/**
 * The runtime's guard on the handler's requests: only loopback over HTTP, where the emulator
 * listens; anything else is refused before a lookup or a connection.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import http = require('http');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import https = require('https');
import { OutboundHttp } from '../../sim/runtime/outbound-http';

describe('OutboundHttp', () => {
  let restore: () => void;
  beforeEach(() => {
    restore = new OutboundHttp().install();
  });
  afterEach(() => restore());

  test('refuses an HTTPS request, to AWS or anywhere', () => {
    expect(() => https.request('https://events.us-east-1.amazonaws.com/')).toThrow(/refusing an HTTPS request to events.us-east-1.amazonaws.com/);
    expect(() => https.request({ hostname: '127.0.0.1', port: 443 })).toThrow(/refusing an HTTPS request/);
  });

  test('refuses an HTTP request off loopback', () => {
    expect(() => http.request('http://ecs.us-east-1.amazonaws.com/')).toThrow(/refusing a non-loopback request to ecs.us-east-1.amazonaws.com/);
  });

  test('lets an HTTP request to loopback through, and puts both modules back when removed', () => {
    const request = http.request({ hostname: '127.0.0.1', port: 9 });
    request.on('error', () => undefined);
    request.destroy();
    const wrapped = https.request;
    restore();
    expect(https.request).not.toBe(wrapped);
    restore = new OutboundHttp().install();
  });
});
