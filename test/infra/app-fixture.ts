import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations, type PolicyViolation } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface TempAppOptions {
  /**
   * Bundle the Lambda handlers with esbuild. Without, the CDK's `aws:cdk:bundling-stacks` context
   * skips bundling: templates are the same but for asset hashes, and each function saves an esbuild
   * subprocess (about 0.3-0.8 s). @default true
   */
  readonly bundle?: boolean;
  /**
   * Run the CDK's built-in CloudFormation validation (a WASM rules engine) at synth, as `cdk synth`
   * does. Its start-up costs seconds per test process. @default true
   */
  readonly cfnValidate?: boolean;
}

/**
 * An App whose cloud assembly goes to a fresh temp dir (never ./cdk.out); call dispose() after.
 * The stacks suite synthesizes the real app as `cdk synth` does; construct tests switch off what
 * they do not assert (bundling, built-in validation) to stay fast.
 */
export function tempApp(options: TempAppOptions = {}): { app: App; dispose: () => void; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-infra-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.cfnValidate ?? true,
    context: {
      // As the CLI does: resources carry their construct path (aws:cdk:path), which tests select by.
      'aws:cdk:enable-path-metadata': true,
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  return { app, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** `[logicalId, resource]` of every resource of `type` whose construct path contains `pathPart`. */
export function resourcesAt(
  template: Template,
  type: string,
  pathPart: string,
): Array<[string, { Properties: Record<string, any>; DependsOn?: string[] }]> {
  return Object.entries(template.findResources(type)).filter(([, resource]) =>
    String(resource.Metadata?.['aws:cdk:path'] ?? '').includes(pathPart),
  ) as Array<[string, { Properties: Record<string, any>; DependsOn?: string[] }]>;
}

/** The one resource of `type` under `pathPart`; fails when there is not exactly one. */
export function resourceAt(
  template: Template,
  type: string,
  pathPart: string,
): [string, { Properties: Record<string, any>; DependsOn?: string[] }] {
  const found = resourcesAt(template, type, pathPart);
  if (found.length !== 1) throw new Error(`expected one ${type} under '${pathPart}', found ${found.length}`);
  return found[0];
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The IAM statements granted to the role under `pathPart` (its policies' statements, flattened). */
export function statementsAt(template: Template, pathPart: string): Statement[] {
  return resourcesAt(template, 'AWS::IAM::Policy', pathPart).flatMap(
    ([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

/** cdk-nag AwsSolutions findings left after acknowledgements (what would fail `cdk synth`). */
export function nagViolations(scope: IConstruct): PolicyViolation[] {
  return [...new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope).violations];
}

/** Every acknowledged rule under scope: rule id -> reason, from the construct metadata. */
export function acknowledgedRules(scope: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (node: IConstruct): void => {
    for (const entry of node.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data) {
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          found.set(id.replace(/^annotation::/i, ''), reason);
        }
      }
    }
    node.node.children.forEach(visit);
  };
  visit(scope);
  return found;
}

/** Readable form of violations for assertion messages. */
export function describeViolations(violations: readonly PolicyViolation[]): string[] {
  return violations.map(
    (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
  );
}
