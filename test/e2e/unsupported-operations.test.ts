/**
 * Operations of the ECS model that Berth does not serve answer UnsupportedFeatureException (HTTP 400,
 * a message naming why and pointing at docs/compatibility.md), never UnknownOperationException, and
 * only after the request passed the model's validation. Every such operation is sent with the
 * smallest request its input shape allows; two go through the real ECS SDK to show how a client sees it.
 */
import { ExecuteCommandCommand, ListServicesByNamespaceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import model from '../../src/api/model/ecs-model.json';
import { shapeNamed } from '../../src/api/ecs-model';
import { OPERATIONS } from '../../src/api/operations';
import { startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';

let berth: Harness;
let ecs: ECSClient;
beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
});
afterAll(() => berth?.close());

const operations = model.operations as Record<string, { input?: string }>;
const unserved = Object.keys(operations).filter((operation) => !Object.hasOwn(OPERATIONS, operation));

/** The smallest value a shape accepts: required members only, minimum lengths, the first enum value. */
function minimal(name: string): unknown {
  const shape = shapeNamed(name);
  switch (shape.type) {
    case 'structure':
      return Object.fromEntries((shape.required ?? []).map((member) => [member, minimal(shape.members![member].shape)]));
    case 'list':
      return Array.from({ length: shape.min ?? 0 }, () => minimal(shape.member!.shape));
    case 'map':
      return {};
    case 'string':
      return shape.enum ? shape.enum[0] : 'x'.repeat(Math.max(shape.min ?? 1, 1));
    case 'boolean':
      return false;
    case 'timestamp':
      return 0;
    case 'blob':
      return '';
    default:
      return shape.min ?? 1;
  }
}

describe('operations of the model Berth does not serve', () => {
  it('there are some (and none of them is one Berth serves)', () => {
    expect(unserved.length).toBeGreaterThan(0);
    expect(unserved).toContain('ExecuteCommand');
  });

  it.each(unserved)('%s -> UnsupportedFeatureException, HTTP 400, nothing written', async (operation) => {
    const before = await snapshotTable(berth.tableName);
    const input = operations[operation].input ? minimal(operations[operation].input!) : {};
    const response = await berth.raw(operation, JSON.stringify(input));
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ __type: 'UnsupportedFeatureException', message: expect.stringContaining('docs/compatibility.md') });
    expect(response.json.message).toContain(operation);
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });

  it('a malformed request to one of them gets the validation error first, as from ECS', async () => {
    const response = await berth.raw('ExecuteCommand', '{"cluster": "c", "task": 7, "command": "ls", "interactive": true}');
    expect(response).toMatchObject({ status: 400, json: { __type: 'SerializationException' } });
    const missing = await berth.raw('ExecuteCommand', '{"cluster": "c", "interactive": true}');
    expect(missing).toMatchObject({ status: 400, json: { __type: 'InvalidParameterException' } });
  });

  it('through the ECS SDK: an error named UnsupportedFeatureException that says which AWS service is missing', async () => {
    await expect(
      ecs.send(new ExecuteCommandCommand({ cluster: 'c', task: 't', command: 'ls', interactive: true })),
    ).rejects.toMatchObject({
      name: 'UnsupportedFeatureException',
      message: expect.stringContaining('AWS Systems Manager Session Manager'),
      $metadata: { httpStatusCode: 400 },
    });
    await expect(ecs.send(new ListServicesByNamespaceCommand({ namespace: 'internal' }))).rejects.toMatchObject({
      name: 'UnsupportedFeatureException',
      message: expect.stringContaining('AWS Cloud Map'),
    });
  });

  it('a target naming no operation of the model is still UnknownOperationException', async () => {
    const response = await berth.raw('LaunchRocket', '{}');
    expect(response).toMatchObject({ status: 400, json: { __type: 'UnknownOperationException' } });
  });
});
