import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_SIGNER } from '../../src/adapters/dynamodb/document-client';

class Request {
  constructor(public headers: Record<string, string>) {}
}

describe('LOCAL_SIGNER (requests to DynamoDB Local, which reads the credential scope but not the signature)', () => {
  it.each([
    { name: 'a table call', service: 'dynamodb', region: 'us-east-1' },
    { name: 'a streams call in another region', service: 'dynamodb', region: 'eu-west-1' },
  ])('$name: the Authorization header names the local access key and the scope', async ({ service, region }) => {
    const request = new Request({ 'content-type': 'application/x-amz-json-1.0' });
    const signed = await LOCAL_SIGNER.sign(request, {
      signingDate: new Date('2026-11-28T00:41:05.123Z'),
      signingRegion: region,
      signingService: service,
    });
    expect(signed.headers).toEqual({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-date': '20261128T004105Z',
      authorization:
        `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20261128/${region}/${service}/aws4_request, ` +
        `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    });
  });

  it('returns a signed copy of the same class and leaves the request as it was (a retry signs its own attempt)', async () => {
    const request = new Request({ host: 'localhost' });
    const signed = await LOCAL_SIGNER.sign(request, { signingDate: new Date(0) });
    expect(signed).not.toBe(request);
    expect(signed).toBeInstanceOf(Request);
    expect(request.headers).toEqual({ host: 'localhost' });
    expect(signed.headers.authorization).toContain('/19700101/us-east-1/dynamodb/aws4_request');
  });
});
