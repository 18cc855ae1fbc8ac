/**
 * The service loop's definition as the control-plane stack synthesizes it (its DefinitionString:
 * Fn::Join of strings, Refs and Fn::GetAtts). The local runtime runs a checked-in copy
 * (src/local/service-loop-definition.json) so `npm start` does not synthesize CDK (about 3 s);
 * test/infra/service-scheduler.test.ts fails when the copy differs from what the stack deploys.
 *
 * Regenerate: npx tsx lib/service-loop-definition.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { addBerthStacks } from './berth';

export const SERVICE_LOOP_DEFINITION_FILE = fileURLToPath(new URL('../src/local/service-loop-definition.json', import.meta.url));

/** The DefinitionString of the state machine in a synthesized control-plane stack. */
export function definitionStringOf(template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }): unknown {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return machines[0].Properties.DefinitionString;
}

/** Synthesizes Berth's app (no bundling, no checks: only the template matters here). */
export function synthesizeServiceLoopDefinition(): unknown {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-asl-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const { controlPlane } = addBerthStacks(app, { nag: false });
    const assembly = app.synth();
    return definitionStringOf(assembly.getStackByName((controlPlane as Stack).stackName).template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SERVICE_LOOP_DEFINITION_FILE, `${JSON.stringify(synthesizeServiceLoopDefinition(), null, 2)}\n`);
  console.log(`wrote ${SERVICE_LOOP_DEFINITION_FILE}`);
}
