// The service loop's state machine as the control-plane stack deploys it: its states, its role, who
// may start and wake its executions, cdk-nag, and that the local runtime runs this very definition.
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBerthStacks, type BerthStacks } from '../../lib/berth';
import { ServiceScheduler } from '../../lib/constructs/service-scheduler';
import { SERVICE_LOOP_DEFINITION_FILE } from '../../lib/service-loop-definition';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { resolveDefinition } from '../../src/local/state-machine-runner';
import { describeViolations, nagViolations, resourceAt, statementsAt, tempApp, type Statement } from './app-fixture';

const env = { account: '123456789012', region: 'eu-west-1' };
const SCHEDULER = 'Berth-ControlPlane/Default/ServiceScheduler/';

let fixture: ReturnType<typeof tempApp>;
let stacks: BerthStacks;
let template: Template;
let machineId: string;
let machine: { Properties: Record<string, any> };
let asl: { StartAt: string; States: Record<string, any> };

beforeAll(() => {
  fixture = tempApp({ bundle: false, cfnValidate: false });
  stacks = addBerthStacks(fixture.app, { env, nag: false });
  template = Template.fromStack(stacks.controlPlane);
  [machineId, machine] = resourceAt(template, 'AWS::StepFunctions::StateMachine', SCHEDULER);
  asl = resolveDefinition(machine.Properties.DefinitionString, { partition: 'aws', region: env.region, account: env.account }) as never;
}, 120_000);
afterAll(() => fixture?.dispose());

const functionId = (name: 'ReconcileFunction' | 'ParkFunction') => resourceAt(template, 'AWS::Lambda::Function', `${SCHEDULER}${name}/`)[0];
const localArn = (logicalId: string) => `arn:aws:lambda:${env.region}:${env.account}:function:${logicalId}`;
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe('the service loop definition', () => {
  it('is the one the local runtime runs (src/local/service-loop-definition.json; regenerate: npx tsx lib/service-loop-definition.ts)', () => {
    expect(JSON.parse(readFileSync(SERVICE_LOOP_DEFINITION_FILE, 'utf8'))).toEqual(machine.Properties.DefinitionString);
  });

  it('is a Standard workflow logging every transition (without execution data) and traced', () => {
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('has exactly the loop states: Reconcile, Continue?, Park, HandOver, RetryLater, Done', () => {
    expect(asl.StartAt).toBe('Reconcile');
    expect(Object.keys(asl.States).sort()).toEqual(['Continue?', 'Done', 'HandOver', 'Park', 'Reconcile', 'RetryLater']);
  });

  it('reconciles through the Reconcile function (its output is the next state), retrying, then retrying a minute later', () => {
    expect(asl.States.Reconcile).toMatchObject({
      Type: 'Task',
      Resource: localArn(functionId('ReconcileFunction')),
      Next: 'Continue?',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'RetryLater' }],
    });
    expect(asl.States.Reconcile.Parameters).toBeUndefined();
    expect(asl.States.RetryLater).toEqual(expect.objectContaining({ Type: 'Wait', Seconds: 60, Next: 'Reconcile' }));
  });

  it('ends when the service is gone or a newer generation acts, hands over after 500 passes, else waits', () => {
    expect(asl.States['Continue?']).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Or: [
            { Variable: '$.status', StringEquals: 'gone' },
            { Variable: '$.status', StringEquals: 'superseded' },
          ],
          Next: 'Done',
        },
        { Variable: '$.loops', NumericGreaterThanEquals: 500, Next: 'HandOver' },
      ],
      Default: 'Park',
    });
    expect(asl.States.Done).toEqual({ Type: 'Succeed' });
  });

  it('waits with a task token the Park function stores, timing out at the plan\'s next look; any end of the wait reconciles', () => {
    expect(asl.States.Park).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: localArn(functionId('ParkFunction')),
        Payload: {
          'token.$': '$$.Task.Token',
          'serviceArn.$': '$.Payload.serviceArn',
          'generation.$': '$.Payload.generation',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
      },
      TimeoutSecondsPath: '$.Payload.waitSeconds',
      ResultPath: null,
      Next: 'Reconcile',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'Reconcile' }],
    });
    // No Wait state polls: the only timer is the wait's own timeout (and a failing pass's RetryLater).
    expect(Object.values(asl.States).filter((s) => s.Type === 'Wait')).toHaveLength(1);
  });

  it('hands over by starting itself for the same service, next generation, named <loopName>-g<generation>', () => {
    expect(asl.States.HandOver).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': "States.Format('{}-g{}', $.loopName, States.MathAdd($.generation, 1))",
        Input: { 'serviceArn.$': '$.serviceArn', 'loopName.$': '$.loopName', 'generation.$': 'States.MathAdd($.generation, 1)', loops: 0 },
      },
      Next: 'Done',
      Catch: [
        { ErrorEquals: ['StepFunctions.ExecutionAlreadyExistsException'], ResultPath: null, Next: 'Done' },
        { ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'Park' },
      ],
    });
  });
});

describe('the state machine role', () => {
  const statements = () => statementsAt(template, `${SCHEDULER}StateMachine/`).concat(statementsAt(template, `${SCHEDULER}HandOverPolicy/`));

  it('may invoke exactly its two functions (no version wildcards) and start executions of itself only', () => {
    const invoke = statements().filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
    expect(invoke.map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [functionId('ReconcileFunction'), 'Arn'] },
      { 'Fn::GetAtt': [functionId('ParkFunction'), 'Arn'] },
    ]);
    const start = statements().filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
    expect(start).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } }]);
  });

  it('has "*" only for log delivery and X-Ray, which have no resource-level permissions', () => {
    const wide = statements().filter((s) => JSON.stringify(s.Resource) === '"*"');
    expect(actionsOf(wide).every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    expect(actionsOf(statements()).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('who may start and wake the loop', () => {
  it('the task stream processor: StartExecution and SendTaskSuccess on the state machine, its ARN in the environment', () => {
    const path = 'Berth-ControlPlane/Default/TaskStream/Handler/';
    expect(statementsAt(template, path).filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')))).toEqual([
      { Effect: 'Allow', Action: ['states:StartExecution', 'states:SendTaskSuccess'], Resource: { Ref: machineId } },
    ]);
    const [, fn] = resourceAt(template, 'AWS::Lambda::Function', path);
    expect(fn.Properties.Environment.Variables.BERTH_SERVICE_LOOP_STATE_MACHINE_ARN).toEqual({ Ref: machineId });
  });

  it('no other function (the API writes the service; its stream record starts the loop)', () => {
    for (const path of ['EcsApi/Handler/', 'CapacitySweep/Handler/', 'SpotInterruption/Handler/', 'ServiceScheduler/ReconcileFunction/', 'ServiceScheduler/ParkFunction/']) {
      expect(actionsOf(statementsAt(template, `Berth-ControlPlane/Default/${path}`)).filter((a) => a.startsWith('states:'))).toEqual([]);
    }
  });

  it('the Park function may only update the table\'s items (the loop item), besides its logs and traces', () => {
    const statements = statementsAt(template, `${SCHEDULER}ParkFunction/`).filter((s) => !actionsOf([s]).some((a) => /^(logs|xray):/.test(a)));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/StateTable.*Arn/) }) },
    ]);
  });
});

describe('ServiceScheduler props', () => {
  it.each([
    ['zero', 0],
    ['a fraction', 2.5],
    ['past the history limit', 1501],
  ])('refuses loopsPerExecution %s', (_name, loopsPerExecution) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const state = new BerthStatefulStack(app, 'State', { env });
    expect(() => new ServiceScheduler(new Stack(app, 'Cp', { env }), 'S', { table: state.table, loopsPerExecution })).toThrow(/loopsPerExecution/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding on the service scheduler', () => {
    expect(describeViolations(nagViolations(fixture.app))).toEqual([]);
  });
});
