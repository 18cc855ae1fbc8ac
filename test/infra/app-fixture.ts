import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** An App whose cloud assembly goes to a fresh temp dir (never ./cdk.out); call dispose() after. */
export function tempApp(): { app: App; dispose: () => void } {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-infra-'));
  const app = new App({ outdir });
  return { app, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
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
