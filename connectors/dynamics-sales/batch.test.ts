/** $batch bodies: what the connector sends and how it reads Dataverse's multipart answers. */
import { boundaryOf, decodeBatchResponse, encodeBatch, splitMessages } from './batch';

describe('encodeBatch', () => {
  it('writes one application/http part per request, with CRLF and the closing boundary', () => {
    const body = encodeBatch('batch_1', [
      { method: 'GET', url: '/api/data/v9.2/accounts(1)?$select=name', headers: { Accept: 'application/json' } },
      {
        method: 'PATCH',
        url: '/api/data/v9.2/accounts(2)',
        headers: { 'If-Match': 'W/"7"' },
        body: { name: 'Fabrikam' },
      },
    ]);
    expect(body).toBe(
      [
        '--batch_1',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        'GET /api/data/v9.2/accounts(1)?$select=name HTTP/1.1',
        'Accept: application/json',
        '',
        '',
        '--batch_1',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        'PATCH /api/data/v9.2/accounts(2) HTTP/1.1',
        'Content-Type: application/json',
        'If-Match: W/"7"',
        '',
        '{"name":"Fabrikam"}',
        '--batch_1--',
        '',
      ].join('\r\n'),
    );
    expect(
      splitMessages('batch_1', body).map((message) => [message.start, message.headers['if-match'], message.body]),
    ).toEqual([
      ['GET /api/data/v9.2/accounts(1)?$select=name HTTP/1.1', undefined, ''],
      ['PATCH /api/data/v9.2/accounts(2) HTTP/1.1', 'W/"7"', '{"name":"Fabrikam"}'],
    ]);
  });
});

describe('decodeBatchResponse', () => {
  it('reads each answer in order: status, headers, JSON body', () => {
    const contentType = 'multipart/mixed; boundary=batchresponse_a1';
    expect(boundaryOf(contentType)).toBe('batchresponse_a1');
    const text = [
      '--batchresponse_a1',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 200 OK',
      'Content-Type: application/json; odata.metadata=minimal',
      '',
      '{"accountid":"1","name":"Fabrikam"}',
      '--batchresponse_a1',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 412 Precondition Failed',
      'Content-Type: application/json; odata.metadata=minimal',
      '',
      '{"error":{"code":"0x80060882","message":"stale"}}',
      '--batchresponse_a1--',
      '',
    ].join('\r\n');
    expect(decodeBatchResponse(contentType, text)).toEqual([
      {
        status: 200,
        headers: { 'content-type': 'application/json; odata.metadata=minimal' },
        body: { accountid: '1', name: 'Fabrikam' },
      },
      {
        status: 412,
        headers: { 'content-type': 'application/json; odata.metadata=minimal' },
        body: { error: { code: '0x80060882', message: 'stale' } },
      },
    ]);
    expect(decodeBatchResponse('application/json', text)).toEqual([]);
  });
});
