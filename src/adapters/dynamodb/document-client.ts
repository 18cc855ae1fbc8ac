import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    // The marshaller tells a plain object by `value.constructor.name === 'Object'`, which an own
    // member named `constructor` (a docker label key, say) defeats; converting any object as a map keeps
    // such clients' data storable. (Every value Berth stores is plain data: no class instances.)
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/** DynamoDB Local keeps one database per access key + region unless -sharedDb; Berth always uses these. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'berth', secretAccessKey: 'berth' } as const;
export const LOCAL_DYNAMODB_REGION = 'us-east-1';

export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint, region: LOCAL_DYNAMODB_REGION, credentials: LOCAL_CREDENTIALS, signer: LOCAL_SIGNER });
}

/**
 * Signs a request for DynamoDB Local, which reads the Authorization header's credential scope (the
 * access key and region name its database unless -sharedDb) but never checks the signature. The
 * SDK's SigV4 signer hashes every request's body and canonical form and derives the signing key
 * again per request (it builds a new signer each time): 7% of the local runtime's CPU at saturation,
 * for a signature nobody verifies. This one writes the same header with the same scope and a
 * signature of zeros. Local only: a client for AWS keeps the SDK's signer.
 */
export const LOCAL_SIGNER = {
  async sign<R extends { headers: Record<string, string> }>(
    request: R,
    options: { signingDate?: Date; signingRegion?: string; signingService?: string } = {},
  ): Promise<R> {
    const amzDate = (options.signingDate ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const scope = `${amzDate.slice(0, 8)}/${options.signingRegion ?? LOCAL_DYNAMODB_REGION}/${options.signingService ?? 'dynamodb'}/aws4_request`;
    // A copy, as the SDK's signer returns one (a retry signs its attempt's request again).
    const signed: R = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as R, request);
    signed.headers = {
      ...request.headers,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    };
    return signed;
  },
};
